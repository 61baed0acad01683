package upstream

import (
	"io"
	"net/http"
	"sync"
)

// HandlerTransport serves requests with an in-process http.Handler, streaming
// its output as the response body, so that an in-process provider goes through
// exactly the same code as a remote one.
type HandlerTransport struct {
	Handler http.Handler
}

// RoundTrip runs the handler in its own goroutine and returns as soon as it
// has written its header (or returned).
func (t HandlerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	pr, pw := io.Pipe()
	rw := &pipeResponseWriter{header: http.Header{}, pw: pw, ready: make(chan struct{})}
	go func() {
		defer func() {
			if p := recover(); p != nil {
				rw.writeHeaderOnce(http.StatusInternalServerError)
				_ = pw.CloseWithError(io.ErrUnexpectedEOF)
				return
			}
			rw.writeHeaderOnce(http.StatusOK)
			_ = pw.Close()
		}()
		t.Handler.ServeHTTP(rw, req)
	}()
	body := &pipeBody{PipeReader: pr, closed: make(chan struct{})}
	go func() {
		select {
		case <-req.Context().Done():
			_ = pr.CloseWithError(req.Context().Err())
		case <-body.closed:
		}
	}()
	select {
	case <-rw.ready:
	case <-req.Context().Done():
		return nil, req.Context().Err()
	}
	return &http.Response{
		Status:     http.StatusText(rw.status),
		StatusCode: rw.status,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     rw.sent,
		Body:       body,
		Request:    req,
	}, nil
}

// pipeBody stops the cancellation watcher when the reader is done.
type pipeBody struct {
	*io.PipeReader
	once   sync.Once
	closed chan struct{}
}

func (b *pipeBody) Close() error {
	b.once.Do(func() { close(b.closed) })
	return b.PipeReader.Close()
}

type pipeResponseWriter struct {
	header http.Header
	sent   http.Header
	status int
	pw     *io.PipeWriter
	once   sync.Once
	ready  chan struct{}
}

func (w *pipeResponseWriter) Header() http.Header { return w.header }

func (w *pipeResponseWriter) WriteHeader(status int) { w.writeHeaderOnce(status) }

func (w *pipeResponseWriter) writeHeaderOnce(status int) {
	w.once.Do(func() {
		w.status = status
		w.sent = w.header.Clone()
		close(w.ready)
	})
}

func (w *pipeResponseWriter) Write(p []byte) (int, error) {
	w.writeHeaderOnce(http.StatusOK)
	return w.pw.Write(p)
}

// Flush is a no-op: every Write already reaches the reader.
func (w *pipeResponseWriter) Flush() {}
