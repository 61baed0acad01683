package bench

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// rawServer answers every request on a connection with reply(n), n counting
// requests across connections, and closes the connection when reply says.
func rawServer(t *testing.T, reply func(n int) (string, bool)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	var n atomic.Int64
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				br := bufio.NewReader(c)
				for {
					req, err := http.ReadRequest(br)
					if err != nil {
						return
					}
					_, _ = io.Copy(io.Discard, req.Body)
					out, closeAfter := reply(int(n.Add(1)))
					_, _ = io.WriteString(c, out)
					if closeAfter {
						return
					}
				}
			}()
		}
	}()
	return "http://" + ln.Addr().String()
}

func plainWorkload(stream bool) *Workload {
	body := `{"model":"m","messages":[]}`
	if stream {
		body = `{"model":"m","stream":true,"messages":[]}`
	}
	return &Workload{Requests: []Request{{Path: RouteChat, Body: []byte(body), Stream: stream}}}
}

// TestClientFraming sends several requests over one worker's connection to
// servers that frame their answers in every way HTTP/1.1 allows, and some
// that break the rules.
func TestClientFraming(t *testing.T) {
	const okJSON = `{"ok":true}`
	for _, tc := range []struct {
		name   string
		stream bool
		reply  func(n int) (string, bool)
		want   []string // outcome errors, request by request
	}{
		{"content length", false, func(int) (string, bool) {
			return fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", len(okJSON), okJSON), false
		}, []string{"", "", ""}},
		{"chunked with trailer", false, func(int) (string, bool) {
			return "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{\"ok\"\r\n6\r\n:true}\r\n0\r\nX-Trailer: 1\r\n\r\n", false
		}, []string{"", "", ""}},
		{"connection close each time", false, func(int) (string, bool) {
			return "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}", true
		}, []string{"", "", ""}},
		{"body to end of connection", false, func(int) (string, bool) {
			return "HTTP/1.0 200 OK\r\n\r\n{}", true
		}, []string{"", "", ""}},
		{"idle keep-alive closed by the server", false, func(int) (string, bool) {
			return "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}", true // closes without saying so
		}, []string{"", "", ""}},
		{"truncated body", false, func(int) (string, bool) {
			return "HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n{}", true
		}, []string{"read eof", "read eof"}},
		{"not HTTP", false, func(int) (string, bool) { return "SSH-2.0-OpenSSH\r\n", true },
			[]string{"transport malformed"}},
		{"100 continue first", false, func(int) (string, bool) {
			body := `{"error":{"code":"overloaded","x":1}}`
			return fmt.Sprintf("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 503 Service Unavailable\r\nContent-Length: %d\r\n\r\n%s", len(body), body), false
		}, []string{"503 overloaded", "503 overloaded"}},
		{"chunked stream", true, func(int) (string, bool) {
			ev := "data: {\"choices\":[]}\n\ndata: [DONE]\n\n"
			return fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n0\r\n\r\n", len(ev), ev), false
		}, []string{"", ""}},
		{"stream cut short", true, func(int) (string, bool) {
			return "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n16\r\ndata: {\"choices\":[]}\n\n\r\n", true
		}, []string{"stream read eof", "stream read eof"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			url := rawServer(t, tc.reply)
			c, err := newClient(context.Background(), Target{URL: url}, plainWorkload(tc.stream), Load{Connections: 1, Timeout: 5 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			defer c.close()
			cn := newConn(nil)
			for i, want := range tc.want {
				o := c.do(context.Background(), &c.requests[0], time.Now(), cn)
				if o.err != want {
					t.Errorf("request %d: err %q, want %q", i, o.err, want)
				}
				if tc.stream && want == "" && o.ttft <= 0 {
					t.Errorf("request %d: no time to first token", i)
				}
			}
		})
	}
}

// TestClientKeepsConnectionsAlive counts connections: one worker, many
// requests, one connection, also across phases (warm-up, then measured).
func TestClientKeepsConnectionsAlive(t *testing.T) {
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(NewStubHandler(StubOptions{}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	w := mixedWorkload(t)
	l := Load{Connections: 3}
	c, err := newClient(context.Background(), Target{URL: srv.URL + "/v1"}, w, l)
	if err != nil {
		t.Fatal(err)
	}
	defer c.close()
	for _, n := range []int{30, 30} {
		tl := runPhase(context.Background(), c, l, 0, n, nil)
		if tl.ok != int64(n) {
			t.Fatalf("ok %d of %d: %v", tl.ok, n, tl.errors)
		}
	}
	if got := conns.Load(); got != 3 {
		t.Errorf("%d connections for 3 workers over two phases, want 3", got)
	}
}

func TestWireRequest(t *testing.T) {
	got := string(wireRequest("127.0.0.1:8080", "/v1/messages", "cst_k", Request{Path: RouteMessages, Body: []byte(`{"a":1}`)}))
	for _, want := range []string{"POST /v1/messages HTTP/1.1\r\n", "Host: 127.0.0.1:8080\r\n", "Authorization: Bearer cst_k\r\n",
		"X-Api-Key: cst_k\r\n", "Anthropic-Version: 2023-06-01\r\n", "Content-Length: 7\r\n\r\n{\"a\":1}"} {
		if !strings.Contains(got, want) {
			t.Errorf("request lacks %q:\n%s", want, got)
		}
	}
	req, err := http.ReadRequest(bufio.NewReader(strings.NewReader(got)))
	if err != nil || req.ContentLength != 7 {
		t.Errorf("not a valid HTTP request: %v", err)
	}
}
