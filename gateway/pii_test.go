package gateway_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"

	"github.com/custos-gateway/custos/gateway/config"
	"github.com/custos-gateway/custos/gateway/providertest"
)

const piiPrompt = "Please draft a letter for patient Maria Garcia (MRN 00412345), email maria.garcia@example.com."

// The provider sees placeholders and masks, never the values; the hospital
// tenant's policy restores the pseudonyms in the answer, streamed or not.
func TestPIIIsRedactedBeforeTheProviderAndRestoredAfter(t *testing.T) {
	h := startGateway(t, nil)
	const reply = "Dear [PERSON_1], your record [MEDICAL_RECORD_NUMBER_1] is ready."
	const restored = "Dear Maria Garcia, your record 00412345 is ready."
	h.Sim.Script(providertest.Behaviour{Reply: reply}, providertest.Behaviour{Reply: reply, ChunkBytes: 3})
	client := sdkClient(h, appKey)
	msgs := []openai.ChatCompletionMessageParamUnion{openai.UserMessage(piiPrompt)}

	resp, err := client.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{Model: testModel, Messages: msgs})
	if err != nil {
		t.Fatal(err)
	}
	if got := resp.Choices[0].Message.Content; got != restored {
		t.Errorf("answer = %q, want the pseudonyms restored: %q", got, restored)
	}
	stream := client.Chat.Completions.NewStreaming(context.Background(), openai.ChatCompletionNewParams{Model: testModel, Messages: msgs})
	var b strings.Builder
	for stream.Next() {
		if c := stream.Current(); len(c.Choices) > 0 {
			b.WriteString(c.Choices[0].Delta.Content)
		}
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	if b.String() != restored {
		t.Errorf("streamed answer (3-byte chunks) = %q, want %q", b.String(), restored)
	}

	for i, r := range h.Sim.Received() {
		body := string(r.Body)
		for _, v := range []string{"Maria Garcia", "00412345", "maria.garcia@"} {
			if strings.Contains(body, v) {
				t.Errorf("request %d: the provider saw %q", i, v)
			}
		}
		// The hospital's policy: PHI pseudonymized, e-mail masked.
		if !strings.Contains(body, "[PERSON_1]") || !strings.Contains(body, "[MEDICAL_RECORD_NUMBER_1]") || !strings.Contains(body, "@example.com") {
			t.Errorf("request %d body = %s", i, body)
		}
	}
	for _, rec := range h.records(t) {
		if rec.Kind == "outcome" && (rec.PII["PERSON"].Count != 1 || rec.PII["PERSON"].Action != "pseudonymize" || rec.PII["EMAIL"].Action != "mask") {
			t.Errorf("audit PII = %+v", rec.PII)
		}
	}
}

func TestCardNumberIsRefusedNeverForwarded(t *testing.T) {
	h := startGateway(t, nil)
	resp := h.post(t, "/v1/chat/completions", "application/json", appKey,
		`{"model":"gpt-4o-mini","messages":[{"role":"user","content":"charge my card 4111 1111 1111 1111"}]}`)
	if resp.StatusCode != 403 {
		t.Fatalf("status %d, want 403", resp.StatusCode)
	}
	body, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(body), `"code":"pii_blocked"`) || strings.Contains(string(body), "4111") {
		t.Errorf("body = %s", body)
	}
	if h.Sim.Requests() != 0 {
		t.Errorf("the provider saw %d requests", h.Sim.Requests())
	}
}

// An image the gateway cannot read is refused by the starter policy.
func TestUninspectableContentIsRefused(t *testing.T) {
	h := startGateway(t, nil)
	resp := h.post(t, "/v1/chat/completions", "application/json", appKey,
		`{"model":"gpt-4o-mini","messages":[{"role":"user","content":[{"type":"text","text":"what is this?"},{"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA"}}]}]}`)
	if resp.StatusCode != 403 {
		t.Fatalf("status %d, want 403", resp.StatusCode)
	}
	if _, code := openAIError(t, resp); code != "uninspectable_content" {
		t.Errorf("code %s", code)
	}
	if h.Sim.Requests() != 0 {
		t.Errorf("the provider saw %d requests", h.Sim.Requests())
	}
}

// Streamed tool call arguments get their pseudonyms back even when a
// placeholder is split across argument fragments.
func TestToolCallArgumentsRestoredInStreams(t *testing.T) {
	h := startGateway(t, nil)
	args := `{"patient":"[PERSON_1]","mrn":"[MEDICAL_RECORD_NUMBER_1]"}`
	h.Sim.Script(providertest.Behaviour{ToolCall: &providertest.ToolCall{ID: "c1", Name: "open_chart", Arguments: args}})
	client := sdkClient(h, appKey)
	stream := client.Chat.Completions.NewStreaming(context.Background(), openai.ChatCompletionNewParams{
		Model:    testModel,
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage(piiPrompt)},
		Tools:    []openai.ChatCompletionToolUnionParam{weatherTool},
	})
	var acc openai.ChatCompletionAccumulator
	for stream.Next() {
		acc.AddChunk(stream.Current())
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	got := acc.Choices[0].Message.ToolCalls
	if len(got) != 1 || !sameJSON(got[0].Function.Arguments, `{"patient":"Maria Garcia","mrn":"00412345"}`) {
		t.Errorf("tool call arguments = %+v", got)
	}
}

// A catalog model named like a person is the deployment's configuration,
// not the caller's data: a prompt naming that person has the name
// pseudonymized, the model is forwarded as it is, and the audit record
// counts the prompt's names only (before, the model was scanned as well: it
// counted as a third person and took the first pseudonym).
func TestCatalogModelIsNotRedacted(t *testing.T) {
	src := shippedPolicyWith(t, func(stMarys map[string]any) {
		stMarys["models"] = append(stMarys["models"].([]any), "claude")
	})
	h := startGatewayWithPolicy(t, func(c *config.Config) { c.Endpoints[0].Models = append(c.Endpoints[0].Models, "claude") }, src)
	// A tool call's arguments are the caller's data, "model" member or not.
	body := `{"model":"claude","messages":[{"role":"user","content":"Please write to Dr. Claude Martin about his patient, Claude."},` +
		`{"role":"assistant","tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{\"model\":\"claude\"}"}}]},` +
		`{"role":"tool","tool_call_id":"c1","content":"done"}]}`
	resp := h.post(t, "/v1/chat/completions", "application/json", appKey, body)
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	got := h.Sim.Received()
	if len(got) != 1 {
		t.Fatalf("provider received %d requests", len(got))
	}
	sent := string(got[0].Body)
	if !strings.Contains(sent, `"model":"claude"`) || !strings.Contains(sent, "Dr. [PERSON_1] about") || strings.Contains(sent, "Martin") ||
		strings.Contains(sent, `\"model\":\"claude\"`) {
		t.Errorf("provider was sent %s", sent)
	}
	for _, rec := range h.records(t) {
		if rec.Kind == "outcome" && rec.PII["PERSON"].Count != 3 { // two in the prompt, one in the arguments, none in the model
			t.Errorf("audit PII = %+v", rec.PII)
		}
	}
}
