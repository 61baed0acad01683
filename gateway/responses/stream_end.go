package responses

import (
	"slices"
	"strconv"

	"github.com/custos-gateway/custos/gateway/jsondoc"
)

// toolCall passes on one piece of a streamed tool call: the first piece of
// a call adds its function_call item (closing the open item), later pieces
// are argument deltas.
func (s *StreamFromChat) toolCall(tc *jsondoc.Value) {
	idx := "0"
	if i := tc.Get("index"); i != nil && i.Kind == jsondoc.Number {
		idx = i.Str
	}
	fn := tc.Get("function")
	name, _ := fn.Get("name").Text()
	args, _ := fn.Get("arguments").Text()
	it := s.calls[idx]
	if it == nil {
		s.closeMessage()
		s.closeCall()
		it = &outItem{index: len(s.items), call: true, name: name}
		it.id = itemID("fc_", s.ID, it.index)
		it.callID, _ = tc.Get("id").Text()
		if s.calls == nil {
			s.calls = map[string]*outItem{}
		}
		s.calls[idx] = it
		s.items = append(s.items, it)
		s.call = it
		s.emit("response.output_item.added", s.event("response.output_item.added").num("output_index", int64(it.index)).
			raw("item", functionCallItem(it.id, "in_progress", it.callID, it.name, "")))
	}
	if args == "" {
		return
	}
	it.args.WriteString(args)
	s.emit("response.function_call_arguments.delta", s.event("response.function_call_arguments.delta").
		str("item_id", it.id).num("output_index", int64(it.index)).str("delta", args))
}

// closeCall closes the open function call item.
func (s *StreamFromChat) closeCall() {
	it := s.call
	if it == nil {
		return
	}
	s.call = nil
	it.closed = true
	s.emit("response.function_call_arguments.done", s.event("response.function_call_arguments.done").
		str("item_id", it.id).num("output_index", int64(it.index)).str("arguments", it.args.String()).str("name", it.name))
	s.emit("response.output_item.done", s.event("response.output_item.done").num("output_index", int64(it.index)).
		raw("item", s.itemJSON(it)))
}

func (s *StreamFromChat) closeAll() {
	s.closeMessage()
	s.closeCall()
}

// complete ends the stream at [DONE]: open items close, then the terminal
// event carries the whole response and its usage.
func (s *StreamFromChat) complete() {
	s.closeAll()
	s.ended = true
	status, incomplete := finishStatus(s.finish)
	typ := "response.completed"
	if status == "incomplete" {
		typ = "response.incomplete"
	}
	snap := responseObject(s.Req, &answer{id: s.ID, created: s.Created, status: status, incomplete: incomplete,
		output: s.outputJSON(), usage: usageJSON(s.usage)})
	s.emit(typ, s.event(typ).raw("response", snap))
}

func (s *StreamFromChat) outputJSON() [][]byte {
	out := make([][]byte, len(s.items))
	for i, it := range s.items {
		out[i] = s.itemJSON(it)
	}
	return out
}

// Fail ends a started stream that cannot complete (the provider failed or
// was cut off): response.failed with what was streamed so far, then the
// error event the SDKs raise. typ is the error type (server_error,
// invalid_request_error...), code a stable code; message must hold no
// request or answer text.
func (s *StreamFromChat) Fail(typ, code, message string) []Event {
	s.out = s.out[:0:0]
	if s.ended {
		return nil
	}
	s.ended = true
	if s.started {
		errObj := newObj().str("code", failedCode(code)).str("message", message).done()
		snap := responseObject(s.Req, &answer{id: s.ID, created: s.Created, status: "failed",
			output: s.outputJSON(), usage: usageJSON(s.usage), err: errObj})
		s.emit("response.failed", s.event("response.failed").raw("response", snap))
	}
	s.out = append(s.out, ErrorEvent(typ, code, message, s.seq))
	s.seq++
	return s.out
}

// responseErrorCodes are the codes a failed response's error may carry.
var responseErrorCodes = []string{"server_error", "rate_limit_exceeded", "invalid_prompt"}

func failedCode(code string) string {
	if slices.Contains(responseErrorCodes, code) {
		return code
	}
	return "server_error"
}

// ErrorEvent is the error event of a stream, numbered seq: the fields the
// API documents (code, message, param) and the nested error object the
// API sends and the SDKs raise as an APIError. message must hold no
// request or answer text.
func ErrorEvent(typ, code, message string, seq int64) Event {
	codeJSON := null
	if code != "" {
		codeJSON = jsondoc.AppendString(nil, code)
	}
	inner := newObj().str("type", typ).raw("code", codeJSON).str("message", message).raw("param", nil).done()
	o := newObj().str("type", "error").num("sequence_number", seq).raw("code", codeJSON).str("message", message).
		raw("param", nil).raw("error", inner)
	return Event{Name: "error", Data: o.done()}
}

// NextSequence is the sequence number that follows a stream event's (0
// when it has none), for an error event after it.
func NextSequence(data []byte) int64 {
	v, err := jsondoc.Parse(data, jsondoc.Limits{})
	if err != nil {
		return 0
	}
	sn := v.Get("sequence_number")
	if sn == nil || sn.Kind != jsondoc.Number {
		return 0
	}
	n, err := strconv.ParseInt(sn.Str, 10, 64)
	if err != nil {
		return 0
	}
	return n + 1
}

// readChatUsage reads a chat usage object's counts.
func readChatUsage(u *jsondoc.Value) *chatUsage {
	n := func(v *jsondoc.Value) int64 {
		if v == nil || v.Kind != jsondoc.Number {
			return 0
		}
		x, _ := strconv.ParseInt(v.Str, 10, 64)
		return x
	}
	c := &chatUsage{PromptTokens: n(u.Get("prompt_tokens")), CompletionTokens: n(u.Get("completion_tokens")),
		TotalTokens: n(u.Get("total_tokens"))}
	c.PromptTokensDetails.CachedTokens = n(u.Get("prompt_tokens_details").Get("cached_tokens"))
	c.CompletionTokensDetails.ReasoningTokens = n(u.Get("completion_tokens_details").Get("reasoning_tokens"))
	return c
}
