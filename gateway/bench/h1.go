package bench

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http/httputil"
	"strconv"
	"time"
)

// h1conn is one keep-alive HTTP/1.1 connection, owned by one worker at a
// time: the worker writes a request and reads its answer on its own
// goroutine, with no hand-off between goroutines (which is what a load
// generator's own latency is mostly made of).
type h1conn struct {
	c      net.Conn
	br     *bufio.Reader
	reused bool // has carried a request before
}

// errMalformed reports an answer that is not HTTP/1.x.
var errMalformed = errors.New("bench: malformed HTTP response")

// dialer opens connections to one target.
type dialer struct {
	addr    string      // host:port
	tls     *tls.Config // nil for http
	timeout time.Duration
}

func (d *dialer) dial(ctx context.Context) (*h1conn, error) {
	nd := net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	c, err := nd.DialContext(ctx, "tcp", d.addr)
	if err != nil {
		return nil, err
	}
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true)
	}
	if d.tls != nil {
		tc := tls.Client(c, d.tls)
		_ = tc.SetDeadline(time.Now().Add(10 * time.Second))
		if err := tc.HandshakeContext(ctx); err != nil {
			c.Close()
			return nil, err
		}
		c = tc
	}
	return &h1conn{c: c, br: bufio.NewReaderSize(c, 16<<10)}, nil
}

func (h *h1conn) close() { _ = h.c.Close() }

// response is a parsed status line and the headers bench needs.
type response struct {
	status  int
	length  int64 // -1: unknown
	chunked bool
	close   bool // the server will close the connection after this answer
}

// readHead reads a status line and headers, skipping 1xx answers.
func (h *h1conn) readHead() (response, error) {
	for {
		line, err := h.br.ReadSlice('\n')
		if err != nil {
			return response{}, err
		}
		if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) {
			return response{}, errMalformed
		}
		status, err := strconv.Atoi(string(line[9:12]))
		if err != nil {
			return response{}, errMalformed
		}
		r := response{status: status, length: -1, close: line[7] == '0'}
		if err := h.readHeaders(&r); err != nil {
			return response{}, err
		}
		if status >= 200 || status == 101 {
			return r, nil
		}
	}
}

func (h *h1conn) readHeaders(r *response) error {
	for {
		line, err := h.br.ReadSlice('\n')
		if err != nil {
			if errors.Is(err, bufio.ErrBufferFull) {
				return errMalformed
			}
			return err
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			return nil
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			return errMalformed
		}
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			n, err := strconv.ParseInt(string(value), 10, 64)
			if err != nil || n < 0 {
				return errMalformed
			}
			r.length = n
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			r.chunked = bytes.Contains(bytes.ToLower(value), []byte("chunked"))
		case bytes.EqualFold(name, []byte("Connection")):
			r.close = r.close || bytes.EqualFold(value, []byte("close"))
		}
	}
}

// body returns a reader of the answer's body, and a function to call once
// it has been read to its end, which reports whether the connection can
// carry another request.
func (h *h1conn) body(r response) (io.Reader, func() bool) {
	switch {
	case r.status == 204 || r.status == 304:
		return bytes.NewReader(nil), func() bool { return !r.close }
	case r.chunked:
		return httputil.NewChunkedReader(h.br), func() bool { return h.readTrailer() && !r.close }
	case r.length >= 0:
		return &exactReader{r: h.br, n: r.length}, func() bool { return !r.close }
	}
	return h.br, func() bool { return false } // delimited by the end of the connection
}

// readTrailer consumes the trailer after the last chunk.
func (h *h1conn) readTrailer() bool {
	for {
		line, err := h.br.ReadSlice('\n')
		if err != nil {
			return false
		}
		if len(bytes.TrimRight(line, "\r\n")) == 0 {
			return true
		}
	}
}

// exactReader reads exactly n bytes: an end before them is an error.
type exactReader struct {
	r io.Reader
	n int64
}

func (e *exactReader) Read(p []byte) (int, error) {
	if e.n <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > e.n {
		p = p[:e.n]
	}
	n, err := e.r.Read(p)
	e.n -= int64(n)
	if errors.Is(err, io.EOF) && e.n > 0 {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}
