package responses_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	sdk "github.com/openai/openai-go/v3/responses"

	"github.com/custos-gateway/custos/gateway/anthropic"
	"github.com/custos-gateway/custos/gateway/responses"
)

// streamCase is a testdata/stream input: the request and the chat chunk
// payloads its endpoint streamed ("[DONE]" last).
type streamCase struct {
	Request json.RawMessage   `json:"request"`
	Chunks  []json.RawMessage `json:"chunks"`
}

func (c *streamCase) payloads() [][]byte {
	out := make([][]byte, len(c.Chunks))
	for i, ch := range c.Chunks {
		var s string
		if json.Unmarshal(ch, &s) == nil {
			out[i] = []byte(s)
		} else {
			out[i] = ch
		}
	}
	return out
}

func convert(t *testing.T, req *responses.Request, payloads [][]byte) []responses.Event {
	t.Helper()
	conv := &responses.StreamFromChat{Req: req, ID: "resp_test2", Created: 1700000000}
	var evs []responses.Event
	for _, p := range payloads {
		evs = append(evs, conv.Chunk(p)...)
	}
	return evs
}

func sseText(evs []responses.Event) []byte {
	var b bytes.Buffer
	for _, e := range evs {
		b.WriteString("event: " + e.Name + "\ndata: ")
		b.Write(e.Data)
		b.WriteString("\n\n")
	}
	return b.Bytes()
}

func TestStreamFromChatGolden(t *testing.T) {
	for _, in := range inputs(t, "testdata/stream") {
		name := strings.TrimSuffix(in, ".json")
		t.Run(name, func(t *testing.T) {
			var c streamCase
			readCase(t, in, &c)
			req, err := fromDoc(t, string(c.Request))
			if err != nil {
				t.Fatal(err)
			}
			evs := convert(t, req, c.payloads())
			golden(t, name+".golden.sse", sseText(evs))
			checkStream(t, evs)
		})
	}
}

// checkStream checks a stream's invariants with the OpenAI Go SDK's event
// types: names match types, sequence numbers count from 0, the lifecycle
// events open and close it, every item is added before its deltas and done
// after them, the deltas add up to the done texts and to the final
// response's, and the final event carries usage.
func checkStream(t *testing.T, evs []responses.Event) sdk.Response {
	t.Helper()
	if len(evs) < 3 || evs[0].Name != "response.created" || evs[1].Name != "response.in_progress" {
		t.Fatalf("stream does not open with created, in_progress: %d events", len(evs))
	}
	texts := map[string]*strings.Builder{}
	open := map[string]bool{}
	var final sdk.Response
	for i, e := range evs {
		var u sdk.ResponseStreamEventUnion
		if err := json.Unmarshal(e.Data, &u); err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		if u.Type != e.Name || u.SequenceNumber != int64(i) {
			t.Fatalf("event %d: type %q name %q sequence %d", i, u.Type, e.Name, u.SequenceNumber)
		}
		key := u.ItemID + "/" + itoa(u.ContentIndex)
		switch ev := u.AsAny().(type) {
		case sdk.ResponseOutputItemAddedEvent:
			open[ev.Item.ID] = true
		case sdk.ResponseOutputItemDoneEvent:
			if !open[ev.Item.ID] {
				t.Errorf("item %s done but never added", ev.Item.ID)
			}
			open[ev.Item.ID] = false
		case sdk.ResponseTextDeltaEvent, sdk.ResponseRefusalDeltaEvent, sdk.ResponseFunctionCallArgumentsDeltaEvent:
			if !open[u.ItemID] {
				t.Errorf("event %d: delta for an item not open", i)
			}
			if texts[key] == nil {
				texts[key] = &strings.Builder{}
			}
			texts[key].WriteString(u.Delta)
		case sdk.ResponseTextDoneEvent:
			checkDone(t, texts, key, ev.Text)
		case sdk.ResponseRefusalDoneEvent:
			checkDone(t, texts, key, ev.Refusal)
		case sdk.ResponseFunctionCallArgumentsDoneEvent:
			checkDone(t, texts, key, ev.Arguments)
		case sdk.ResponseCompletedEvent:
			final = ev.Response
		case sdk.ResponseIncompleteEvent:
			final = ev.Response
		}
	}
	last := evs[len(evs)-1].Name
	if last != "response.completed" && last != "response.incomplete" {
		t.Fatalf("stream ends with %s", last)
	}
	if final.Usage.TotalTokens == 0 {
		t.Error("final response carries no usage")
	}
	return final
}

func checkDone(t *testing.T, texts map[string]*strings.Builder, key, whole string) {
	t.Helper()
	got := ""
	if b := texts[key]; b != nil {
		got = b.String()
	}
	if got != whole {
		t.Errorf("%s: deltas add up to %q, done says %q", key, got, whole)
	}
}

func itoa(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// The final response's usage is the provider's, and its output holds the
// streamed texts.
func TestStreamFromChatFinal(t *testing.T) {
	var c streamCase
	readCase(t, "testdata/stream/tool_calls.json", &c)
	req, err := fromDoc(t, string(c.Request))
	if err != nil {
		t.Fatal(err)
	}
	final := checkStream(t, convert(t, req, c.payloads()))
	u := final.Usage
	if u.InputTokens != 40 || u.OutputTokens != 22 || u.TotalTokens != 62 || u.OutputTokensDetails.ReasoningTokens != 8 {
		t.Errorf("usage %+v", u)
	}
	if final.OutputText() != "Checking." || len(final.Output) != 3 || final.Status != "completed" {
		t.Fatalf("final output %d items, text %q, status %s", len(final.Output), final.OutputText(), final.Status)
	}
	if fc := final.Output[2].AsFunctionCall(); fc.CallID != "call_nice" || fc.Arguments != `{"city":"Nice"}` {
		t.Errorf("second call %+v", fc)
	}
}

// An Anthropic stream, translated to chat chunks by the Anthropic adapter's
// converter, comes out as a valid Responses stream with Anthropic's usage.
func TestStreamFromAnthropic(t *testing.T) {
	conv := &anthropic.StreamToOpenAI{Model: "claude", Created: 1, IncludeUsage: true}
	events := []struct{ name, data string }{
		{"message_start", `{"type":"message_start","message":{"id":"msg_1","model":"claude","usage":{"input_tokens":21,"output_tokens":1}}}`},
		{"content_block_start", `{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}`},
		{"content_block_delta", `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi "}}`},
		{"content_block_delta", `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"there"}}`},
		{"content_block_stop", `{"type":"content_block_stop","index":0}`},
		{"content_block_start", `{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_1","name":"f","input":{}}}`},
		{"content_block_delta", `{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"a\":"}}`},
		{"content_block_delta", `{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"1}"}}`},
		{"message_delta", `{"type":"message_delta","delta":{"stop_reason":"tool_use"},"usage":{"output_tokens":9}}`},
		{"message_stop", `{"type":"message_stop"}`},
	}
	var payloads [][]byte
	for _, e := range events {
		out, err := conv.Event(e.name, []byte(e.data))
		if err != nil {
			t.Fatal(err)
		}
		payloads = append(payloads, out...)
	}
	req, err := fromDoc(t, `{"model":"claude","input":"hi","stream":true}`)
	if err != nil {
		t.Fatal(err)
	}
	final := checkStream(t, convert(t, req, payloads))
	if final.OutputText() != "Hi there" || final.Usage.InputTokens != 21 || final.Usage.OutputTokens != 9 {
		t.Errorf("text %q usage %+v", final.OutputText(), final.Usage)
	}
	if fc := final.Output[1].AsFunctionCall(); fc.CallID != "toolu_1" || fc.Arguments != `{"a":1}` {
		t.Errorf("call %+v", fc)
	}
}

func TestStreamFail(t *testing.T) {
	req, err := fromDoc(t, `{"model":"m","input":"hi","stream":true}`)
	if err != nil {
		t.Fatal(err)
	}
	conv := &responses.StreamFromChat{Req: req, ID: "resp_f", Created: 1}
	evs := conv.Chunk([]byte(`{"choices":[{"index":0,"delta":{"content":"partial"},"finish_reason":null}]}`))
	evs = append(evs, conv.Fail("server_error", "stream_interrupted", "the provider's stream ended early")...)
	if more := conv.Chunk([]byte("[DONE]")); len(more) != 0 {
		t.Errorf("events after Fail: %d", len(more))
	}
	n := len(evs)
	if evs[n-2].Name != "response.failed" || evs[n-1].Name != "error" {
		t.Fatalf("ends with %s, %s", evs[n-2].Name, evs[n-1].Name)
	}
	var failed sdk.ResponseFailedEvent
	var errEv sdk.ResponseErrorEvent
	if json.Unmarshal(evs[n-2].Data, &failed) != nil || json.Unmarshal(evs[n-1].Data, &errEv) != nil {
		t.Fatal("undecodable")
	}
	if failed.Response.Status != "failed" || failed.Response.Error.Code != "server_error" || failed.Response.OutputText() != "partial" {
		t.Errorf("failed response %+v", failed.Response)
	}
	if errEv.Code != "stream_interrupted" || errEv.SequenceNumber != int64(n-1) || responses.NextSequence(evs[n-1].Data) != int64(n) {
		t.Errorf("error event %s", evs[n-1].Data)
	}
	// Before any chunk, a failure is the error event alone.
	fresh := &responses.StreamFromChat{Req: req, ID: "resp_g"}
	if evs := fresh.Fail("server_error", "x", "y"); len(evs) != 1 || evs[0].Name != "error" {
		t.Errorf("fresh failure: %v", evs)
	}
}

func TestErrorEventShape(t *testing.T) {
	ev := responses.ErrorEvent("invalid_request_error", "policy_denied", "the policy refused", 7)
	want := `{"type":"error","sequence_number":7,"code":"policy_denied","message":"the policy refused","param":null,` +
		`"error":{"type":"invalid_request_error","code":"policy_denied","message":"the policy refused","param":null}}`
	if ev.Name != "error" || string(ev.Data) != want {
		t.Errorf("got %s %s", ev.Name, ev.Data)
	}
	if got := responses.ErrorEvent("server_error", "", "m", 0).Data; !bytes.Contains(got, []byte(`"code":null`)) {
		t.Errorf("empty code: %s", got)
	}
}
