package anthropic_test

import (
	"encoding/json"
	"testing"

	"github.com/custos-gateway/custos/gateway/anthropic"
)

const openaiBody = `{"model":"claude-sonnet-4-5","max_tokens":512,"temperature":0.2,"stop":"END",
 "messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"How is the ward?"},
  {"role":"assistant","content":null,"tool_calls":[{"id":"t1","type":"function","function":{"name":"ward","arguments":"{\"ward\":\"cardio\"}"}}]},
  {"role":"tool","tool_call_id":"t1","content":"12 beds free"},{"role":"tool","tool_call_id":"t1","content":"and 2 ICU"}],
 "tools":[{"type":"function","function":{"name":"ward","description":"ward status","parameters":{"type":"object","properties":{"ward":{"type":"string"}}}}}],
 "tool_choice":"required"}`

const anthropicAnswer = `{"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-5",
 "content":[{"type":"text","text":"Calling the tool."},{"type":"tool_use","id":"t2","name":"ward","input":{"ward":"icu"}}],
 "stop_reason":"tool_use","usage":{"input_tokens":40,"output_tokens":12,"cache_read_input_tokens":8}}`

func TestFromOpenAI(t *testing.T) {
	b, err := anthropic.FromOpenAI([]byte(openaiBody))
	if err != nil {
		t.Fatal(err)
	}
	var req anthropic.Request
	if err := json.Unmarshal(b, &req); err != nil {
		t.Fatal(err)
	}
	var system string
	json.Unmarshal(req.System, &system)
	switch {
	case system != "Be brief.", req.MaxTokens != 512, len(req.StopSequences) != 1:
		t.Errorf("top level: %s", b)
	case len(req.Messages) != 3 || req.Messages[0].Role != "user" || req.Messages[1].Role != "assistant" || req.Messages[2].Role != "user":
		t.Errorf("roles must alternate, tool results merged: %s", b)
	case req.Messages[1].Content[0].Type != "tool_use" || string(req.Messages[1].Content[0].Input) != `{"ward":"cardio"}`:
		t.Errorf("tool use: %s", b)
	case len(req.Messages[2].Content) != 2 || req.Messages[2].Content[0].Type != "tool_result" || req.Messages[2].Content[0].ToolUseID != "t1":
		t.Errorf("tool results: %s", b)
	case len(req.Tools) != 1 || string(req.ToolChoice) != `{"type":"any"}`:
		t.Errorf("tools: %s", b)
	}
	if _, err := anthropic.FromOpenAI([]byte(`{"model":"m","messages":[{"role":"user","content":[{"type":"input_audio"}]}]}`)); err == nil {
		t.Error("audio translated silently")
	}
}

func TestToOpenAI(t *testing.T) {
	b, err := anthropic.ToOpenAI([]byte(anthropicAnswer), 1)
	if err != nil {
		t.Fatal(err)
	}
	var r struct {
		Choices []struct {
			Message struct {
				Content   string `json:"content"`
				ToolCalls []struct {
					ID       string `json:"id"`
					Function struct{ Name, Arguments string }
				} `json:"tool_calls"`
			} `json:"message"`
			FinishReason string `json:"finish_reason"`
		} `json:"choices"`
		Usage struct {
			PromptTokens, CompletionTokens int64
		} `json:"usage"`
	}
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	c := r.Choices[0]
	if c.Message.Content != "Calling the tool." || len(c.Message.ToolCalls) != 1 || c.Message.ToolCalls[0].Function.Arguments != `{"ward":"icu"}` ||
		c.FinishReason != "tool_calls" {
		t.Errorf("answer: %s", b)
	}
}

// BenchmarkTranslation: the Anthropic adapter's cost per request (request
// out, answer back), against the baseline of decoding and re-encoding the
// same two documents, which any gateway that inspects bodies pays anyway.
func BenchmarkTranslation(b *testing.B) {
	b.Run("baseline-json-roundtrip", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var x, y map[string]any
			json.Unmarshal([]byte(openaiBody), &x)
			json.Marshal(x)
			json.Unmarshal([]byte(anthropicAnswer), &y)
			json.Marshal(y)
		}
	})
	b.Run("anthropic-adapter", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := anthropic.FromOpenAI([]byte(openaiBody)); err != nil {
				b.Fatal(err)
			}
			if _, err := anthropic.ToOpenAI([]byte(anthropicAnswer), 1); err != nil {
				b.Fatal(err)
			}
		}
	})
}
