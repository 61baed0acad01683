package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os"
	"regexp"
	"slices"
	"testing"
	"time"
)

func FuzzReadWorkload(f *testing.F) {
	seed, err := os.ReadFile("testdata/workload.jsonl")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add([]byte(`{"custom_id":"a","url":"/v1/embeddings","body":{"model":"m","input":"x"}}`))
	f.Add([]byte("{\"url\":\"/v1/messages\",\"body\":{}}\n\n{"))
	f.Fuzz(func(t *testing.T, data []byte) {
		w, err := ReadWorkload(bytes.NewReader(data))
		if err != nil {
			return
		}
		for _, r := range w.Requests {
			if !slices.Contains(knownRoutes, r.Path) || !json.Valid(r.Body) || (r.Stream && r.Path == RouteEmbeddings) {
				t.Fatalf("accepted an unusable request: %+v", r)
			}
		}
	})
}

// scriptedConn is a connection whose peer answers with fixed bytes.
type scriptedConn struct {
	net.Conn // nil: only the methods below are called
	r        *bytes.Reader
}

func (s *scriptedConn) Read(p []byte) (int, error)       { return s.r.Read(p) }
func (s *scriptedConn) Write(p []byte) (int, error)      { return len(p), nil }
func (s *scriptedConn) Close() error                     { return nil }
func (s *scriptedConn) SetDeadline(time.Time) error      { return nil }
func (s *scriptedConn) SetReadDeadline(time.Time) error  { return nil }
func (s *scriptedConn) SetWriteDeadline(time.Time) error { return nil }

// An error key is a kind of failure, or a status and a short code: never
// text from the answer.
var errorKey = regexp.MustCompile(`^$|^(transport|read|stream read) [a-z-]+$|^stream (incomplete|[A-Za-z0-9_.-]{1,64})$|^[0-9]{3} ([A-Za-z0-9_.-]{1,64})$`)

func FuzzExchange(f *testing.F) {
	f.Add([]byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"), false)
	f.Add([]byte("HTTP/1.1 429 Too Many Requests\r\nContent-Length: 40\r\n\r\n{\"error\":{\"code\":\"rate_limit_exceeded\"}}"), false)
	f.Add([]byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1c\r\ndata: {\"a\":1}\n\ndata: [DONE]\n\n\r\n0\r\n\r\n"), true)
	f.Add([]byte("HTTP/1.1 200 OK\r\n\r\nevent: error\ndata: {\"error\":{\"type\":\"overloaded_error\"}}\n\n"), true)
	f.Fuzz(func(t *testing.T, answer []byte, stream bool) {
		c := &client{timeout: time.Second, all: map[*h1conn]bool{}}
		conn := &scriptedConn{r: bytes.NewReader(answer)}
		cn := newConn(&h1conn{c: conn, br: bufio.NewReaderSize(conn, 16<<10)})
		o, _ := c.exchange(&prepared{wire: []byte("POST / HTTP/1.1\r\n\r\n"), stream: stream}, time.Now(), cn)
		if !errorKey.MatchString(o.err) {
			t.Fatalf("error key %q is not a kind or a code", o.err)
		}
		if o.end < o.ttft {
			t.Fatalf("ended %v before the first token %v", o.end, o.ttft)
		}
	})
}

// BenchmarkClientRoundTrip is bench's own cost per request against the
// in-process stub, one connection: what the load generator adds.
func BenchmarkClientRoundTrip(b *testing.B) {
	for _, stream := range []bool{false, true} {
		name := map[bool]string{false: "plain", true: "streamed"}[stream]
		b.Run(name, func(b *testing.B) {
			s, err := Start("127.0.0.1:0", NewStubHandler(StubOptions{}))
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			p := DefaultProfile()
			p.StreamShare = map[bool]float64{false: 0, true: 1}[stream]
			w, _ := p.Generate()
			l := Load{Connections: 1}
			c, err := newClient(context.Background(), Target{URL: s.URL}, w, l)
			if err != nil {
				b.Fatal(err)
			}
			defer c.close()
			runPhase(context.Background(), c, l, 0, 10, nil)
			b.ReportAllocs()
			b.ResetTimer()
			if tl := runPhase(context.Background(), c, l, 0, b.N, nil); tl.ok != int64(b.N) {
				b.Fatalf("%d of %d succeeded: %v", tl.ok, b.N, tl.errors)
			}
		})
	}
}
