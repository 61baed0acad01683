package responses_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/custos-gateway/custos/gateway/jsondoc"
	"github.com/custos-gateway/custos/gateway/openai"
	"github.com/custos-gateway/custos/gateway/responses"
	"github.com/custos-gateway/custos/redact"
)

func seedBodies(f *testing.F) {
	files, _ := filepath.Glob("testdata/tochat/*.json")
	for _, name := range files {
		if b, err := os.ReadFile(name); err == nil && !bytes.Contains([]byte(name), []byte(".golden")) {
			f.Add(b)
		}
	}
	f.Add([]byte(richBody))
	f.Add([]byte(`{"model":"m","input":[{"type":"reasoning","summary":[]}]}`))
	f.Add([]byte(`{"model":"m","input":[{"id":"x"}],"previous_response_id":"r"}`))
}

// FuzzFromDocToChat: no panic; a refusal is a RequestError or
// ErrUntranslatable that does not echo the body; an accepted request is
// walked without error, and its translation is valid JSON the chat parser
// accepts.
func FuzzFromDocToChat(f *testing.F) {
	seedBodies(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		doc, err := jsondoc.Parse(body, jsondoc.Limits{})
		if err != nil {
			return
		}
		req, err := responses.FromDoc(doc)
		if err != nil {
			var re *openai.RequestError
			if !errors.As(err, &re) {
				t.Fatalf("refusal %T %v", err, err)
			}
			echoes(t, body, err)
			return
		}
		if _, err := jsondoc.Inspect(doc, &responses.Rules, jsondoc.Limits{}); err != nil && !errors.Is(err, jsondoc.ErrCaseVariantField) {
			t.Fatalf("walk: %v", err)
		}
		out, err := responses.ToChat(body)
		if err != nil {
			if !errors.Is(err, responses.ErrUntranslatable) {
				t.Fatalf("ToChat refused an accepted request with %v", err)
			}
			echoes(t, body, err)
			return
		}
		if !json.Valid(out) {
			t.Fatalf("invalid JSON %s", out)
		}
		chat, err := openai.ParseChatRequest(out)
		if err != nil {
			t.Fatalf("chat parser refuses %s: %v", out, err)
		}
		if chat.Model != req.Model || chat.Stream != req.Stream {
			t.Fatalf("model or stream changed: %s", out)
		}
	})
}

func echoes(t *testing.T, body []byte, err error) {
	t.Helper()
	if len(body) > 12 && bytes.Contains([]byte(err.Error()), body) {
		t.Fatalf("error echoes the body: %v", err)
	}
}

// FuzzStreamFromChat: any sequence of payloads (lines of the input) makes
// events that are JSON objects numbered from 0, the last one terminal once
// [DONE] was seen.
func FuzzStreamFromChat(f *testing.F) {
	files, _ := filepath.Glob("testdata/stream/*.json")
	for _, name := range files {
		var c streamCase
		b, _ := os.ReadFile(name)
		if json.Unmarshal(b, &c) == nil {
			f.Add(bytes.Join(c.payloads(), []byte("\n")))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		conv := &responses.StreamFromChat{ID: "resp_fuzz", Created: 1}
		var evs []responses.Event
		done := false
		for _, line := range bytes.Split(data, []byte("\n")) {
			evs = append(evs, conv.Chunk(line)...)
			done = done || bytes.Equal(bytes.TrimSpace(line), []byte("[DONE]"))
		}
		for i, e := range evs {
			var v struct {
				Type string `json:"type"`
				Seq  *int   `json:"sequence_number"`
			}
			if json.Unmarshal(e.Data, &v) != nil || v.Type != e.Name || v.Seq == nil || *v.Seq != i {
				t.Fatalf("event %d: %s", i, e.Data)
			}
		}
		if done && (len(evs) == 0 || (evs[len(evs)-1].Name != "response.completed" && evs[len(evs)-1].Name != "response.incomplete")) {
			t.Fatalf("stream did not end after [DONE]")
		}
	})
}

// FuzzStreamRestorer: no panic on any events (lines of the input), and a
// JSON object comes out as JSON objects.
func FuzzStreamRestorer(f *testing.F) {
	for _, ev := range nativeStream([]string{"Hi [PERS", "ON_1]"}, []string{`{"a":"[PERSON_1]"}`}) {
		f.Add(ev.Data)
	}
	f.Add([]byte(`{"type":"response.output_text.delta","delta":"[PERSON_1"}` + "\n" + `{"type":"response.output_text.done"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		sess := redact.NewSession(nil)
		if _, err := sess.Apply("Jane Roe", []redact.Finding{{Type: redact.Person, Start: 0, End: 8}}, nil); err != nil {
			t.Fatal(err)
		}
		sr := responses.NewStreamRestorer(func() responses.Restorer { return sess.NewRestorer() })
		for _, line := range bytes.Split(data, []byte("\n")) {
			for _, out := range sr.Event(responses.Event{Name: "e", Data: line}) {
				var v map[string]any
				if json.Unmarshal(line, &v) == nil && json.Unmarshal(out.Data, &v) != nil {
					t.Fatalf("object %s restored into %s", line, out.Data)
				}
			}
		}
	})
}
