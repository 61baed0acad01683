package responses

import (
	"bytes"
	"strconv"

	"github.com/custos-gateway/custos/gateway/jsondoc"
)

// Restorer puts pseudonymized values back into text: Write takes the next
// piece of a streamed text and returns what can be released (holding back
// a possible placeholder prefix), Flush releases the rest, Restore restores
// a whole text. *redact.Restorer satisfies it.
type Restorer interface {
	Write(chunk string) string
	Flush() string
	Restore(s string) string
}

// streamedText says where a streamed text's pieces and its whole sit:
// the delta event type and the done event type that ends it, the index
// member that tells texts of one item apart, and the done event's member
// with the whole text.
type streamedText struct {
	delta, done string
	index       string
	whole       string
}

var streamedTexts = []streamedText{
	{"response.output_text.delta", "response.output_text.done", "content_index", "text"},
	{"response.refusal.delta", "response.refusal.done", "content_index", "refusal"},
	{"response.function_call_arguments.delta", "response.function_call_arguments.done", "", "arguments"},
	{"response.reasoning_summary_text.delta", "response.reasoning_summary_text.done", "summary_index", "text"},
	{"response.reasoning_text.delta", "response.reasoning_text.done", "content_index", "text"},
	{"response.custom_tool_call_input.delta", "response.custom_tool_call_input.done", "", "input"},
}

var deltaOf, doneOf = func() (map[string]*streamedText, map[string]*streamedText) {
	d, e := map[string]*streamedText{}, map[string]*streamedText{}
	for i := range streamedTexts {
		d[streamedTexts[i].delta] = &streamedTexts[i]
		e[streamedTexts[i].done] = &streamedTexts[i]
	}
	return d, e
}()

// StreamRestorer restores pseudonyms in the typed events of a native
// Responses stream. Each streamed text (an output text or refusal per item
// and content index, a function call's arguments per item, reasoning
// texts) goes through its own Restorer, so a placeholder split across any
// two deltas is restored; the held-back rest is sent as one more delta
// just before the text's done event (or before the final event), and the
// sequence numbers after it shift to make room. Done events, items and
// response snapshots carry whole texts and are restored whole; function
// call arguments value by value, so they stay valid JSON.
type StreamRestorer struct {
	newRestorer func() Restorer
	whole       Restorer
	open        map[string]*openText
	order       []string // open keys, first opened first
	shift       int64
}

// openText is one streamed text in progress: its restorer and its last
// delta event, the template of a tail delta.
type openText struct {
	r    Restorer
	last *jsondoc.Value
}

// NewStreamRestorer returns a restorer for one stream; newRestorer gives a
// fresh Restorer of the request's pseudonyms (sess.NewRestorer).
func NewStreamRestorer(newRestorer func() Restorer) *StreamRestorer {
	return &StreamRestorer{newRestorer: newRestorer, open: map[string]*openText{}}
}

// Event restores one event and returns the events to send in its place:
// itself, preceded by a tail delta when a held-back rest is released.
// Data that is not a JSON object passes unchanged.
func (s *StreamRestorer) Event(ev Event) []Event {
	v, err := jsondoc.Parse(bytes.Clone(ev.Data), jsondoc.Limits{})
	if err != nil || v.Kind != jsondoc.Object {
		return []Event{ev}
	}
	typ, ok := v.Get("type").Text()
	if !ok {
		typ = ev.Name
	}
	var out []Event
	if st := deltaOf[typ]; st != nil {
		s.delta(st, v)
	} else {
		if st := doneOf[typ]; st != nil {
			out = s.release(v, s.key(st, v))
		} else if isTerminal(typ) {
			out = s.releaseAll(v)
		}
		s.restoreWhole(v)
	}
	s.renumber(v)
	return append(out, Event{Name: ev.Name, Data: jsondoc.Encode(v)})
}

func isTerminal(typ string) bool {
	return typ == "response.completed" || typ == "response.incomplete" || typ == "response.failed"
}

// key names a streamed text: its kind, item and index.
func (s *StreamRestorer) key(st *streamedText, v *jsondoc.Value) string {
	item, _ := v.Get("item_id").Text()
	idx := ""
	if n := v.Get(st.index); st.index != "" && n != nil && n.Kind == jsondoc.Number {
		idx = n.Str
	}
	return st.delta + "\x00" + item + "\x00" + idx
}

// delta restores a delta through its text's restorer.
func (s *StreamRestorer) delta(st *streamedText, v *jsondoc.Value) {
	k := s.key(st, v)
	t := s.open[k]
	if t == nil {
		t = &openText{r: s.newRestorer()}
		s.open[k] = t
		s.order = append(s.order, k)
	}
	t.last = v
	if d, ok := v.Get("delta").Text(); ok {
		v.Set("delta", jsondoc.NewString(t.r.Write(d)))
	}
}

// release ends the text under k: its held-back rest, if any, becomes a
// delta event sent before the event v.
func (s *StreamRestorer) release(v *jsondoc.Value, k string) []Event {
	t := s.open[k]
	if t == nil {
		return nil
	}
	delete(s.open, k)
	for i, o := range s.order {
		if o == k {
			s.order = append(s.order[:i], s.order[i+1:]...)
			break
		}
	}
	tail := t.r.Flush()
	if tail == "" {
		return nil
	}
	d := jsondoc.NewObject(append([]jsondoc.Member(nil), t.last.Kids...)...)
	d.Set("delta", jsondoc.NewString(tail))
	d.Delete("obfuscation")
	d.Set("sequence_number", v.Get("sequence_number"))
	s.renumber(d)
	s.shift++
	typ, _ := d.Get("type").Text()
	return []Event{{Name: typ, Data: jsondoc.Encode(d)}}
}

// releaseAll releases every open text, before a final event.
func (s *StreamRestorer) releaseAll(v *jsondoc.Value) []Event {
	var out []Event
	for len(s.order) > 0 {
		out = append(out, s.release(v, s.order[0])...)
	}
	return out
}

// restoreWhole restores every string value of an event (keys stay as they
// are, as in a complete answer).
func (s *StreamRestorer) restoreWhole(v *jsondoc.Value) {
	walk, err := jsondoc.Inspect(v, &AnswerRules, jsondoc.Limits{})
	if err != nil {
		return
	}
	if s.whole == nil {
		s.whole = s.newRestorer()
	}
	for _, t := range walk.Texts {
		if !t.IsKey {
			if out := s.whole.Restore(t.Text); out != t.Text {
				t.Set(out)
			}
		}
	}
	walk.Finish()
}

// renumber shifts an event's sequence number past the events inserted.
func (s *StreamRestorer) renumber(v *jsondoc.Value) {
	if s.shift == 0 {
		return
	}
	sn := v.Get("sequence_number")
	if sn == nil || sn.Kind != jsondoc.Number {
		return
	}
	if n, err := strconv.ParseInt(sn.Str, 10, 64); err == nil {
		v.Set("sequence_number", &jsondoc.Value{Kind: jsondoc.Number, Str: strconv.FormatInt(n+s.shift, 10)})
	}
}
