package gateway

import (
	"errors"
	"io"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/custos-gateway/custos/gateway/anthropic"
	"github.com/custos-gateway/custos/gateway/gemini"
	"github.com/custos-gateway/custos/gateway/sse"
)

// dialect is the wire format a caller speaks.
type dialect int

const (
	dialectOpenAI dialect = iota
	dialectAnthropic
)

// eventSource yields a provider's stream as OpenAI chunk events.
type eventSource interface {
	Next() (sse.Event, error)
}

// anthropicEvents translates an Anthropic provider stream into OpenAI chunk
// events, queueing when one event becomes several.
type anthropicEvents struct {
	r     *sse.Reader
	conv  *anthropic.StreamToOpenAI
	queue [][]byte
}

func (a *anthropicEvents) Next() (sse.Event, error) {
	for len(a.queue) == 0 {
		ev, err := a.r.Next()
		if err != nil {
			return sse.Event{}, err
		}
		if ev.Comment {
			continue
		}
		out, err := a.conv.Event(ev.Event, ev.Data)
		if err != nil {
			return sse.Event{}, errors.Join(errStreamInterrupted, err)
		}
		a.queue = out
	}
	data := a.queue[0]
	a.queue = a.queue[1:]
	return sse.Event{Data: data}, nil
}

// geminiEvents translates a Gemini provider stream, which ends without a
// marker, into OpenAI chunk events ending in [DONE].
type geminiEvents struct {
	r     *sse.Reader
	conv  *gemini.StreamToOpenAI
	queue [][]byte
	ended bool
}

func (g *geminiEvents) Next() (sse.Event, error) {
	for len(g.queue) == 0 {
		if g.ended {
			return sse.Event{}, io.EOF
		}
		ev, err := g.r.Next()
		if errors.Is(err, io.EOF) {
			out, finished := g.conv.End()
			if !finished {
				return sse.Event{}, io.ErrUnexpectedEOF
			}
			g.queue, g.ended = out, true
			continue
		}
		if err != nil {
			return sse.Event{}, err
		}
		if ev.Comment {
			continue
		}
		out, err := g.conv.Event(ev.Data)
		if err != nil {
			return sse.Event{}, errors.Join(errStreamInterrupted, err)
		}
		g.queue = out
	}
	data := g.queue[0]
	g.queue = g.queue[1:]
	return sse.Event{Data: data}, nil
}

// streamWriter writes OpenAI chunk events to the caller in its dialect.
type streamWriter struct {
	w    io.Writer
	d    dialect
	conv *anthropic.StreamFromOpenAI
}

func newStreamWriter(w io.Writer, d dialect, model string) *streamWriter {
	sw := &streamWriter{w: w, d: d}
	if d == dialectAnthropic {
		sw.conv = &anthropic.StreamFromOpenAI{Model: model}
	}
	return sw
}

func (sw *streamWriter) write(ev sse.Event) error {
	if sw.d == dialectOpenAI || ev.Comment {
		return sse.Write(sw.w, ev)
	}
	for _, out := range sw.conv.Chunk(ev.Data) {
		if err := sse.Write(sw.w, sse.Event{Event: out.Name, Data: out.Data}); err != nil {
			return err
		}
	}
	return nil
}

// anthropicErrorType maps a status to Anthropic's error types.
func anthropicErrorType(status int) string {
	switch status {
	case http.StatusBadRequest, http.StatusUnsupportedMediaType, http.StatusMethodNotAllowed:
		return "invalid_request_error"
	case http.StatusUnauthorized:
		return "authentication_error"
	case http.StatusForbidden:
		return "permission_error"
	case http.StatusNotFound:
		return "not_found_error"
	case http.StatusRequestEntityTooLarge:
		return "request_too_large"
	case http.StatusTooManyRequests:
		return "rate_limit_error"
	case http.StatusServiceUnavailable, 529:
		return "overloaded_error"
	}
	return "api_error"
}

// writeDialectError sends e in the caller's dialect.
func writeDialectError(c *gin.Context, d dialect, e apiError) {
	if d == dialectOpenAI {
		writeError(c, e)
		return
	}
	if c.Writer.Written() || e.status == statusClientClosed {
		return
	}
	if e.retryAfter > 0 {
		writeRetryAfter(c, e)
	}
	c.Data(e.status, "application/json", anthropic.ErrorBody(anthropicErrorType(e.status), e.code+": "+e.message))
}
