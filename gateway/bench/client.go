package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"time"
)

// client is bench's own HTTP/1.1 client for one target: keep-alive
// connections, at most one per request in flight, no compression, no proxy.
type client struct {
	hc       *http.Client
	requests []prepared
}

// prepared is a workload request bound to a target.
type prepared struct {
	url    string
	header http.Header // shared read-only by every send
	body   []byte
	stream bool
}

func newClient(t Target, w *Workload, l Load) *client {
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        l.Connections,
		MaxIdleConnsPerHost: l.Connections,
		MaxConnsPerHost:     l.Connections,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
		TLSHandshakeTimeout: 10 * time.Second,
		ReadBufferSize:      32 << 10,
		WriteBufferSize:     32 << 10,
	}
	timeout := l.Timeout
	if timeout <= 0 {
		timeout = time.Minute
	}
	c := &client{hc: &http.Client{Transport: tr, Timeout: timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	base := strings.TrimSuffix(t.URL, "/")
	for _, r := range w.Requests {
		h := http.Header{"Content-Type": {"application/json"}, "User-Agent": {"custos-bench"}}
		if t.Key != "" {
			h.Set("Authorization", "Bearer "+t.Key)
		}
		if r.Path == RouteMessages {
			h.Set("Anthropic-Version", "2023-06-01")
			if t.Key != "" {
				h.Set("X-Api-Key", t.Key)
			}
		}
		path := r.Path
		if strings.HasSuffix(base, "/v1") {
			path = strings.TrimPrefix(path, "/v1")
		}
		c.requests = append(c.requests, prepared{url: base + path, header: h, body: r.Body, stream: r.Stream})
	}
	return c
}

func (c *client) close() { c.hc.CloseIdleConnections() }

// outcome is what one request came to. err is "" for a success, else a key
// for the error table: a status and the body's error code, or a kind of
// transport failure. It never holds response text.
type outcome struct {
	ttft time.Duration // first SSE data event, from start; 0 when not streamed
	end  time.Duration // last byte, from start
	err  string
}

// conn is one worker's reusable buffers.
type conn struct {
	br      *bufio.Reader
	scratch []byte
}

func newConn() *conn {
	return &conn{br: bufio.NewReaderSize(nil, 16<<10), scratch: make([]byte, 32<<10)}
}

// do sends p and reads the whole answer; times are measured from start, the
// request's intended send time.
func (c *client) do(ctx context.Context, p *prepared, start time.Time, cn *conn) outcome {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.url, bytes.NewReader(p.body))
	if err != nil {
		return outcome{end: time.Since(start), err: "request invalid"}
	}
	req.Header = p.header
	resp, err := c.hc.Do(req)
	if err != nil {
		return outcome{end: time.Since(start), err: "transport " + errorKind(err)}
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		n, _ := io.ReadFull(io.LimitReader(resp.Body, int64(len(cn.scratch))), cn.scratch)
		_, _ = io.CopyBuffer(io.Discard, resp.Body, cn.scratch)
		return outcome{end: time.Since(start), err: fmt.Sprintf("%d %s", resp.StatusCode, errorCode(cn.scratch[:n]))}
	}
	if !p.stream {
		if _, err := io.CopyBuffer(io.Discard, resp.Body, cn.scratch); err != nil {
			return outcome{end: time.Since(start), err: "read " + errorKind(err)}
		}
		return outcome{end: time.Since(start)}
	}
	return readStream(resp.Body, start, cn.br)
}

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
				ev := string(bytes.TrimSpace(line[6:]))
				done = done || ev == "message_stop" || ev == "response.completed"
				errEvent = ev == "error" || ev == "response.failed"
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
