package responses_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/custos-gateway/custos/gateway/jsondoc"
	"github.com/custos-gateway/custos/gateway/openai"
	"github.com/custos-gateway/custos/gateway/responses"
)

func fromDoc(t testing.TB, body string) (*responses.Request, error) {
	t.Helper()
	doc, err := jsondoc.Parse([]byte(body), jsondoc.Limits{})
	if err != nil {
		t.Fatalf("parse %s: %v", body, err)
	}
	return responses.FromDoc(doc)
}

func TestFromDocReadsFacts(t *testing.T) {
	yes, no := true, false
	cases := []struct {
		name, body string
		check      func(t *testing.T, r *responses.Request)
	}{
		{"string input", `{"model":"gpt-4.1","input":"hello"}`, func(t *testing.T, r *responses.Request) {
			if r.Model != "gpt-4.1" || r.Stream || r.Store != nil || r.Items != 1 || r.Stateful() || r.StateError() != nil {
				t.Errorf("facts %+v", r)
			}
		}},
		{"flags", `{"model":"m","input":"x","stream":true,"store":false,"user":"u-1","max_output_tokens":256,"instructions":"be brief"}`,
			func(t *testing.T, r *responses.Request) {
				if !r.Stream || r.Store == nil || *r.Store != no || r.User != "u-1" || r.MaxOutputTokens == nil ||
					*r.MaxOutputTokens != 256 || !r.Instructions {
					t.Errorf("facts %+v", r)
				}
			}},
		{"store true", `{"model":"m","input":"x","store":true}`, func(t *testing.T, r *responses.Request) {
			if r.Store == nil || *r.Store != yes {
				t.Errorf("store %v", r.Store)
			}
		}},
		{"empty instructions", `{"model":"m","input":"x","instructions":""}`, func(t *testing.T, r *responses.Request) {
			if r.Instructions {
				t.Error("empty instructions counted as present")
			}
		}},
		{"previous response", `{"model":"m","previous_response_id":"resp_1","input":"x"}`, func(t *testing.T, r *responses.Request) {
			e := r.StateError()
			if r.PreviousResponseID != "resp_1" || !r.Stateful() || e == nil || e.Code != "provider_state_not_allowed" || e.Param != "previous_response_id" {
				t.Errorf("facts %+v, state error %+v", r, e)
			}
		}},
		{"conversation without input", `{"model":"m","conversation":{"id":"conv_1"}}`, func(t *testing.T, r *responses.Request) {
			if e := r.StateError(); !r.Conversation || e == nil || e.Param != "conversation" {
				t.Errorf("facts %+v, state error %+v", r, e)
			}
		}},
		{"item reference", `{"model":"m","input":[{"type":"item_reference","id":"msg_1"},{"id":"msg_2"},{"role":"user","content":"go on"}]}`,
			func(t *testing.T, r *responses.Request) {
				if e := r.StateError(); r.ItemReferences != 2 || r.Items != 3 || e == nil || e.Param != "input" {
					t.Errorf("facts %+v, state error %+v", r, e)
				}
			}},
		{"stored prompt", `{"model":"m","prompt":{"id":"pmpt_1","variables":{"city":"Lyon"}}}`, func(t *testing.T, r *responses.Request) {
			if e := r.StateError(); !r.Prompt || e == nil || e.Param != "prompt" {
				t.Errorf("facts %+v", r)
			}
		}},
		{"tools and formats", `{"model":"m","input":"x","tools":[{"type":"function","name":"lookup","parameters":{"type":"object"},"strict":true},{"type":"web_search"}],` +
			`"tool_choice":{"type":"function","name":"lookup"},"text":{"format":{"type":"json_schema","name":"out","schema":{"type":"object"}}},"reasoning":{"effort":"low"}}`,
			func(t *testing.T, r *responses.Request) {
				if len(r.Tools) != 2 || r.Tools[0] != (responses.Tool{Type: "function", Name: "lookup"}) || r.Tools[1].Type != "web_search" ||
					r.ToolChoice != "function" || r.Format != "json_schema" || r.ReasoningEffort != "low" {
					t.Errorf("facts %+v", r)
				}
			}},
		{"items of every kind", `{"model":"m","input":[` +
			`{"type":"message","role":"developer","content":[{"type":"input_text","text":"rules"}]},` +
			`{"role":"user","content":[{"type":"input_text","text":"look"},{"type":"input_image","image_url":"https://x/a.png","detail":"auto"},{"type":"input_file","file_data":"data:application/pdf;base64,QUJD","filename":"a.pdf"}]},` +
			`{"type":"reasoning","id":"rs_1","summary":[{"type":"summary_text","text":"thought"}],"encrypted_content":"gAAAA"},` +
			`{"type":"message","role":"assistant","content":[{"type":"output_text","text":"calling","annotations":[]}]},` +
			`{"type":"function_call","call_id":"call_1","name":"lookup","arguments":"{\"q\":1}"},` +
			`{"type":"function_call_output","call_id":"call_1","output":[{"type":"input_text","text":"42"}]},` +
			`{"type":"web_search_call","id":"ws_1","status":"completed"}]}`,
			func(t *testing.T, r *responses.Request) {
				if r.Items != 7 || r.Stateful() {
					t.Errorf("facts %+v", r)
				}
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := fromDoc(t, tc.body)
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, r)
		})
	}
}

func TestFromDocRefuses(t *testing.T) {
	const canary = "SECRET-CANARY"
	cases := []struct{ name, body, code, param string }{
		{"not an object", `["` + canary + `"]`, "invalid_request", ""},
		{"no model", `{"input":"` + canary + `"}`, "missing_model", "model"},
		{"no input", `{"model":"m"}`, "missing_input", "input"},
		{"input number", `{"model":"m","input":42}`, "invalid_request", "input"},
		{"stream string", `{"model":"m","input":"x","stream":"` + canary + `"}`, "invalid_request", "stream"},
		{"background", `{"model":"m","input":"x","background":true}`, "unsupported_parameter", "background"},
		{"max tokens fraction", `{"model":"m","input":"x","max_output_tokens":1.5}`, "invalid_request", "max_output_tokens"},
		{"max tokens zero", `{"model":"m","input":"x","max_output_tokens":0}`, "invalid_request", "max_output_tokens"},
		{"instructions array", `{"model":"m","input":"x","instructions":["` + canary + `"]}`, "invalid_request", "instructions"},
		{"unknown item type", `{"model":"m","input":[{"type":"` + canary + `"}]}`, "invalid_request", "input[0].type"},
		{"unknown role", `{"model":"m","input":[{"role":"` + canary + `","content":"x"}]}`, "invalid_request", "input[0].role"},
		{"message without content", `{"model":"m","input":[{"role":"user"}]}`, "invalid_request", "input[0].content"},
		{"part type for role", `{"model":"m","input":[{"role":"user","content":[{"type":"output_text","text":"` + canary + `"}]}]}`,
			"invalid_request", "input[0].content[0].type"},
		{"media for assistant", `{"model":"m","input":[{"role":"assistant","content":[{"type":"input_image","image_url":"https://x"}]}]}`,
			"invalid_request", "input[0].content[0].type"},
		{"text part without text", `{"model":"m","input":[{"role":"user","content":[{"type":"input_text","text":7}]}]}`,
			"invalid_request", "input[0].content[0].text"},
		{"image without source", `{"model":"m","input":[{"role":"user","content":[{"type":"input_image","detail":"auto"}]}]}`,
			"invalid_request", "input[0].content[0]"},
		{"function call without call id", `{"model":"m","input":[{"type":"function_call","name":"f","arguments":"{}"}]}`,
			"invalid_request", "input[0].call_id"},
		{"function call arguments object", `{"model":"m","input":[{"type":"function_call","call_id":"c","name":"f","arguments":{"a":"` + canary + `"}}]}`,
			"invalid_request", "input[0].arguments"},
		{"output missing", `{"model":"m","input":[{"type":"function_call_output","call_id":"c"}]}`, "invalid_request", "input[0].output"},
		{"output audio part", `{"model":"m","input":[{"type":"function_call_output","call_id":"c","output":[{"type":"input_audio","input_audio":{}}]}]}`,
			"invalid_request", "input[0].output[0].type"},
		{"reasoning summary string", `{"model":"m","input":[{"type":"reasoning","summary":"` + canary + `"}]}`, "invalid_request", "input[0].summary"},
		{"reference without id", `{"model":"m","input":[{"type":"item_reference"}]}`, "invalid_request", "input[0].id"},
		{"tool without type", `{"model":"m","input":"x","tools":[{"name":"` + canary + `"}]}`, "invalid_request", "tools[0].type"},
		{"function without name", `{"model":"m","input":"x","tools":[{"type":"function"}]}`, "invalid_request", "tools[0].name"},
		{"parameters string", `{"model":"m","input":"x","tools":[{"type":"function","name":"f","parameters":"` + canary + `"}]}`,
			"invalid_request", "tools[0].parameters"},
		{"format unknown", `{"model":"m","input":"x","text":{"format":{"type":"` + canary + `"}}}`, "invalid_request", "text.format.type"},
		{"schema without name", `{"model":"m","input":"x","text":{"format":{"type":"json_schema","schema":{}}}}`, "invalid_request", "text.format.name"},
		{"schema not object", `{"model":"m","input":"x","text":{"format":{"type":"json_schema","name":"n","schema":"` + canary + `"}}}`,
			"invalid_request", "text.format.schema"},
		{"effort unknown", `{"model":"m","input":"x","reasoning":{"effort":"` + canary + `"}}`, "invalid_request", "reasoning.effort"},
		{"tool choice unknown", `{"model":"m","input":"x","tool_choice":"` + canary + `"}`, "invalid_request", "tool_choice"},
		{"function choice without name", `{"model":"m","input":"x","tool_choice":{"type":"function"}}`, "invalid_request", "tool_choice.name"},
		{"temperature string", `{"model":"m","input":"x","temperature":"` + canary + `"}`, "invalid_request", "temperature"},
		{"conversation number", `{"model":"m","input":"x","conversation":3}`, "invalid_request", "conversation"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := fromDoc(t, tc.body)
			var re *openai.RequestError
			if !errors.As(err, &re) {
				t.Fatalf("err = %v, want a RequestError", err)
			}
			if re.Code != tc.code || re.Param != tc.param {
				t.Errorf("code %q param %q, want %q %q (%s)", re.Code, re.Param, tc.code, tc.param, re.Msg)
			}
			if strings.Contains(re.Msg, canary) || strings.Contains(re.Error(), canary) {
				t.Errorf("error %q echoes request content", re.Msg)
			}
		})
	}
}

func TestSetStore(t *testing.T) {
	r, err := fromDoc(t, `{"model":"m","input":"x","store":true}`)
	if err != nil {
		t.Fatal(err)
	}
	r.SetStore(false)
	if got := string(jsondoc.Encode(r.Doc)); got != `{"model":"m","input":"x","store":false}` || *r.Store {
		t.Errorf("after SetStore(false): %s", got)
	}
}
