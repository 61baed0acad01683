package sse_test

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/custos-gateway/custos/gateway/sse"
)

func readAll(t testing.TB, in string) ([]sse.Event, error) {
	t.Helper()
	r := sse.NewReader(strings.NewReader(in), 1<<10)
	var out []sse.Event
	for {
		ev, err := r.Next()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return out, err
		}
		ev.Data = bytes.Clone(ev.Data)
		out = append(out, ev)
	}
}

func TestReader(t *testing.T) {
	cases := []struct {
		name string
		in   string
		want []sse.Event
		err  error
	}{
		{"openai chunks", "data: {\"a\":1}\n\ndata: [DONE]\n\n",
			[]sse.Event{{Data: []byte(`{"a":1}`)}, {Data: []byte("[DONE]")}}, nil},
		{"anthropic named events", "event: message_start\ndata: {}\n\nevent: ping\ndata: {\"type\":\"ping\"}\n\n",
			[]sse.Event{{Event: "message_start", Data: []byte("{}")}, {Event: "ping", Data: []byte(`{"type":"ping"}`)}}, nil},
		{"CRLF and CR line ends", "data: a\r\n\r\ndata: b\r\rdata: c\n\n",
			[]sse.Event{{Data: []byte("a")}, {Data: []byte("b")}, {Data: []byte("c")}}, nil},
		{"multi-line data", "data: one\ndata: two\n\n", []sse.Event{{Data: []byte("one\ntwo")}}, nil},
		{"no space after colon", "data:x\n\n", []sse.Event{{Data: []byte("x")}}, nil},
		{"comment keep-alive", ": OPENROUTER PROCESSING\n\ndata: x\n\n",
			[]sse.Event{{Comment: true}, {Data: []byte("x")}}, nil},
		{"id and retry", "id: 7\nretry: 100\ndata: x\n\n", []sse.Event{{ID: "7", Retry: "100", Data: []byte("x")}}, nil},
		{"unknown field ignored", "foo: bar\ndata: x\n\n", []sse.Event{{Data: []byte("x")}}, nil},
		{"leading blank lines", "\n\n\ndata: x\n\n", []sse.Event{{Data: []byte("x")}}, nil},
		{"empty stream", "", nil, nil},
		{"cut inside an event", "data: {\"a\":1}\n\ndata: {\"b\"", []sse.Event{{Data: []byte(`{"a":1}`)}}, io.ErrUnexpectedEOF},
		{"line too long", "data: " + strings.Repeat("x", 2000) + "\n\n", nil, sse.ErrLineTooLong},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := readAll(t, tc.in)
			if !errors.Is(err, tc.err) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %d events %+v, want %d", len(got), got, len(tc.want))
			}
			for i := range got {
				g, w := got[i], tc.want[i]
				if g.Event != w.Event || g.ID != w.ID || g.Retry != w.Retry || g.Comment != w.Comment || !bytes.Equal(g.Data, w.Data) {
					t.Errorf("event %d = %+v (data %q), want %+v (data %q)", i, g, g.Data, w, w.Data)
				}
			}
		})
	}
}

// FuzzRoundTrip: the reader never panics, and whatever it reads, written back
// and read again, is the same events.
func FuzzRoundTrip(f *testing.F) {
	for _, s := range []string{
		"data: {\"a\":1}\n\ndata: [DONE]\n\n", "event: e\ndata: x\r\n\r\n", ": c\n\n", "data: a\ndata: b\n\n",
		"id: 1\nretry: 5\ndata:\n\n", "data", "\r\r\n\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		first, _ := readAll(t, in)
		var buf bytes.Buffer
		for _, ev := range first {
			if strings.ContainsAny(ev.Event+ev.ID+ev.Retry, "\r\n") {
				t.Fatalf("field value contains a line break: %+v", ev)
			}
			if err := sse.Write(&buf, ev); err != nil {
				t.Fatal(err)
			}
		}
		second, err := readAll(t, buf.String())
		if err != nil {
			t.Fatalf("re-reading written events: %v\n%q", err, buf.String())
		}
		if len(second) != len(first) {
			t.Fatalf("round trip changed the event count %d → %d\nin %q\nout %q", len(first), len(second), in, buf.String())
		}
		for i := range first {
			a, b := first[i], second[i]
			if a.Event != b.Event || a.ID != b.ID || a.Retry != b.Retry || a.Comment != b.Comment || !bytes.Equal(a.Data, b.Data) {
				t.Fatalf("event %d changed: %+v → %+v", i, a, b)
			}
		}
	})
}

func BenchmarkReader(b *testing.B) {
	chunk := `data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"word "},"finish_reason":null}]}` + "\n\n"
	stream := strings.Repeat(chunk, 200)
	b.SetBytes(int64(len(stream)))
	b.ReportAllocs()
	for b.Loop() {
		r := sse.NewReader(strings.NewReader(stream), 1<<20)
		for {
			if _, err := r.Next(); err != nil {
				break
			}
		}
	}
}

// pieces hands out its text in pieces of the given sizes (cycled), and
// counts its reads.
type pieces struct {
	s     string
	sizes []int
	reads int
}

func (p *pieces) Read(b []byte) (int, error) {
	if p.s == "" {
		return 0, io.EOF
	}
	n := min(len(b), len(p.s), max(1, p.sizes[p.reads%len(p.sizes)]))
	p.reads++
	copy(b, p.s[:n])
	p.s = p.s[n:]
	return n, nil
}

// TestReady: after each Next, whether the next event is at hand without a
// read, for bursts, CRLF and CR line ends, comments, partial events and
// stray blank lines.
func TestReady(t *testing.T) {
	cases := []struct {
		in   string
		want []bool // Ready after each Next that returns an event
	}{
		{"data: a\n\ndata: b\n\n", []bool{true, false}},
		{"data: a\r\n\r\ndata: b\r\n\r\ndata: c\r\n\r\n", []bool{true, true, false}},
		{"data: a\r\rdata: b\r\r", []bool{true, false}},
		{"data: a\n\n: ping\n\ndata: b\n\n", []bool{true, true, false}},
		{"data: a\n\ndata: b\n", []bool{false}}, // the second is not ended yet
		{"data: a\n\n\n\n\n", []bool{false}},    // blank lines only: Next would read on
		{"data: a\n\nevent: x\ndata: b\n\n", []bool{true, false}},
		{"data: a\r\n\r\n\r\ndata: b\r\n\r\n", []bool{true, false}},
	}
	for _, c := range cases {
		r := sse.NewReader(&pieces{s: c.in, sizes: []int{1 << 20}}, 1<<10)
		for i, want := range c.want {
			if _, err := r.Next(); err != nil {
				t.Fatalf("%q: event %d: %v", c.in, i, err)
			}
			if got := r.Ready(); got != want {
				t.Errorf("%q: Ready after event %d = %v, want %v", c.in, i, got, want)
			}
		}
	}
}

// FuzzReady: whenever Ready says the next event is at hand, Next returns
// it (or the end) without reading, whatever the stream and however it is
// cut into reads.
func FuzzReady(f *testing.F) {
	for _, s := range []string{"data: a\n\ndata: b\n\n", "data: a\r\n\r\n: c\r\n\r\n", "data: a\r\rdata: b\r\r\n\n", "\n\n\r\n", "data: x"} {
		f.Add(s, []byte{3, 200})
	}
	f.Fuzz(func(t *testing.T, in string, cuts []byte) {
		sizes := []int{1 << 20}
		if len(cuts) > 0 {
			sizes = sizes[:0]
			for _, c := range cuts {
				sizes = append(sizes, int(c))
			}
		}
		p := &pieces{s: in, sizes: sizes}
		r := sse.NewReader(p, 1<<10)
		for range len(in) + 2 {
			ready, before := r.Ready(), p.reads
			_, err := r.Next()
			if ready && p.reads != before {
				t.Fatalf("Ready said an event was at hand, yet Next read %d times\nin %q", p.reads-before, in)
			}
			if err != nil {
				return
			}
		}
	})
}
