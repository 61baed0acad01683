package gateway

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"net/http"
	"os"

	"github.com/gin-gonic/gin"

	"github.com/custos-gateway/custos/gateway/anthropic"
	"github.com/custos-gateway/custos/gateway/jsondoc"
	"github.com/custos-gateway/custos/gateway/openai"
	"github.com/custos-gateway/custos/gateway/responses"
	"github.com/custos-gateway/custos/gateway/upstream"
)

// modelRequest is a model route's request as the pipeline carries it: one
// parsed tree in the OpenAI form of its operation, which is inspected,
// redacted in place and encoded for forwarding, and the facts read from it.
type modelRequest struct {
	op           upstream.Op
	doc          *jsondoc.Value
	rules        *jsondoc.Rules
	model        string
	stream       bool
	includeUsage bool
	user         string
	// uninspectable counts content the parse already knows cannot be read
	// (embeddings given as token ids).
	uninspectable int
	// responses is a Responses API request's facts (nil for other routes).
	responses *responses.Request
}

// parser reads a route's body into the pipeline's form.
type parser func(body []byte, lim jsondoc.Limits) (*modelRequest, error)

func parseChat(body []byte, lim jsondoc.Limits) (*modelRequest, error) {
	doc, err := jsondoc.Parse(body, lim)
	if err != nil {
		return nil, openai.ParseError(err)
	}
	return chatRequest(doc)
}

func chatRequest(doc *jsondoc.Value) (*modelRequest, error) {
	r, err := openai.ChatFromDoc(doc)
	if err != nil {
		return nil, err
	}
	return &modelRequest{op: upstream.OpChat, doc: doc, rules: &openai.ChatRules, model: r.Model,
		stream: r.Stream, includeUsage: r.IncludeUsage, user: r.User}, nil
}

// parseMessages reads an Anthropic Messages body: checked strictly, then
// translated into the OpenAI chat form the pipeline inspects and forwards.
func parseMessages(body []byte, lim jsondoc.Limits) (*modelRequest, error) {
	chat, err := anthropic.ParseRequest(body)
	if err != nil {
		return nil, err
	}
	doc, err := jsondoc.Parse(chat, lim)
	if err != nil {
		return nil, openai.ParseError(err)
	}
	return chatRequest(doc)
}

// parseResponses reads an OpenAI Responses API body: forwarded as it is to
// endpoints that serve the API, translated to chat for the others.
func parseResponses(body []byte, lim jsondoc.Limits) (*modelRequest, error) {
	doc, err := jsondoc.Parse(body, lim)
	if err != nil {
		return nil, openai.ParseError(err)
	}
	r, err := responses.FromDoc(doc)
	if err != nil {
		return nil, err
	}
	return &modelRequest{op: upstream.OpResponses, doc: doc, rules: &responses.Rules, model: r.Model, stream: r.Stream,
		user: r.User, responses: r}, nil
}

func parseEmbeddings(body []byte, lim jsondoc.Limits) (*modelRequest, error) {
	doc, err := jsondoc.Parse(body, lim)
	if err != nil {
		return nil, openai.ParseError(err)
	}
	if doc.Kind != jsondoc.Object {
		return nil, &openai.RequestError{Code: "invalid_json", Msg: "request body must be a JSON object"}
	}
	model, err := openai.Model(doc)
	if err != nil {
		return nil, err
	}
	r := &modelRequest{op: upstream.OpEmbeddings, doc: doc, rules: &openai.EmbeddingsRules, model: model}
	in := doc.Get("input")
	switch {
	case in.IsNull():
		return nil, &openai.RequestError{Code: "invalid_request", Param: "input", Msg: "you must provide an input parameter"}
	case in.Kind == jsondoc.String:
	case in.Kind == jsondoc.Array && allStrings(in):
	default:
		// Token ids (arrays of integers) cannot be inspected.
		r.uninspectable = 1
	}
	return r, nil
}

func allStrings(v *jsondoc.Value) bool {
	for _, m := range v.Kids {
		if m.Value.Kind != jsondoc.String {
			return false
		}
	}
	return true
}

// readAll reads r whole into one buffer of the declared size when there is
// one (SDKs send Content-Length), rather than growing one by doubling.
func readAll(r io.Reader, size int64) ([]byte, error) {
	if size <= 0 {
		return io.ReadAll(r)
	}
	buf := bytes.NewBuffer(make([]byte, 0, size+bytes.MinRead))
	_, err := buf.ReadFrom(r)
	return buf.Bytes(), err
}

// readJSONBody reads the size-limited body of a JSON request.
func (s *Server) readJSONBody(c *gin.Context) ([]byte, error) {
	if ct := c.GetHeader("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			return nil, errUnsupportedMedia
		}
	}
	limit := s.cfg.Limits.MaxBodyBytes
	if c.Request.ContentLength > limit {
		return nil, errBodyTooLarge
	}
	body, err := readAll(http.MaxBytesReader(c.Writer, c.Request.Body, limit), c.Request.ContentLength)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, errBodyTooLarge
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return nil, errBodyTimeout
		}
		return nil, errBodyUnreadable
	}
	return body, nil
}
