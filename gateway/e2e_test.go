package gateway_test

import (
	"context"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/custos-gateway/custos/gateway/providertest"
)

func sdkClient(h *harness, key string) openai.Client {
	return openai.NewClient(option.WithBaseURL(h.URL+"/"), option.WithAPIKey(key), option.WithMaxRetries(0))
}

func TestOpenAISDKNonStreaming(t *testing.T) {
	h := startGateway(t, nil)
	const reply = "The discharge summary is ready for review."
	h.Sim.Script(providertest.Behaviour{Reply: reply})

	client := sdkClient(h, appKey)
	resp, err := client.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{
		Model:    testModel,
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Summarise the visit.")},
		Seed:     openai.Int(7), // a field Custos does not inspect: must pass through untouched
	})
	if err != nil {
		t.Fatalf("completion: %v", err)
	}
	if got := resp.Choices[0].Message.Content; got != reply {
		t.Errorf("content = %q, want %q", got, reply)
	}
	wantPrompt, wantCompletion := providertest.Usage(len(providertest.ReplyChunks(reply)))
	if resp.Usage.PromptTokens != int64(wantPrompt) || resp.Usage.CompletionTokens != int64(wantCompletion) {
		t.Errorf("usage = %d/%d, want %d/%d", resp.Usage.PromptTokens, resp.Usage.CompletionTokens, wantPrompt, wantCompletion)
	}
	got := h.Sim.Received()
	if len(got) != 1 {
		t.Fatalf("simulator saw %d requests, want 1", len(got))
	}
	if !strings.Contains(string(got[0].Body), `"seed":7`) {
		t.Errorf("unknown field not passed through: %s", got[0].Body)
	}
	if auth := got[0].Authorization; auth != "" {
		t.Errorf("keyless endpoint received Authorization %q: the app key must never be forwarded", auth)
	}
}

func TestOpenAISDKStreaming(t *testing.T) {
	for _, includeUsage := range []bool{true, false} {
		name := "without_include_usage"
		if includeUsage {
			name = "with_include_usage"
		}
		t.Run(name, func(t *testing.T) {
			h := startGateway(t, nil)
			const reply = "Blood pressure is within the normal range today."
			h.Sim.Script(providertest.Behaviour{Reply: reply})
			client := sdkClient(h, appKey)
			params := openai.ChatCompletionNewParams{
				Model:    testModel,
				Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("How is the patient?")},
			}
			if includeUsage {
				params.StreamOptions = openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}
			}
			stream := client.Chat.Completions.NewStreaming(context.Background(), params)
			var deltas []string
			var usageChunks int
			var acc openai.ChatCompletionAccumulator
			for stream.Next() {
				chunk := stream.Current()
				acc.AddChunk(chunk)
				if len(chunk.Choices) > 0 && chunk.Choices[0].Delta.Content != "" {
					deltas = append(deltas, chunk.Choices[0].Delta.Content)
				}
				if chunk.Usage.TotalTokens > 0 {
					usageChunks++
				}
			}
			if err := stream.Err(); err != nil {
				t.Fatalf("stream: %v", err)
			}
			want := providertest.ReplyChunks(reply)
			if strings.Join(deltas, "|") != strings.Join(want, "|") {
				t.Errorf("chunks in order = %q, want %q", deltas, want)
			}
			if acc.Choices[0].Message.Content != reply {
				t.Errorf("accumulated content = %q, want %q", acc.Choices[0].Message.Content, reply)
			}
			if acc.Choices[0].FinishReason != "stop" {
				t.Errorf("finish reason = %q, want stop", acc.Choices[0].FinishReason)
			}
			wantPrompt, wantCompletion := providertest.Usage(len(want))
			if includeUsage {
				if usageChunks != 1 || acc.Usage.PromptTokens != int64(wantPrompt) || acc.Usage.CompletionTokens != int64(wantCompletion) {
					t.Errorf("usage chunks=%d usage=%d/%d, want 1 chunk with %d/%d",
						usageChunks, acc.Usage.PromptTokens, acc.Usage.CompletionTokens, wantPrompt, wantCompletion)
				}
			} else if usageChunks != 0 {
				t.Errorf("caller did not ask for usage but got %d usage chunks", usageChunks)
			}
			// Either way the gateway accounted the provider's token counts.
			if !strings.Contains(h.waitForRequestLogs(t, 1), `"completion_tokens":`) {
				t.Errorf("gateway did not account usage; logs:\n%s", h.Logs)
			}
		})
	}
}
