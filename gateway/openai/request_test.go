package openai_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/custos-gateway/custos/gateway/openai"
)

func TestParseKeepsUnknownFieldsByteForByte(t *testing.T) {
	body := `{"model":"m","messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"name":"f","parameters":{}}}],"response_format":{"type":"json_object"},"logprobs":true,"seed":42}`
	r, err := openai.ParseChatRequest([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := r.Body()
	if string(got) != body {
		t.Errorf("unchanged request re-encoded:\n got %s\nwant %s", got, body)
	}
	if err := r.Set("stream_options", map[string]bool{"include_usage": true}); err != nil {
		t.Fatal(err)
	}
	got, _ = r.Body()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(got, &m); err != nil {
		t.Fatal(err)
	}
	for field, want := range map[string]string{
		"tools":           `[{"type":"function","function":{"name":"f","parameters":{}}}]`,
		"response_format": `{"type":"json_object"}`, "logprobs": `true`, "seed": `42`,
		"stream_options": `{"include_usage":true}`,
	} {
		if string(m[field]) != want {
			t.Errorf("%s = %s, want %s", field, m[field], want)
		}
	}
}

func TestMessageText(t *testing.T) {
	cases := []struct{ content, want string }{
		{`"plain"`, "plain"},
		{`[{"type":"text","text":"a"},{"type":"image_url","image_url":{"url":"x"}},{"type":"text","text":"b"}]`, "ab"},
		{`null`, ""},
	}
	for _, tc := range cases {
		m := openai.Message{Role: "user", Content: json.RawMessage(tc.content)}
		if got := m.Text(); got != tc.want {
			t.Errorf("Text(%s) = %q, want %q", tc.content, got, tc.want)
		}
	}
}

func TestErrorsNameNoContent(t *testing.T) {
	const secret = "SECRET-CANARY"
	for _, body := range []string{
		`{"model":"m","messages":"` + secret + `"}`,
		`{"model":"m","messages":[{"content":"` + secret + `"}]}`,
		`{"model":"m","messages":[` + secret,
		`{"model":"m","stream":"` + secret + `","messages":[]}`,
	} {
		_, err := openai.ParseChatRequest([]byte(body))
		if err == nil {
			t.Errorf("accepted %s", body)
			continue
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error %q echoes request content", err)
		}
	}
}

// FuzzParseChatRequest: no panic; an accepted request re-encodes to valid JSON
// with the same model, and no error message echoes the body.
func FuzzParseChatRequest(f *testing.F) {
	f.Add([]byte(`{"model":"m","messages":[{"role":"user","content":"hi"}]}`))
	f.Add([]byte(`{"model":"m","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":[{"type":"text","text":"x"}]}]}`))
	f.Add([]byte(`{"model":"","messages":null}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := openai.ParseChatRequest(body)
		if err != nil {
			if len(body) > 12 && strings.Contains(err.Error(), string(body)) {
				t.Fatalf("error echoes the body: %v", err)
			}
			return
		}
		if err := r.Set("stream_options", map[string]bool{"include_usage": true}); err != nil {
			t.Fatal(err)
		}
		out, err := r.Body()
		if err != nil {
			t.Fatal(err)
		}
		again, err := openai.ParseChatRequest(out)
		if err != nil {
			t.Fatalf("re-encoded request rejected: %v\n%s", err, out)
		}
		if again.Model != r.Model || len(again.Messages()) != len(r.Messages()) || !again.IncludeUsage {
			t.Fatalf("re-encoding changed the request")
		}
	})
}

// A member that names a known field in another letter case is refused by
// the parser itself: setting the known field afterwards would give the body
// both spellings, and a case-insensitive decoder downstream would pick one.
func TestParseRefusesCaseVariantsOfKnownFields(t *testing.T) {
	for _, tc := range []struct{ body, param string }{
		{`{"model":"m","streAm_optionS":{},"messages":[{"role":"user"}]}`, "streAm_optionS"},
		{`{"MODEL":"m","messages":[{"role":"user"}]}`, "MODEL"},
		{`{"model":"m","stream_options":{"Include_Usage":true},"messages":[{"role":"user"}]}`, "stream_options.Include_Usage"},
	} {
		_, err := openai.ParseChatRequest([]byte(tc.body))
		var re *openai.RequestError
		if !errors.As(err, &re) || re.Code != "invalid_request" || re.Param != tc.param {
			t.Errorf("%s: err = %v, want invalid_request at %s", tc.body, err, tc.param)
		}
	}
	if _, err := openai.ParseChatRequest([]byte(`{"model":"m","x_custom":1,"messages":[{"role":"user"}]}`)); err != nil {
		t.Errorf("an unknown field in no letter-case conflict was refused: %v", err)
	}
}
