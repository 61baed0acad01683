package responses

import (
	"bytes"
	"strings"

	"github.com/custos-gateway/custos/gateway/jsondoc"
)

// Event is one typed stream event: Name is its SSE event name (the type),
// Data its JSON.
type Event struct {
	Name string
	Data []byte
}

// StreamFromChat turns chat completion chunks (the stream of an endpoint
// ToChat translated for, usage in the last chunk before [DONE]) into the
// Responses API's typed events, in the order the API sends them:
//
//	response.created, response.in_progress,
//	per message: response.output_item.added, response.content_part.added,
//	  response.output_text.delta… (response.refusal.delta…),
//	  response.output_text.done, response.content_part.done,
//	  response.output_item.done
//	per function call: response.output_item.added,
//	  response.function_call_arguments.delta…,
//	  response.function_call_arguments.done, response.output_item.done
//	response.completed (response.incomplete when cut by a limit or a filter)
//
// every event with its sequence_number, the last carrying the whole
// response with the provider's usage.
type StreamFromChat struct {
	Req     *Request
	ID      string // resp_...
	Created int64

	seq     int64
	started bool
	ended   bool
	items   []*outItem
	msg     *outItem            // the open message item, or nil
	calls   map[string]*outItem // chat tool call index → its item
	call    *outItem            // the open function call item, or nil
	finish  string
	usage   *chatUsage
	out     []Event
}

// outItem is one output item being streamed.
type outItem struct {
	index  int
	id     string
	call   bool
	closed bool
	parts  []*outPart // a message's content parts; the last may be open
	callID string
	name   string
	args   strings.Builder
}

type outPart struct {
	refusal bool
	text    strings.Builder
	closed  bool
}

// Chunk translates one chat data payload ("[DONE]" included) into zero or
// more events. A payload that is not a chunk yields none.
func (s *StreamFromChat) Chunk(data []byte) []Event {
	s.out = s.out[:0:0]
	if s.ended {
		return nil
	}
	if bytes.Equal(bytes.TrimSpace(data), []byte("[DONE]")) {
		s.start()
		s.complete()
		return s.out
	}
	v, err := jsondoc.Parse(data, jsondoc.Limits{})
	if err != nil || v.Kind != jsondoc.Object {
		return nil
	}
	s.start()
	if u := v.Get("usage"); u != nil && u.Kind == jsondoc.Object {
		s.usage = readChatUsage(u)
	}
	choices := v.Get("choices")
	if choices == nil || choices.Kind != jsondoc.Array || len(choices.Kids) == 0 {
		return s.out
	}
	ch := choices.Kids[0].Value
	if d := ch.Get("delta"); d != nil && d.Kind == jsondoc.Object {
		s.delta(d)
	}
	if f, ok := ch.Get("finish_reason").Text(); ok {
		s.finish = f
		s.closeAll()
	}
	return s.out
}

// delta translates one choice delta: text, a refusal, tool call pieces.
func (s *StreamFromChat) delta(d *jsondoc.Value) {
	if t, ok := d.Get("content").Text(); ok && t != "" {
		s.text(t, false)
	}
	if t, ok := d.Get("refusal").Text(); ok && t != "" {
		s.text(t, true)
	}
	if calls := d.Get("tool_calls"); calls != nil && calls.Kind == jsondoc.Array {
		for _, m := range calls.Kids {
			s.toolCall(m.Value)
		}
	}
}

func (s *StreamFromChat) emit(typ string, o *obj) {
	s.out = append(s.out, Event{Name: typ, Data: o.done()})
}

// event starts an event's JSON: its type and sequence number.
func (s *StreamFromChat) event(typ string) *obj {
	o := newObj().str("type", typ).num("sequence_number", s.seq)
	s.seq++
	return o
}

// start sends response.created and response.in_progress, once.
func (s *StreamFromChat) start() {
	if s.started {
		return
	}
	s.started = true
	snap := responseObject(s.Req, &answer{id: s.ID, created: s.Created, status: "in_progress"})
	s.emit("response.created", s.event("response.created").raw("response", snap))
	s.emit("response.in_progress", s.event("response.in_progress").raw("response", snap))
}

// text passes on a piece of text or refusal, opening the message item and
// the right content part first.
func (s *StreamFromChat) text(t string, refusal bool) {
	m := s.openMessage()
	if n := len(m.parts); n == 0 || m.parts[n-1].closed || m.parts[n-1].refusal != refusal {
		if n > 0 {
			s.closePart(m, n-1)
		}
		s.openPart(m, refusal)
	}
	ci := len(m.parts) - 1
	m.parts[ci].text.WriteString(t)
	if refusal {
		s.emit("response.refusal.delta", s.event("response.refusal.delta").str("item_id", m.id).
			num("output_index", int64(m.index)).num("content_index", int64(ci)).str("delta", t))
		return
	}
	s.emit("response.output_text.delta", s.event("response.output_text.delta").str("item_id", m.id).
		num("output_index", int64(m.index)).num("content_index", int64(ci)).str("delta", t).raw("logprobs", emptyArray))
}

// openMessage returns the open message item, closing an open function
// call and adding the item first when there is none.
func (s *StreamFromChat) openMessage() *outItem {
	if s.msg != nil {
		return s.msg
	}
	s.closeCall()
	m := &outItem{index: len(s.items)}
	m.id = itemID("msg_", s.ID, m.index)
	s.items = append(s.items, m)
	s.msg = m
	s.emit("response.output_item.added", s.event("response.output_item.added").num("output_index", int64(m.index)).
		raw("item", messageItem(m.id, "in_progress", nil)))
	return m
}

func (s *StreamFromChat) openPart(m *outItem, refusal bool) {
	m.parts = append(m.parts, &outPart{refusal: refusal})
	part := textPartJSON("")
	if refusal {
		part = refusalPartJSON("")
	}
	s.emit("response.content_part.added", s.event("response.content_part.added").str("item_id", m.id).
		num("output_index", int64(m.index)).num("content_index", int64(len(m.parts)-1)).raw("part", part))
}

// closePart sends a content part's done events.
func (s *StreamFromChat) closePart(m *outItem, ci int) {
	p := m.parts[ci]
	if p.closed {
		return
	}
	p.closed = true
	text := p.text.String()
	if p.refusal {
		s.emit("response.refusal.done", s.event("response.refusal.done").str("item_id", m.id).
			num("output_index", int64(m.index)).num("content_index", int64(ci)).str("refusal", text))
	} else {
		s.emit("response.output_text.done", s.event("response.output_text.done").str("item_id", m.id).
			num("output_index", int64(m.index)).num("content_index", int64(ci)).str("text", text).raw("logprobs", emptyArray))
	}
	s.emit("response.content_part.done", s.event("response.content_part.done").str("item_id", m.id).
		num("output_index", int64(m.index)).num("content_index", int64(ci)).raw("part", p.json()))
}

func (p *outPart) json() []byte {
	if p.refusal {
		return refusalPartJSON(p.text.String())
	}
	return textPartJSON(p.text.String())
}

// closeMessage closes the open message item.
func (s *StreamFromChat) closeMessage() {
	m := s.msg
	if m == nil {
		return
	}
	s.msg = nil
	for i := range m.parts {
		s.closePart(m, i)
	}
	m.closed = true
	s.emit("response.output_item.done", s.event("response.output_item.done").num("output_index", int64(m.index)).
		raw("item", s.itemJSON(m)))
}

// itemStatus is a finished item's status.
func (s *StreamFromChat) itemStatus(it *outItem) string {
	if !it.closed {
		return "in_progress"
	}
	status, _ := finishStatus(s.finish)
	return status
}

func (s *StreamFromChat) itemJSON(it *outItem) []byte {
	if it.call {
		return functionCallItem(it.id, s.itemStatus(it), it.callID, it.name, it.args.String())
	}
	parts := make([][]byte, len(it.parts))
	for i, p := range it.parts {
		parts[i] = p.json()
	}
	return messageItem(it.id, s.itemStatus(it), parts)
}
