package responses_test

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/custos-gateway/custos/gateway/responses"
)

// baseline decodes and re-encodes one JSON document with encoding/json:
// the least any translation of it costs.
func baseline(b *testing.B, doc []byte) {
	var v any
	if err := json.Unmarshal(doc, &v); err != nil {
		b.Fatal(err)
	}
	if _, err := json.Marshal(v); err != nil {
		b.Fatal(err)
	}
}

// conversation is a Responses request of n turns (a user message, a
// function call and its output each), as an agent sends it.
func conversation(n int) []byte {
	var items []string
	for i := range n {
		items = append(items,
			fmt.Sprintf(`{"role":"user","content":[{"type":"input_text","text":"Turn %d: what does the chart say about the patient's potassium level and the dosage?"}]}`, i),
			fmt.Sprintf(`{"type":"function_call","call_id":"call_%d","name":"chart_lookup","arguments":"{\"field\":\"potassium\",\"turn\":%d}"}`, i, i),
			fmt.Sprintf(`{"type":"function_call_output","call_id":"call_%d","output":"{\"value\":4.1,\"unit\":\"mmol/L\"}"}`, i))
	}
	return []byte(`{"model":"m","instructions":"You are a clinical assistant.","stream":true,"input":[` + strings.Join(items, ",") +
		`],"tools":[{"type":"function","name":"chart_lookup","parameters":{"type":"object","properties":{"field":{"type":"string"}}}}]}`)
}

func BenchmarkToChat(b *testing.B) {
	small, err := os.ReadFile("testdata/tochat/items_and_tools.json")
	if err != nil {
		b.Fatal(err)
	}
	for _, doc := range []struct {
		name string
		body []byte
	}{{"2KB", small}, {"50turns", conversation(50)}} {
		b.Run(doc.name+"/custos", func(b *testing.B) {
			b.SetBytes(int64(len(doc.body)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := responses.ToChat(doc.body); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(doc.name+"/baseline-json-decode-encode", func(b *testing.B) {
			b.SetBytes(int64(len(doc.body)))
			b.ReportAllocs()
			for b.Loop() {
				baseline(b, doc.body)
			}
		})
	}
}

// streamChunks is a chat stream of n text deltas, its finish and usage.
func streamChunks(n int) [][]byte {
	var out [][]byte
	for i := range n {
		out = append(out, fmt.Appendf(nil, `{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"word%d "},"finish_reason":null}]}`, i))
	}
	out = append(out, []byte(`{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}`),
		[]byte(`{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[],"usage":{"prompt_tokens":10,"completion_tokens":200,"total_tokens":210}}`),
		[]byte("[DONE]"))
	return out
}

func BenchmarkStreamFromChat(b *testing.B) {
	chunks := streamChunks(200)
	req, err := fromDoc(b, `{"model":"m","input":"hi","stream":true}`)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("200chunks/custos", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			conv := &responses.StreamFromChat{Req: req, ID: "resp_b", Created: 1}
			for _, c := range chunks {
				conv.Chunk(c)
			}
		}
	})
	b.Run("200chunks/baseline-json-decode-encode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			for _, c := range chunks[:len(chunks)-1] {
				baseline(b, c)
			}
		}
	})
}

func BenchmarkStreamRestorer(b *testing.B) {
	sess := session(b, "Jane Roe")
	var deltas []string
	for i := range 200 {
		deltas = append(deltas, fmt.Sprintf("word%d [PERSON_1] ", i))
	}
	evs := nativeStream(deltas, []string{`{"who":`, `"[PERSON_1]"}`})
	b.Run("200deltas/custos", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			sr := responses.NewStreamRestorer(func() responses.Restorer { return sess.NewRestorer() })
			for _, ev := range evs {
				sr.Event(ev)
			}
		}
	})
	b.Run("200deltas/baseline-json-decode-encode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			for _, ev := range evs {
				baseline(b, ev.Data)
			}
		}
	})
}
