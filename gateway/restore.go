package gateway

import (
	"bytes"
	"maps"
	"slices"

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
// split across chunks: each choice's content, and each tool call's
// arguments, go through their own Restorer, which holds back only a
// possible placeholder prefix.
type chunkRestorer struct {
	sess    *redact.Session
	content map[string]*redact.Restorer
	// tools holds one restorer per choice and tool call index.
	tools map[string]map[string]*redact.Restorer
}

func newChunkRestorer(sess *redact.Session) *chunkRestorer {
	return &chunkRestorer{sess: sess, content: map[string]*redact.Restorer{}, tools: map[string]map[string]*redact.Restorer{}}
}

// chunk rewrites one chat.completion.chunk; data that is not a chunk passes.
// data is the stream reader's buffer, reused for the next event: the tree
// (whose strings the restorers keep) is parsed from a copy.
func (cr *chunkRestorer) chunk(data []byte) []byte {
	v, err := jsondoc.Parse(bytes.Clone(data), jsondoc.Limits{})
	if err != nil {
		return data
	}
	choices := v.Get("choices")
	if choices == nil || choices.Kind != jsondoc.Array || len(choices.Kids) == 0 {
		return data
	}
	for _, c := range choices.Kids {
		if delta := c.Value.Get("delta"); delta != nil && delta.Kind == jsondoc.Object {
			cr.choice(c.Value, delta)
		}
	}
	return jsondoc.Encode(v)
}

// choice restores one choice's delta; at its finish the held-back rest is
// flushed.
func (cr *chunkRestorer) choice(choice, delta *jsondoc.Value) {
	idx := literal(choice.Get("index"), "0")
	finished := !choice.Get("finish_reason").IsNull()
	r := cr.restorer(cr.content, idx)
	text, hasText := delta.Get("content").Text()
	out := ""
	if hasText {
		out = r.Write(text)
	}
	if finished {
		out += r.Flush()
	}
	if hasText || out != "" {
		delta.Set("content", jsondoc.NewString(out))
	}
	tools := cr.tools[idx]
	if tools == nil {
		tools = map[string]*redact.Restorer{}
		cr.tools[idx] = tools
	}
	calls := delta.Get("tool_calls")
	if calls != nil && calls.Kind == jsondoc.Array {
		for _, call := range calls.Kids {
			fn := call.Value.Get("function")
			if a, ok := fn.Get("arguments").Text(); ok {
				fn.Set("arguments", jsondoc.NewString(cr.restorer(tools, literal(call.Value.Get("index"), "0")).Write(a)))
			}
		}
	}
	if finished {
		flushTools(delta, calls, tools)
	}
}

// flushTools appends each tool call's held-back arguments to the delta.
func flushTools(delta, calls *jsondoc.Value, tools map[string]*redact.Restorer) {
	var rest []jsondoc.Member
	for _, ti := range slices.Sorted(maps.Keys(tools)) {
		if tail := tools[ti].Flush(); tail != "" {
			fn := jsondoc.NewObject(jsondoc.Member{Key: "arguments", Value: jsondoc.NewString(tail)})
			rest = append(rest, jsondoc.Member{Value: jsondoc.NewObject(
				jsondoc.Member{Key: "index", Value: &jsondoc.Value{Kind: jsondoc.Number, Str: ti}},
				jsondoc.Member{Key: "function", Value: fn})})
		}
	}
	if len(rest) == 0 {
		return
	}
	if calls == nil || calls.Kind != jsondoc.Array {
		calls = &jsondoc.Value{Kind: jsondoc.Array}
		delta.Set("tool_calls", calls)
	}
	calls.Kids = append(calls.Kids, rest...)
}

func (cr *chunkRestorer) restorer(m map[string]*redact.Restorer, key string) *redact.Restorer {
	r := m[key]
	if r == nil {
		r = cr.sess.NewRestorer()
		m[key] = r
	}
	return r
}

// literal is a number's literal text, or def.
func literal(v *jsondoc.Value, def string) string {
	if v != nil && v.Kind == jsondoc.Number {
		return v.Str
	}
	return def
}
