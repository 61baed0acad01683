package responses_test

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/custos-gateway/custos/gateway/anthropic"
	"github.com/custos-gateway/custos/gateway/openai"
	"github.com/custos-gateway/custos/gateway/responses"
)

// Each testdata/tochat input translates to its golden chat body, which the
// chat parser accepts, and which the Anthropic adapter can translate on
// when it holds only what Anthropic carries.
func TestToChatGolden(t *testing.T) {
	for _, in := range inputs(t, "testdata/tochat") {
		name := strings.TrimSuffix(in, ".json")
		t.Run(name, func(t *testing.T) {
			body, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			out, err := responses.ToChat(body)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, name+".golden.json", indent(t, out))
			chat, err := openai.ParseChatRequest(out)
			if err != nil {
				t.Fatalf("chat parser refuses the translation: %v", err)
			}
			if r, _ := fromDoc(t, string(body)); chat.Stream != r.Stream || chat.IncludeUsage != r.Stream {
				t.Errorf("stream %v include_usage %v, request stream %v", chat.Stream, chat.IncludeUsage, r.Stream)
			}
		})
	}
}

func TestToChatThroughAnthropic(t *testing.T) {
	body, err := os.ReadFile("testdata/tochat/string_input.json")
	if err != nil {
		t.Fatal(err)
	}
	chat, err := responses.ToChat(body)
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := anthropic.FromOpenAI(chat)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"system":"Answer in one word."`, `"max_tokens":64`, `"text":"What is the capital of France?"`} {
		if !strings.Contains(string(msgs), want) {
			t.Errorf("Anthropic body lacks %s: %s", want, msgs)
		}
	}
}

func TestToChatRefuses(t *testing.T) {
	const canary = "SECRET-CANARY"
	cases := []struct{ name, body, param string }{
		{"built-in tool", `{"model":"m","input":"x","tools":[{"type":"function","name":"f"},{"type":"web_search"}]}`, "tools[1]"},
		{"file search", `{"model":"m","input":"x","tools":[{"type":"file_search","vector_store_ids":["` + canary + `"]}]}`, "tools[0]"},
		{"previous response", `{"model":"m","input":"x","previous_response_id":"` + canary + `"}`, "previous_response_id"},
		{"conversation", `{"model":"m","input":"x","conversation":"` + canary + `"}`, "conversation"},
		{"stored prompt", `{"model":"m","prompt":{"id":"` + canary + `"}}`, "prompt"},
		{"item reference", `{"model":"m","input":[{"type":"item_reference","id":"` + canary + `"}]}`, "input[0]"},
		{"built-in call item", `{"model":"m","input":[{"type":"web_search_call","id":"` + canary + `"}]}`, "input[0].type"},
		{"image by file id", `{"model":"m","input":[{"role":"user","content":[{"type":"input_image","file_id":"` + canary + `"}]}]}`, "input[0].content[0]"},
		{"file by url", `{"model":"m","input":[{"role":"user","content":[{"type":"input_file","file_url":"https://` + canary + `"}]}]}`, "input[0].content[0]"},
		{"image in system", `{"model":"m","input":[{"role":"system","content":[{"type":"input_image","image_url":"https://` + canary + `"}]}]}`, "input[0].content[0]"},
		{"image in tool output", `{"model":"m","input":[{"type":"function_call_output","call_id":"c","output":[{"type":"input_image","image_url":"https://` + canary + `"}]}]}`, "input[0].output[0]"},
		{"allowed tools", `{"model":"m","input":"x","tool_choice":{"type":"allowed_tools","mode":"auto","tools":[]}}`, "tool_choice"},
		{"unknown field", `{"model":"m","input":"x","` + canary + `":1}`, ""},
		{"moderation", `{"model":"m","input":"x","moderation":{"model":"omni"}}`, "moderation"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := responses.ToChat([]byte(tc.body))
			var te *responses.TranslateError
			if !errors.Is(err, responses.ErrUntranslatable) || !errors.As(err, &te) {
				t.Fatalf("err = %v, want ErrUntranslatable", err)
			}
			if te.Param != tc.param {
				t.Errorf("param %q, want %q", te.Param, tc.param)
			}
			if strings.Contains(err.Error(), canary) {
				t.Errorf("error %q echoes request content", err)
			}
		})
	}
}

// A body FromDoc refuses is refused by ToChat with the same RequestError.
func TestToChatChecksTheRequest(t *testing.T) {
	_, err := responses.ToChat([]byte(`{"model":"m"}`))
	var re *openai.RequestError
	if !errors.As(err, &re) || re.Code != "missing_input" {
		t.Fatalf("err = %v", err)
	}
	if _, err := responses.ToChat([]byte(`{"model":`)); err == nil {
		t.Fatal("invalid JSON translated")
	}
}
