package responses

import (
	"strconv"

	"github.com/custos-gateway/custos/gateway/jsondoc"
)

// obj writes one JSON object, members in the order written.
type obj struct{ b []byte }

func newObj() *obj { return &obj{b: append(make([]byte, 0, 256), '{')} }

func (o *obj) key(k string) {
	if len(o.b) > 1 {
		o.b = append(o.b, ',')
	}
	o.b = jsondoc.AppendString(o.b, k)
	o.b = append(o.b, ':')
}

func (o *obj) str(k, v string) *obj {
	o.key(k)
	o.b = jsondoc.AppendString(o.b, v)
	return o
}

func (o *obj) num(k string, n int64) *obj {
	o.key(k)
	o.b = strconv.AppendInt(o.b, n, 10)
	return o
}

// raw writes encoded JSON; nil writes null.
func (o *obj) raw(k string, v []byte) *obj {
	o.key(k)
	if v == nil {
		v = null
	}
	o.b = append(o.b, v...)
	return o
}

// val writes a tree value; a missing one writes def (encoded JSON).
func (o *obj) val(k string, v *jsondoc.Value, def string) *obj {
	if v.IsNull() {
		return o.raw(k, []byte(def))
	}
	o.key(k)
	o.b = jsondoc.AppendEncode(o.b, v)
	return o
}

func (o *obj) done() []byte { return append(o.b, '}') }

var (
	null       = []byte("null")
	emptyArray = []byte("[]")
)

// array encodes encoded JSON values as an array.
func array(items [][]byte) []byte {
	b := []byte{'['}
	for i, it := range items {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, it...)
	}
	return append(b, ']')
}

// answer is what a response object says beyond the request's echo.
type answer struct {
	id         string
	created    int64
	status     string // in_progress, completed, incomplete, failed
	incomplete string // incomplete_details.reason
	output     [][]byte
	usage      []byte // nil: null
	err        []byte // the error object of a failed response
}

// responseObject encodes a response object as the API does: the answer,
// and the request's settings echoed (from the tree as forwarded, so after
// redaction). Nothing is stored by a chat endpoint or by Custos: store is
// false.
func responseObject(req *Request, a *answer) []byte {
	doc := req.docOrEmpty()
	o := newObj().str("id", a.id).str("object", "response").num("created_at", a.created).str("status", a.status)
	o.raw("background", []byte("false")).raw("error", a.err)
	if a.incomplete != "" {
		o.raw("incomplete_details", newObj().str("reason", a.incomplete).done())
	} else {
		o.raw("incomplete_details", nil)
	}
	o.val("instructions", doc.Get("instructions"), "null").val("max_output_tokens", doc.Get("max_output_tokens"), "null")
	o.raw("max_tool_calls", nil).str("model", req.model()).raw("output", array(a.output))
	o.val("parallel_tool_calls", doc.Get("parallel_tool_calls"), "true").raw("previous_response_id", nil)
	o.val("reasoning", doc.Get("reasoning"), `{"effort":null,"summary":null}`)
	o.str("service_tier", "default").raw("store", []byte("false"))
	o.val("temperature", doc.Get("temperature"), "1").raw("text", textEcho(doc.Get("text")))
	o.val("tool_choice", doc.Get("tool_choice"), `"auto"`).val("tools", doc.Get("tools"), "[]")
	o.val("top_logprobs", doc.Get("top_logprobs"), "0").val("top_p", doc.Get("top_p"), "1")
	o.val("truncation", doc.Get("truncation"), `"disabled"`).raw("usage", a.usage)
	o.val("user", doc.Get("user"), "null").val("metadata", doc.Get("metadata"), "{}")
	return o.done()
}

// textEcho is the text configuration with its defaults filled in.
func textEcho(text *jsondoc.Value) []byte {
	return newObj().val("format", text.Get("format"), `{"type":"text"}`).val("verbosity", text.Get("verbosity"), `"medium"`).done()
}

func (r *Request) model() string {
	if r == nil {
		return ""
	}
	return r.Model
}

func (r *Request) docOrEmpty() *jsondoc.Value {
	if r == nil || r.Doc == nil {
		return jsondoc.NewObject()
	}
	return r.Doc
}

// messageItem encodes an assistant message output item.
func messageItem(id, status string, parts [][]byte) []byte {
	return newObj().str("id", id).str("type", "message").str("status", status).
		raw("content", array(parts)).str("role", "assistant").done()
}

// textPartJSON and refusalPartJSON encode content parts.
func textPartJSON(text string) []byte {
	return newObj().str("type", "output_text").raw("annotations", emptyArray).raw("logprobs", emptyArray).
		str("text", text).done()
}

func refusalPartJSON(refusal string) []byte {
	return newObj().str("type", "refusal").str("refusal", refusal).done()
}

// functionCallItem encodes a function call output item.
func functionCallItem(id, status, callID, name, args string) []byte {
	return newObj().str("id", id).str("type", "function_call").str("status", status).
		str("arguments", args).str("call_id", callID).str("name", name).done()
}

// usageJSON encodes a Responses usage object from chat counts.
func usageJSON(u *chatUsage) []byte {
	if u == nil {
		return nil
	}
	total := u.TotalTokens
	if total == 0 {
		total = u.PromptTokens + u.CompletionTokens
	}
	return newObj().num("input_tokens", u.PromptTokens).
		raw("input_tokens_details", newObj().num("cached_tokens", u.PromptTokensDetails.CachedTokens).done()).
		num("output_tokens", u.CompletionTokens).
		raw("output_tokens_details", newObj().num("reasoning_tokens", u.CompletionTokensDetails.ReasoningTokens).done()).
		num("total_tokens", total).done()
}

// chatUsage is a chat completion's usage.
type chatUsage struct {
	PromptTokens        int64 `json:"prompt_tokens"`
	CompletionTokens    int64 `json:"completion_tokens"`
	TotalTokens         int64 `json:"total_tokens"`
	PromptTokensDetails struct {
		CachedTokens int64 `json:"cached_tokens"`
	} `json:"prompt_tokens_details"`
	CompletionTokensDetails struct {
		ReasoningTokens int64 `json:"reasoning_tokens"`
	} `json:"completion_tokens_details"`
}

// itemID derives an output item's id from the response id.
func itemID(prefix, responseID string, index int) string {
	base := responseID
	if len(base) > 5 && base[:5] == "resp_" {
		base = base[5:]
	}
	return prefix + base + "_" + strconv.Itoa(index)
}

// finishStatus maps a chat finish reason to a response status and the
// reason it is incomplete.
func finishStatus(finish string) (status, incomplete string) {
	switch finish {
	case "length":
		return "incomplete", "max_output_tokens"
	case "content_filter":
		return "incomplete", "content_filter"
	}
	return "completed", ""
}
