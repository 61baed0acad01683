package gateway

import (
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/custos-gateway/custos/gateway/anthropic"
	"github.com/custos-gateway/custos/gateway/config"
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

// translatedEvents turns a provider's own stream format into OpenAI chunk
// events: translate maps one provider event to zero or more chunk payloads;
// end, when the provider's stream carries no end marker, is asked at EOF for
// the closing payloads and whether the stream had finished (else it was cut).
type translatedEvents struct {
	r         *sse.Reader
	translate func(sse.Event) ([][]byte, error)
	end       func() ([][]byte, bool)
	queue     [][]byte
	ended     bool
}

func (t *translatedEvents) Next() (sse.Event, error) {
	for len(t.queue) == 0 {
		if t.ended {
			return sse.Event{}, io.EOF
		}
		ev, err := t.r.Next()
		if errors.Is(err, io.EOF) && t.end != nil {
			out, finished := t.end()
			if !finished {
				return sse.Event{}, io.ErrUnexpectedEOF
			}
			t.queue, t.ended = out, true
			continue
		}
		if err != nil {
			return sse.Event{}, err
		}
		if ev.Comment {
			continue
		}
		out, err := t.translate(ev)
		if err != nil {
			return sse.Event{}, errors.Join(errStreamInterrupted, err)
		}
		t.queue = out
	}
	data := t.queue[0]
	t.queue = t.queue[1:]
	return sse.Event{Data: data}, nil
}

// providerEvents reads a provider's stream as OpenAI chunk events.
func providerEvents(kind string, body io.Reader, model string) eventSource {
	r := sse.NewReader(body, maxEventLine)
	switch kind {
	case config.KindAnthropic:
		conv := &anthropic.StreamToOpenAI{Model: model, Created: time.Now().Unix(), IncludeUsage: true}
		return &translatedEvents{r: r, translate: func(ev sse.Event) ([][]byte, error) { return conv.Event(ev.Event, ev.Data) }}
	case config.KindGemini:
		conv := &gemini.StreamToOpenAI{Model: model, Created: time.Now().Unix(), IncludeUsage: true}
		return &translatedEvents{r: r, translate: func(ev sse.Event) ([][]byte, error) { return conv.Event(ev.Data) }, end: conv.End}
	}
	return r
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
