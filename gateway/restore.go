package gateway

import (
	"bytes"
	"encoding/json"

	"github.com/custos-gateway/custos/redact"
)

// restoring reports whether this answer gets the pseudonymized values back:
// the policy allows it and the request had pseudonyms.
func (ex *exchange) restoring() bool {
	return ex.decision.RestorePseudonyms && ex.session != nil && ex.session.Placeholders() > 0
}

// restoreAnswer puts the values back into every string of a complete JSON
// answer. An answer that is not JSON is returned unchanged.
func restoreAnswer(sess *redact.Session, body []byte) []byte {
	var v any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if dec.Decode(&v) != nil {
		return body
	}
	r := sess.NewRestorer()
	var walk func(any) any
	walk = func(x any) any {
		switch t := x.(type) {
		case string:
			return r.Restore(t)
		case []any:
			for i := range t {
				t[i] = walk(t[i])
			}
		case map[string]any:
			for k := range t {
				t[k] = walk(t[k])
			}
		}
		return x
	}
	out, err := encodeNoEscape(walk(v))
	if err != nil {
		return body
	}
	return out
}

// chunkRestorer restores placeholders in streamed deltas, where one may be
// split across chunks: each choice's content goes through its own Restorer,
// which holds back only a possible placeholder prefix.
type chunkRestorer struct {
	sess    *redact.Session
	content map[string]*redact.Restorer
}

func newChunkRestorer(sess *redact.Session) *chunkRestorer {
	return &chunkRestorer{sess: sess, content: map[string]*redact.Restorer{}}
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
		if fr := choice["finish_reason"]; fr != nil {
			out += r.Flush()
		}
		if hasText || out != "" {
			delta["content"] = out
		}
		// Tool call argument fragments: restored fragment by fragment.
		if calls, ok := delta["tool_calls"].([]any); ok {
			for _, call := range calls {
				if co, ok := call.(map[string]any); ok {
					if fn, ok := co["function"].(map[string]any); ok {
						if a, ok := fn["arguments"].(string); ok {
							fn["arguments"] = r.Restore(a)
						}
					}
				}
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
