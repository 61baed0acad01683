package bench

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"time"
)

// client is bench's own HTTP/1.1 client for one target: keep-alive
// connections, one per request in flight, each written and read by the
// worker that holds it; no compression, no proxy, no redirects.
type client struct {
	d        *dialer
	requests []prepared
	timeout  time.Duration

	mu   sync.Mutex
	idle []*h1conn
	all  map[*h1conn]bool
	stop func() bool
}

// prepared is a workload request bound to a target: its bytes on the wire.
type prepared struct {
	wire   []byte
	stream bool
}

func newClient(ctx context.Context, t Target, w *Workload, l Load) (*client, error) {
	u, err := url.Parse(t.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%w: %q is not an http(s) URL", ErrOptions, t.URL)
	}
	d := &dialer{addr: u.Host}
	if u.Port() == "" {
		d.addr = net.JoinHostPort(u.Hostname(), map[string]string{"http": "80", "https": "443"}[u.Scheme])
	}
	if u.Scheme == "https" {
		d.tls = &tls.Config{ServerName: u.Hostname(), NextProtos: []string{"http/1.1"}, MinVersion: tls.VersionTLS12}
	}
	c := &client{d: d, timeout: l.Timeout, all: map[*h1conn]bool{}}
	if c.timeout <= 0 {
		c.timeout = time.Minute
	}
	prefix := strings.TrimSuffix(trimBase(u.Path), "/")
	for _, r := range w.Requests {
		c.requests = append(c.requests, prepared{wire: wireRequest(u.Host, prefix+r.Path, t.Key, r), stream: r.Stream})
	}
	c.stop = context.AfterFunc(ctx, c.abort)
	return c, nil
}

// wireRequest is the whole HTTP/1.1 request: line, headers and body.
func wireRequest(host, path, key string, r Request) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "POST %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: custos-bench\r\nContent-Type: application/json\r\n", path, host)
	if key != "" {
		fmt.Fprintf(&b, "Authorization: Bearer %s\r\n", key)
	}
	if r.Path == RouteMessages {
		b.WriteString("Anthropic-Version: 2023-06-01\r\n")
		if key != "" {
			fmt.Fprintf(&b, "X-Api-Key: %s\r\n", key)
		}
	}
	fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n", len(r.Body))
	b.Write(r.Body)
	return b.Bytes()
}

// get takes an idle connection, or nil.
func (c *client) get() *h1conn {
	c.mu.Lock()
	defer c.mu.Unlock()
	if n := len(c.idle); n > 0 {
		h := c.idle[n-1]
		c.idle = c.idle[:n-1]
		return h
	}
	return nil
}

// put keeps a connection for the next phase.
func (c *client) put(h *h1conn) {
	if h == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.idle = append(c.idle, h)
}

func (c *client) drop(h *h1conn) {
	h.close()
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.all, h)
}

// abort ends every read and write in flight (the run was interrupted).
func (c *client) abort() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for h := range c.all {
		_ = h.c.SetDeadline(time.Unix(1, 0))
	}
}

func (c *client) close() {
	c.stop()
	c.mu.Lock()
	defer c.mu.Unlock()
	for h := range c.all {
		h.close()
	}
	c.all, c.idle = map[*h1conn]bool{}, nil
}

// outcome is what one request came to. err is "" for a success, else a key
// for the error table: a status and the body's error code, or a kind of
// transport failure. It never holds response text.
type outcome struct {
	ttft time.Duration // first SSE data event, from start; 0 when not streamed
	end  time.Duration // last byte, from start
	err  string
}

// conn is one worker's connection and buffers.
type conn struct {
	h       *h1conn
	sse     *bufio.Reader
	scratch []byte
}

func newConn(h *h1conn) *conn {
	return &conn{h: h, sse: bufio.NewReaderSize(nil, 16<<10), scratch: make([]byte, 32<<10)}
}

// do sends p and reads the whole answer; times are measured from start, the
// request's intended send time. A kept-alive connection the server closed
// while idle is replaced once, before anything of the answer was read.
func (c *client) do(ctx context.Context, p *prepared, start time.Time, cn *conn) outcome {
	for attempt := 0; ; attempt++ {
		if cn.h == nil {
			h, err := c.d.dial(ctx)
			if err != nil {
				return outcome{end: time.Since(start), err: "transport " + errorKind(err)}
			}
			c.mu.Lock()
			c.all[h] = true
			c.mu.Unlock()
			cn.h = h
		}
		o, stale := c.exchange(p, start, cn)
		if !stale || attempt > 0 || ctx.Err() != nil {
			return o
		}
	}
}

// exchange writes one request on cn's connection and reads its answer. It
// reports stale when a reused connection failed before any answer byte.
func (c *client) exchange(p *prepared, start time.Time, cn *conn) (outcome, bool) {
	h := cn.h
	reused := h.reused
	h.reused = true
	fail := func(what string, err error) (outcome, bool) {
		stale := reused && h.br.Buffered() == 0 && (errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE))
		c.drop(h)
		cn.h = nil
		return outcome{end: time.Since(start), err: what + " " + errorKind(err)}, stale
	}
	_ = h.c.SetDeadline(time.Now().Add(c.timeout))
	if _, err := h.c.Write(p.wire); err != nil {
		return fail("transport", err)
	}
	r, err := h.readHead()
	if errors.Is(err, errMalformed) {
		c.drop(h)
		cn.h = nil
		return outcome{end: time.Since(start), err: "transport malformed"}, false
	}
	if err != nil {
		return fail("transport", err)
	}
	body, done := h.body(r)
	var o outcome
	switch {
	case r.status/100 != 2:
		n, _ := io.ReadFull(io.LimitReader(body, int64(len(cn.scratch))), cn.scratch)
		code := errorCode(cn.scratch[:n])
		if _, err := io.CopyBuffer(io.Discard, body, cn.scratch); err != nil {
			return fail("read", err)
		}
		o.err = fmt.Sprintf("%d %s", r.status, code)
	case p.stream:
		o = readStream(body, start, cn.sse)
		if strings.HasPrefix(o.err, "stream read") {
			c.drop(h)
			cn.h = nil
			return o, false
		}
	default:
		if _, err := io.CopyBuffer(io.Discard, body, cn.scratch); err != nil {
			return fail("read", err)
		}
	}
	o.end = time.Since(start)
	if !done() {
		c.drop(h)
		cn.h = nil
	}
	return o, false
}

// SSE event names that end a stream, or report its failure.
var (
	evMessageStop       = []byte("message_stop")
	evResponseCompleted = []byte("response.completed")
	evError             = []byte("error")
	evResponseFailed    = []byte("response.failed")
)

// readStream reads an SSE answer to its end marker: data: [DONE] (OpenAI
// chat), event: message_stop (Anthropic) or event: response.completed
// (OpenAI responses). An error event, or an end without the marker, is an
// error.
func readStream(body io.Reader, start time.Time, br *bufio.Reader) outcome {
	br.Reset(body)
	defer br.Reset(nil)
	var o outcome
	done, errEvent, midLine := false, false, false
	for {
		line, err := br.ReadSlice('\n')
		if len(line) > 0 && !midLine {
			switch {
			case bytes.HasPrefix(line, []byte("data:")):
				if o.ttft == 0 {
					o.ttft = time.Since(start)
				}
				data := bytes.TrimSpace(line[5:])
				if bytes.Equal(data, []byte("[DONE]")) {
					done = true
				} else if errEvent || bytes.HasPrefix(data, []byte(`{"error"`)) {
					o.err = "stream " + errorCode(data)
				}
				errEvent = false
			case bytes.HasPrefix(line, []byte("event:")):
				ev := bytes.TrimSpace(line[6:])
				done = done || bytes.Equal(ev, evMessageStop) || bytes.Equal(ev, evResponseCompleted)
				errEvent = bytes.Equal(ev, evError) || bytes.Equal(ev, evResponseFailed)
			}
		}
		midLine = errors.Is(err, bufio.ErrBufferFull)
		if err != nil && !midLine {
			o.end = time.Since(start)
			switch {
			case o.err != "":
			case !errors.Is(err, io.EOF):
				o.err = "stream read " + errorKind(err)
			case !done:
				o.err = "stream incomplete"
			}
			return o
		}
	}
}

// errorCode extracts a machine-readable code from an error body: error.code,
// else error.type, else a top-level code or type; "-" when there is none.
// Only short codes of letters, digits, '_', '-' and '.' are returned.
func errorCode(body []byte) string {
	var v struct {
		Error *struct {
			Code any    `json:"code"`
			Type string `json:"type"`
		} `json:"error"`
		Code any    `json:"code"`
		Type string `json:"type"`
	}
	if json.Unmarshal(body, &v) != nil {
		return "-"
	}
	var cands []any
	if v.Error != nil {
		cands = append(cands, v.Error.Code, v.Error.Type)
	}
	cands = append(cands, v.Code, v.Type)
	for _, c := range cands {
		if s, ok := c.(string); ok && s != "" && s != "error" && isCode(s) {
			return s
		}
	}
	return "-"
}

func isCode(s string) bool {
	if len(s) > 64 {
		return false
	}
	for _, r := range s {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' || r == '.'
		if !ok {
			return false
		}
	}
	return true
}

// errorKind names a transport failure without its text (which may carry
// addresses or bytes from the wire).
func errorKind(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "reset"
	case errors.Is(err, syscall.EPIPE):
		return "broken-pipe"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "eof"
	}
	return "other"
}
