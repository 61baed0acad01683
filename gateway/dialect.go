package gateway

import (
	"io"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/custos-gateway/custos/gateway/anthropic"
	"github.com/custos-gateway/custos/gateway/openai"
	"github.com/custos-gateway/custos/gateway/sse"
)

// dialect is an API shape a caller speaks: how its answers, stream events
// and errors are written. The pipeline works on the OpenAI form; a dialect
// converts at the edge.
type dialect struct {
	name string
	// answer converts a complete OpenAI answer into the dialect's.
	answer func(body []byte, model string) ([]byte, error)
	// stream returns the writer of OpenAI chunk events in the dialect.
	stream func(w io.Writer, model string) streamWriter
	// errorBody encodes an error; streamError is the error event of a
	// stream that already started.
	errorBody   func(e apiError) []byte
	streamError func(e apiError) sse.Event
	// relaysUsageChunk: the dialect passes OpenAI's usage-only chunk on to
	// the caller as is (so Custos withholds the one it asked for itself);
	// other dialects read the usage from it into their own events.
	relaysUsageChunk bool
	// model describes one model in the dialect's models API.
	model func(m modelInfo) gin.H
}

// streamWriter writes OpenAI chunk events to the caller in its dialect.
type streamWriter interface {
	write(ev sse.Event) error
}

var dialectOpenAI = &dialect{
	name:             "openai",
	relaysUsageChunk: true,
	model:            openAIModel,
	answer:           func(body []byte, _ string) ([]byte, error) { return body, nil },
	stream:           func(w io.Writer, _ string) streamWriter { return openAIStream{w} },
	errorBody: func(e apiError) []byte {
		body := openai.Error{Message: e.message, Type: e.typ, Code: e.code}
		if e.param != "" {
			body.Param = &e.param
		}
		for _, r := range e.reasons {
			body.Reasons = append(body.Reasons, openai.Reason{Code: r.Code, Control: r.Control, Message: r.Message})
		}
		return body.Body()
	},
	streamError: func(e apiError) sse.Event { return sse.Event{Data: openai.ErrorBody(e.typ, e.code, e.message, "")} },
}

var dialectAnthropic = &dialect{
	name:   "anthropic",
	model:  anthropicModel,
	answer: anthropic.FromOpenAIResponse,
	stream: func(w io.Writer, model string) streamWriter {
		return &anthropicStream{w: w, conv: &anthropic.StreamFromOpenAI{Model: model}}
	},
	errorBody: func(e apiError) []byte {
		return anthropic.ErrorBody(anthropicErrorType(e.status), e.code+": "+e.message)
	},
	streamError: func(e apiError) sse.Event {
		return sse.Event{Event: "error", Data: anthropic.ErrorBody(anthropicErrorType(e.status), e.message)}
	},
}

type openAIStream struct{ w io.Writer }

func (s openAIStream) write(ev sse.Event) error { return sse.Write(s.w, ev) }

type anthropicStream struct {
	w    io.Writer
	conv *anthropic.StreamFromOpenAI
}

func (s *anthropicStream) write(ev sse.Event) error {
	if ev.Comment {
		return sse.Write(s.w, ev)
	}
	for _, out := range s.conv.Chunk(ev.Data) {
		if err := sse.Write(s.w, sse.Event{Event: out.Name, Data: out.Data}); err != nil {
			return err
		}
	}
	return nil
}

// writeError sends e in the dialect's error shape. It does nothing once a
// response has started or for a client that went away.
func (d *dialect) writeError(c *gin.Context, e apiError) {
	if c.Writer.Written() || e.status == statusClientClosed {
		return
	}
	if e.retryAfter > 0 {
		writeRetryAfter(c, e)
	}
	c.Data(e.status, "application/json", d.errorBody(e))
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
