package responses_test

import (
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	sdk "github.com/openai/openai-go/v3/responses"

	"github.com/custos-gateway/custos/gateway/responses"
)

// fromChatCase is a testdata/fromchat input: the Responses request and the
// chat completion its endpoint answered.
type fromChatCase struct {
	Request json.RawMessage `json:"request"`
	Chat    json.RawMessage `json:"chat"`
}

func readCase(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatal(err)
	}
}

func TestFromChatGolden(t *testing.T) {
	for _, in := range inputs(t, "testdata/fromchat") {
		name := strings.TrimSuffix(in, ".json")
		t.Run(name, func(t *testing.T) {
			var c fromChatCase
			readCase(t, in, &c)
			req, err := fromDoc(t, string(c.Request))
			if err != nil {
				t.Fatal(err)
			}
			out, err := responses.FromChat(c.Chat, req, "resp_test1", 1700000000)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, name+".golden.json", indent(t, out))
			checkWithSDK(t, out, c.Chat, req)
		})
	}
}

// checkWithSDK decodes a response object with the OpenAI Go SDK and checks
// it against the chat answer: the text, the tool calls, the usage.
func checkWithSDK(t *testing.T, out, chat []byte, req *responses.Request) {
	t.Helper()
	var r sdk.Response
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatal(err)
	}
	var c struct {
		Choices []struct {
			Message struct {
				Content   string `json:"content"`
				ToolCalls []struct {
					ID       string `json:"id"`
					Function struct{ Name, Arguments string }
				} `json:"tool_calls"`
			} `json:"message"`
		} `json:"choices"`
		Usage struct {
			PromptTokens     int64 `json:"prompt_tokens"`
			CompletionTokens int64 `json:"completion_tokens"`
		} `json:"usage"`
	}
	if err := json.Unmarshal(chat, &c); err != nil {
		t.Fatal(err)
	}
	msg := c.Choices[0].Message
	if r.ID != "resp_test1" || string(r.Object) != "response" || r.Model != req.Model || r.OutputText() != msg.Content {
		t.Errorf("id %q object %q model %q text %q", r.ID, r.Object, r.Model, r.OutputText())
	}
	var calls []sdk.ResponseFunctionToolCall
	for _, it := range r.Output {
		if it.Type == "function_call" {
			calls = append(calls, it.AsFunctionCall())
		}
	}
	if len(calls) != len(msg.ToolCalls) {
		t.Fatalf("%d function calls, want %d", len(calls), len(msg.ToolCalls))
	}
	for i, tc := range msg.ToolCalls {
		if calls[i].CallID != tc.ID || calls[i].Name != tc.Function.Name || calls[i].Arguments != tc.Function.Arguments {
			t.Errorf("call %d = %+v, want %+v", i, calls[i], tc)
		}
	}
	if r.Usage.InputTokens != c.Usage.PromptTokens || r.Usage.OutputTokens != c.Usage.CompletionTokens {
		t.Errorf("usage %+v, chat said %+v", r.Usage, c.Usage)
	}
}

func TestFromChatRefusesOtherAnswers(t *testing.T) {
	for _, body := range []string{`{"choices":[]}`, `not json`, `{"object":"response"}`} {
		if _, err := responses.FromChat([]byte(body), nil, "resp_x", 1); !errors.Is(err, responses.ErrNotChat) {
			t.Errorf("%s: err = %v", body, err)
		}
	}
}
