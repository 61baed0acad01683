package gemini

import (
	"encoding/json"
	"reflect"
	"testing"
)

func TestFunctionCallingMode(t *testing.T) {
	for in, want := range map[string]string{
		``: "", `"auto"`: "AUTO", `"required"`: "ANY", `"none"`: "NONE", `"sometimes"`: "",
		`{"type":"function","function":{"name":"f"}}`: "",
	} {
		if got := functionCallingMode(json.RawMessage(in)); got != want {
			t.Errorf("functionCallingMode(%s) = %q, want %q", in, got, want)
		}
	}
}

func TestGenerationConfig(t *testing.T) {
	cases := []struct {
		body string
		want map[string]any
	}{
		{`{}`, map[string]any{}},
		{`{"max_tokens":10,"max_completion_tokens":20}`, map[string]any{"maxOutputTokens": 20}},
		{`{"max_tokens":10,"temperature":0.5,"top_p":0.9}`, map[string]any{"maxOutputTokens": 10, "temperature": 0.5, "topP": 0.9}},
		{`{"stop":"END"}`, map[string]any{"stopSequences": []string{"END"}}},
		{`{"stop":["a","b"]}`, map[string]any{"stopSequences": []string{"a", "b"}}},
		{`{"stop":null}`, map[string]any{}},
		{`{"stop":5}`, map[string]any{}},
	}
	for _, c := range cases {
		var in chatRequest
		if err := json.Unmarshal([]byte(c.body), &in); err != nil {
			t.Fatal(err)
		}
		if got := generationConfig(&in); !reflect.DeepEqual(got, c.want) {
			t.Errorf("generationConfig(%s) = %v, want %v", c.body, got, c.want)
		}
	}
}

func TestFunctionResponsesNameTheirCall(t *testing.T) {
	msgs := []chatMessage{}
	body := `[{"role":"user","content":"weather?"},
		{"role":"assistant","content":"Checking.","tool_calls":[{"id":"c1","function":{"name":"weather","arguments":"not json"}}]},
		{"role":"tool","tool_call_id":"c1","content":"sunny"},
		{"role":"tool","tool_call_id":"c1","content":"{\"temp\":21}"}]`
	if err := json.Unmarshal([]byte(body), &msgs); err != nil {
		t.Fatal(err)
	}
	contents, system, err := contentsFromOpenAI(msgs)
	if err != nil || system != nil {
		t.Fatal(err, system)
	}
	got, _ := json.Marshal(contents)
	want := `[{"role":"user","parts":[{"text":"weather?"}]},` +
		`{"role":"model","parts":[{"text":"Checking."},{"functionCall":{"name":"weather","args":{}}}]},` +
		`{"role":"user","parts":[{"functionResponse":{"name":"weather","response":{"result":"sunny"}}},` +
		`{"functionResponse":{"name":"weather","response":{"temp":21}}}]}]`
	if string(got) != want {
		t.Errorf("contents:\n got %s\nwant %s", got, want)
	}
}
