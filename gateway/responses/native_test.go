package responses_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	sdk "github.com/openai/openai-go/v3/responses"

	"github.com/custos-gateway/custos/gateway/responses"
	"github.com/custos-gateway/custos/redact"
)

func TestReadUsage(t *testing.T) {
	usage := `{"input_tokens":120,"input_tokens_details":{"cached_tokens":100},"output_tokens":30,"output_tokens_details":{"reasoning_tokens":12},"total_tokens":150}`
	cases := []struct {
		name, body string
		want       *responses.Usage
	}{
		{"response object", `{"id":"resp_1","object":"response","status":"completed","output":[],"usage":` + usage + `}`,
			&responses.Usage{PromptTokens: 120, CompletionTokens: 30, TotalTokens: 150, CachedTokens: 100, ReasoningTokens: 12}},
		{"completed event", `{"type":"response.completed","sequence_number":9,"response":{"id":"r","usage":` + usage + `}}`,
			&responses.Usage{PromptTokens: 120, CompletionTokens: 30, TotalTokens: 150, CachedTokens: 100, ReasoningTokens: 12}},
		{"incomplete event", `{"type":"response.incomplete","response":{"usage":{"input_tokens":5,"output_tokens":16,"total_tokens":21}}}`,
			&responses.Usage{PromptTokens: 5, CompletionTokens: 16, TotalTokens: 21}},
		{"no total", `{"usage":{"input_tokens":5,"output_tokens":6}}`, &responses.Usage{PromptTokens: 5, CompletionTokens: 6, TotalTokens: 11}},
		{"created event", `{"type":"response.created","response":{"id":"r","usage":null}}`, nil},
		{"text delta naming usage", `{"type":"response.output_text.delta","delta":"\"usage\": none"}`, nil},
		{"not JSON", `"usage"{`, nil},
	}
	for _, tc := range cases {
		got := responses.ReadUsage([]byte(tc.body))
		if (got == nil) != (tc.want == nil) || (got != nil && *got != *tc.want) {
			t.Errorf("%s: got %+v, want %+v", tc.name, got, tc.want)
		}
	}
	u := responses.ReadUsage([]byte(`{"usage":` + usage + `}`)).OpenAI()
	if u.PromptTokens != 120 || u.CompletionTokens != 30 || u.TotalTokens != 150 || u.CachedTokens() != 100 {
		t.Errorf("as chat usage: %+v", u)
	}
}

// nativeStream builds the typed events a Responses endpoint sends for a
// message whose text arrives in the given deltas, then a function call
// whose arguments arrive in argDeltas, each delta with an obfuscation pad.
func nativeStream(deltas, argDeltas []string) []responses.Event {
	var evs []responses.Event
	add := func(typ string, fields string) {
		data := fmt.Sprintf(`{"type":%q,"sequence_number":%d%s}`, typ, len(evs), fields)
		evs = append(evs, responses.Event{Name: typ, Data: []byte(data)})
	}
	q := func(s string) string { b, _ := json.Marshal(s); return string(b) }
	text, args := strings.Join(deltas, ""), strings.Join(argDeltas, "")
	item := `{"id":"msg_1","type":"message","status":"completed","role":"assistant","content":[{"type":"output_text","annotations":[],"text":` + q(text) + `}]}`
	call := `{"id":"fc_1","type":"function_call","status":"completed","call_id":"call_1","name":"note","arguments":` + q(args) + `}`
	add("response.created", `,"response":{"id":"resp_1","status":"in_progress","output":[],"usage":null,"instructions":"Greet [PERSON_1]."}`)
	add("response.output_item.added", `,"output_index":0,"item":{"id":"msg_1","type":"message","status":"in_progress","role":"assistant","content":[]}`)
	for _, d := range deltas {
		add("response.output_text.delta", `,"item_id":"msg_1","output_index":0,"content_index":0,"delta":`+q(d)+`,"logprobs":[],"obfuscation":"pad"`)
	}
	add("response.output_text.done", `,"item_id":"msg_1","output_index":0,"content_index":0,"text":`+q(text)+`,"logprobs":[]`)
	add("response.output_item.done", `,"output_index":0,"item":`+item)
	for _, d := range argDeltas {
		add("response.function_call_arguments.delta", `,"item_id":"fc_1","output_index":1,"delta":`+q(d)+`,"obfuscation":"pad"`)
	}
	add("response.function_call_arguments.done", `,"item_id":"fc_1","output_index":1,"arguments":`+q(args))
	add("response.output_item.done", `,"output_index":1,"item":`+call)
	add("response.completed", `,"response":{"id":"resp_1","status":"completed","instructions":"Greet [PERSON_1].","output":[`+item+`,`+call+`],"usage":{"input_tokens":3,"output_tokens":4,"total_tokens":7}}`)
	return evs
}

func session(t testing.TB, value string) *redact.Session {
	t.Helper()
	sess := redact.NewSession(nil)
	out, err := sess.Apply(value, []redact.Finding{{Type: redact.Person, Start: 0, End: len(value)}}, nil)
	if err != nil || out != "[PERSON_1]" {
		t.Fatalf("pseudonym %q, %v", out, err)
	}
	return sess
}

// A placeholder split at any point across two deltas is restored; the text
// the deltas add up to is the done text; sequence numbers stay a count; the
// arguments stay valid JSON; the final snapshot is restored whole.
func TestStreamRestorerEverySplit(t *testing.T) {
	const value = `Jane "JR" Roe`
	sess := session(t, value)
	const text = "Hello [PERSON_1], welcome."
	const args = `{"who":"[PERSON_1]"}`
	for cut := 0; cut <= len(text); cut++ {
		argCut := min(cut, len(args))
		evs := nativeStream([]string{text[:cut], text[cut:]}, []string{args[:argCut], args[argCut:]})
		sr := responses.NewStreamRestorer(func() responses.Restorer { return sess.NewRestorer() })
		var out []responses.Event
		for _, ev := range evs {
			out = append(out, sr.Event(ev)...)
		}
		checkRestored(t, cut, out, `Hello Jane "JR" Roe, welcome.`, value)
	}
}

func checkRestored(t *testing.T, cut int, out []responses.Event, wantText, value string) {
	t.Helper()
	var deltas, argDeltas strings.Builder
	for i, ev := range out {
		var u sdk.ResponseStreamEventUnion
		if err := json.Unmarshal(ev.Data, &u); err != nil || u.SequenceNumber != int64(i) || u.Type != ev.Name {
			t.Fatalf("cut %d event %d: %s (%v)", cut, i, ev.Data, err)
		}
		switch u.Type {
		case "response.output_text.delta":
			deltas.WriteString(u.Delta)
		case "response.function_call_arguments.delta":
			argDeltas.WriteString(u.Delta)
		case "response.output_text.done":
			if u.Text != wantText || deltas.String() != wantText {
				t.Errorf("cut %d: deltas %q done %q, want %q", cut, deltas.String(), u.Text, wantText)
			}
		case "response.function_call_arguments.done":
			var a map[string]string
			if json.Unmarshal([]byte(u.Arguments), &a) != nil || a["who"] != value {
				t.Errorf("cut %d: arguments %s", cut, u.Arguments)
			}
			if !strings.Contains(argDeltas.String(), "Jane") || strings.Contains(argDeltas.String(), "[PERSON") {
				t.Errorf("cut %d: argument deltas %q", cut, argDeltas.String())
			}
		case "response.completed":
			r := u.Response
			if r.OutputText() != wantText || r.Instructions.OfString != "Greet "+value+"." || r.Usage.TotalTokens != 7 {
				t.Errorf("cut %d: final text %q instructions %q", cut, r.OutputText(), r.Instructions.OfString)
			}
			var a map[string]string
			if json.Unmarshal([]byte(r.Output[1].AsFunctionCall().Arguments), &a) != nil || a["who"] != value {
				t.Errorf("cut %d: final arguments %s", cut, r.Output[1].AsFunctionCall().Arguments)
			}
		}
	}
}

// A text whose done event never comes is released before the final event.
func TestStreamRestorerReleasesAtTheEnd(t *testing.T) {
	sess := session(t, "Jane Roe")
	sr := responses.NewStreamRestorer(func() responses.Restorer { return sess.NewRestorer() })
	in := []string{
		`{"type":"response.output_text.delta","sequence_number":0,"item_id":"m","output_index":0,"content_index":0,"delta":"Hi [PERS"}`,
		`{"type":"response.completed","sequence_number":1,"response":{"output":[]}}`,
	}
	var out []responses.Event
	for _, d := range in {
		out = append(out, sr.Event(responses.Event{Name: "x", Data: []byte(d)})...)
	}
	if len(out) != 3 || !strings.Contains(string(out[0].Data), `"delta":"Hi "`) || !strings.Contains(string(out[1].Data), `"delta":"[PERS"`) ||
		!strings.Contains(string(out[1].Data), `"sequence_number":1`) || !strings.Contains(string(out[2].Data), `"sequence_number":2`) {
		t.Errorf("got %q", out)
	}
	if e := sr.Event(responses.Event{Name: "ping", Data: []byte("not json")}); len(e) != 1 || string(e[0].Data) != "not json" {
		t.Errorf("non-JSON event changed: %q", e)
	}
}

// Refusals and reasoning summaries are restored per item and index; texts
// of different items do not mix.
func TestStreamRestorerKeepsTextsApart(t *testing.T) {
	sess := session(t, "Jane Roe")
	sr := responses.NewStreamRestorer(func() responses.Restorer { return sess.NewRestorer() })
	in := []string{
		`{"type":"response.refusal.delta","sequence_number":0,"item_id":"a","content_index":0,"delta":"No, [PERSON"}`,
		`{"type":"response.reasoning_summary_text.delta","sequence_number":1,"item_id":"b","summary_index":0,"delta":"_1] is"}`,
		`{"type":"response.refusal.delta","sequence_number":2,"item_id":"a","content_index":0,"delta":"_1]."}`,
		`{"type":"response.reasoning_summary_text.done","sequence_number":3,"item_id":"b","summary_index":0,"text":"_1] is"}`,
		`{"type":"response.refusal.done","sequence_number":4,"item_id":"a","content_index":0,"refusal":"No, [PERSON_1]."}`,
	}
	var got []string
	for _, d := range in {
		for _, e := range sr.Event(responses.Event{Data: []byte(d)}) {
			var v struct{ Delta, Refusal, Text string }
			_ = json.Unmarshal(e.Data, &v)
			got = append(got, v.Delta+v.Refusal+v.Text)
		}
	}
	want := []string{"No, ", "_1] is", "Jane Roe.", "_1] is", "No, Jane Roe."}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestTerminal(t *testing.T) {
	cases := map[string]bool{
		`{"type":"response.completed","sequence_number":3,"response":{}}`:                true,
		`{"sequence_number":3,"type":"response.incomplete","response":{}}`:               true,
		`{"type":"response.failed","response":{"error":{}}}`:                             true,
		`{"type":"response.output_text.delta","delta":"\"response.completed\" is done"}`: false,
		`{"type":"response.created","response":{"status":"in_progress"}}`:                false,
		`not json "response.completed"`:                                                  false,
	}
	for data, want := range cases {
		if got := responses.Terminal([]byte(data)); got != want {
			t.Errorf("Terminal(%s) = %v", data, got)
		}
	}
}
