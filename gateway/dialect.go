package gateway

import (
	"io"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/custos-gateway/custos/gateway/anthropic"
	"github.com/custos-gateway/custos/gateway/openai"
	"github.com/custos-gateway/custos/gateway/responses"
	"github.com/custos-gateway/custos/gateway/sse"
)

// dialect is an API shape a caller speaks: how its answers, stream events
// and errors are written. The pipeline works on the OpenAI chat form; a
// dialect converts at the edge.
type dialect struct {
	name string
	// answer converts a complete chat completion into the dialect's answer.
	answer func(ex *exchange, body []byte) ([]byte, error)
	// stream returns the writer of chat completion chunks in the dialect.
	stream func(ex *exchange, w io.Writer) streamWriter
	// errorBody encodes an error answered before any byte of an answer.
	errorBody func(e apiError) []byte
	// relaysUsageChunk: the dialect passes OpenAI's usage-only chunk on to
	// the caller as is (so Custos withholds the one it asked for itself);
	// other dialects read the usage from it into their own events.
	relaysUsageChunk bool
	// model describes one model in the dialect's models API.
	model func(m modelInfo) gin.H
}

// streamWriter writes chat completion chunks to the caller in its dialect,
// and the error event that ends a stream a provider cut short.
type streamWriter interface {
	write(ev sse.Event) error
	fail(e apiError) error
}

var dialectOpenAI = &dialect{
	name:             "openai",
	relaysUsageChunk: true,
	model:            openAIModel,
	answer:           func(_ *exchange, body []byte) ([]byte, error) { return body, nil },
	stream:           func(_ *exchange, w io.Writer) streamWriter { return openAIStream{w} },
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
}

var dialectAnthropic = &dialect{
	name:  "anthropic",
	model: anthropicModel,
	answer: func(ex *exchange, body []byte) ([]byte, error) {
		return anthropic.FromOpenAIResponse(body, ex.req.model)
	},
	stream: func(ex *exchange, w io.Writer) streamWriter {
		return &anthropicStream{w: w, conv: &anthropic.StreamFromOpenAI{Model: ex.req.model}}
	},
	errorBody: func(e apiError) []byte {
		return anthropic.ErrorBody(anthropicErrorType(e.status), e.code+": "+e.message)
	},
}

// dialectResponses is the OpenAI Responses API for endpoints that do not
// serve it: their chat answers become response objects and typed events.
// (Endpoints that serve it natively are relayed as they answer.)
var dialectResponses = &dialect{
	name:  "responses",
	model: openAIModel,
	answer: func(ex *exchange, body []byte) ([]byte, error) {
		return responses.FromChat(body, ex.req.responses, "resp_"+ex.meta.id, time.Now().Unix())
	},
	stream: func(ex *exchange, w io.Writer) streamWriter {
		return &responsesStream{w: w, conv: &responses.StreamFromChat{Req: ex.req.responses, ID: "resp_" + ex.meta.id, Created: time.Now().Unix()}}
	},
	errorBody: dialectOpenAI.errorBody,
}

type openAIStream struct{ w io.Writer }

func (s openAIStream) write(ev sse.Event) error { return sse.Write(s.w, ev) }

func (s openAIStream) fail(e apiError) error {
	return sse.Write(s.w, sse.Event{Data: openai.ErrorBody(e.typ, e.code, e.message, "")})
}

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

func (s *anthropicStream) fail(e apiError) error {
	return sse.Write(s.w, sse.Event{Event: "error", Data: anthropic.ErrorBody(anthropicErrorType(e.status), e.message)})
}

type responsesStream struct {
	w    io.Writer
	conv *responses.StreamFromChat
}

func (s *responsesStream) write(ev sse.Event) error {
	if ev.Comment {
		return sse.Write(s.w, ev)
	}
	return writeEvents(s.w, s.conv.Chunk(ev.Data))
}

func (s *responsesStream) fail(e apiError) error {
	return writeEvents(s.w, s.conv.Fail(e.typ, e.code, e.message))
}

func writeEvents(w io.Writer, evs []responses.Event) error {
	for _, out := range evs {
		if err := sse.Write(w, sse.Event{Event: out.Name, Data: out.Data}); err != nil {
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
	case http.StatusPaymentRequired:
		return "billing_error"
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
