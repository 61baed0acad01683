package gateway

import (
	"bytes"
	"encoding/json"

	"github.com/custos-gateway/custos/gateway/jsondoc"
	"github.com/custos-gateway/custos/redact"
)

// restoring reports whether this answer gets the pseudonymized values back:
// the policy allows it and the request had pseudonyms.
func (ex *exchange) restoring() bool {
	return ex.dec.RestorePseudonyms && ex.sess != nil && ex.sess.Placeholders() > 0
}

// restoreAnswer puts the values back into every string of a complete JSON
// answer, walked like a request (tool call arguments included). An answer
// that is not JSON is returned unchanged.
func restoreAnswer(sess *redact.Session, body []byte) []byte {
	doc, err := jsondoc.Parse(body, jsondoc.Limits{})
	if err != nil {
		return body
	}
	walk, err := jsondoc.Inspect(doc, &answerRules, jsondoc.Limits{})
	if err != nil {
		return body
	}
	r := sess.NewRestorer()
	for _, t := range walk.Texts {
		if !t.IsKey {
			if out := r.Restore(t.Text); out != t.Text {
				t.Set(out)
			}
		}
	}
	walk.Finish()
	return jsondoc.Encode(doc)
}

// answerRules: a chat completion's tool call arguments are JSON documents.
var answerRules = jsondoc.Rules{Embedded: []jsondoc.Pattern{jsondoc.P("choices[].message.tool_calls[].function.arguments")}}

// chunkRestorer restores placeholders in streamed deltas, where one may be
// split across chunks: each choice's content goes through its own Restorer,
// which holds back only a possible placeholder prefix.
type chunkRestorer struct {
	sess    *redact.Session
	content map[string]*redact.Restorer
	// tools holds one restorer per (choice, tool call index), in the order
	// the calls appeared.
	tools map[string]map[int]*redact.Restorer
}

func newChunkRestorer(sess *redact.Session) *chunkRestorer {
	return &chunkRestorer{sess: sess, content: map[string]*redact.Restorer{}, tools: map[string]map[int]*redact.Restorer{}}
}

// chunk rewrites one chat.completion.chunk; data that is not a chunk passes.
func (cr *chunkRestorer) chunk(data []byte) []byte {
	var v map[string]any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if dec.Decode(&v) != nil {
		return data
	}
	choices, _ := v["choices"].([]any)
	if len(choices) == 0 {
		return data
	}
	for _, c := range choices {
		choice, _ := c.(map[string]any)
		delta, _ := choice["delta"].(map[string]any)
		if delta == nil {
			continue
		}
		idx := "0"
		if n, ok := choice["index"].(json.Number); ok {
			idx = n.String()
		}
		r := cr.content[idx]
		if r == nil {
			r = cr.sess.NewRestorer()
			cr.content[idx] = r
		}
		text, hasText := delta["content"].(string)
		out := ""
		if hasText {
			out = r.Write(text)
		}
		finished := choice["finish_reason"] != nil
		if finished {
			out += r.Flush()
		}
		if hasText || out != "" {
			delta["content"] = out
		}
		// Tool call arguments stream in fragments too: each call has its own
		// restorer, so a placeholder split across fragments is restored.
		tools := cr.tools[idx]
		if tools == nil {
			tools = map[int]*redact.Restorer{}
			cr.tools[idx] = tools
		}
		calls, _ := delta["tool_calls"].([]any)
		for _, call := range calls {
			co, _ := call.(map[string]any)
			fn, _ := co["function"].(map[string]any)
			a, ok := fn["arguments"].(string)
			if !ok {
				continue
			}
			ti := 0
			if n, ok := co["index"].(json.Number); ok {
				if v, err := n.Int64(); err == nil {
					ti = int(v)
				}
			}
			tr := tools[ti]
			if tr == nil {
				tr = cr.sess.NewRestorer()
				tools[ti] = tr
			}
			fn["arguments"] = tr.Write(a)
		}
		if finished {
			for ti, tr := range tools {
				if rest := tr.Flush(); rest != "" {
					calls = append(calls, map[string]any{"index": ti, "function": map[string]any{"arguments": rest}})
				}
			}
			if len(calls) > 0 {
				delta["tool_calls"] = calls
			}
		}
	}
	out, err := encodeNoEscape(v)
	if err != nil {
		return data
	}
	return out
}

func encodeNoEscape(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}
