package gateway

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/custos-gateway/custos/gateway/anthropic"
	"github.com/custos-gateway/custos/gateway/auth"
	"github.com/custos-gateway/custos/gateway/config"
	"github.com/custos-gateway/custos/gateway/gemini"
	"github.com/custos-gateway/custos/gateway/openai"
	"github.com/custos-gateway/custos/gateway/sse"
	"github.com/custos-gateway/custos/policy"
)

// maxEventLine bounds one SSE line from a provider.
const maxEventLine = 4 << 20

// chatCompletions serves POST /v1/chat/completions in the OpenAI dialect.
func (s *Server) chatCompletions(c *gin.Context) { s.serveChat(c, dialectOpenAI) }

// messages serves POST /v1/messages in the Anthropic dialect: the same
// pipeline, with the request and answer translated at the edges.
func (s *Server) messages(c *gin.Context) { s.serveChat(c, dialectAnthropic) }

func (s *Server) serveChat(c *gin.Context, d dialect) {
	s.serveModelRequest(c, d, func(ex *exchange, body []byte) error {
		var err error
		if d == dialectAnthropic {
			if body, err = anthropic.ToOpenAIRequest(body); err != nil {
				return err
			}
		}
		ex.req, err = openai.ParseChatRequest(body)
		return err
	})
}

// serveModelRequest is every model route: authenticate an app key, read the
// body, parse it into the pipeline's form, run the pipeline, and relay the
// answer, streamed or whole.
func (s *Server) serveModelRequest(c *gin.Context, d dialect, parse func(ex *exchange, body []byte) error) {
	ex := s.newExchange(c)
	ex.dialect = d
	defer s.account(ex)

	fail := s.failer(c, ex)
	if err := s.authenticate(c, ex, auth.RoleApp); err != nil {
		fail(err)
		return
	}
	body, err := s.readJSONBody(c)
	if err != nil {
		fail(err)
		return
	}
	if err := parse(ex, body); err != nil {
		fail(err)
		return
	}
	resp, err := s.pipeline(c, ex)
	if err != nil {
		fail(err)
		return
	}
	defer resp.Body.Close()
	if ex.req.Stream {
		ex.status = http.StatusOK
		src := providerEvents(ex.endpoint.Kind, resp.Body, ex.req.Model)
		if err := s.relayStream(c, ex, src); err != nil {
			ex.err = err
			if c.Request.Context().Err() != nil {
				ex.status = statusClientClosed
			}
		}
		return
	}
	if err := s.relayAnswer(c, ex, resp); err != nil {
		fail(err)
	}
}

// failer returns the function that ends a request with err: its outcome
// recorded first (a refusal that cannot be recorded becomes
// audit_unavailable), then the error in the caller's dialect.
func (s *Server) failer(c *gin.Context, ex *exchange) func(error) {
	return func(err error) {
		ex.err = err
		e := classify(err)
		ex.status = e.status
		if rerr := s.recordOutcome(c.Request.Context(), ex); rerr != nil {
			ex.err = errors.Join(err, rerr)
			e = classify(rerr)
			ex.status = e.status
		}
		writeDialectError(c, ex.dialect, e)
	}
}

// pipeline runs the stages after parsing, up to the provider's answer, and
// sets the response headers that name where the request went.
func (s *Server) pipeline(c *gin.Context, ex *exchange) (*http.Response, error) {
	ctx := c.Request.Context()
	for _, stage := range []func(*exchange) error{
		s.inspect,
		func(ex *exchange) error { return s.decide(ctx, ex) },
		s.redact,
		s.route,
	} {
		if err := stage(ex); err != nil {
			return nil, err
		}
	}
	resp, err := s.forward(c, ex)
	if err != nil {
		return nil, err
	}
	c.Header("x-custos-endpoint", ex.endpoint.Name)
	c.Header("x-custos-provider", ex.endpoint.Provider)
	c.Header("x-custos-region", ex.endpoint.Region)
	c.Header("x-custos-policy-revision", ex.decision.Revision.String())
	return resp, nil
}

// relayAnswer sends a complete (non-streamed) answer on to the caller.
func (s *Server) relayAnswer(c *gin.Context, ex *exchange, resp *http.Response) error {
	limit := s.cfg.Limits.MaxResponseBytes
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		if ctxErr := c.Request.Context().Err(); ctxErr != nil {
			return ctxErr
		}
		return errAnswerUnreadable
	}
	if int64(len(body)) > limit {
		return errAnswerTooLarge
	}
	switch {
	case ex.embed != nil:
	case ex.endpoint.Kind == config.KindAnthropic:
		if body, err = anthropic.ToOpenAI(body, time.Now().Unix()); err != nil {
			return errAnswerUnreadable
		}
	case ex.endpoint.Kind == config.KindGemini:
		if body, err = gemini.ToOpenAI(body, ex.req.Model, time.Now().Unix()); err != nil {
			return errAnswerUnreadable
		}
	}
	ex.usage = openai.ReadUsage(body)
	ct := "application/json"
	ex.status = resp.StatusCode
	if err := s.recordOutcome(c.Request.Context(), ex); err != nil {
		return err // the answer is withheld: it cannot be accounted for
	}
	if ex.restoring() {
		body = restoreAnswer(ex.session, body)
	}
	if ex.dialect == dialectAnthropic {
		if body, err = anthropic.FromOpenAIResponse(body, ex.req.Model); err != nil {
			return errAnswerUnreadable
		}
	}
	c.Data(resp.StatusCode, ct, body)
	return nil
}

// relayStream relays a provider's SSE answer event by event, flushing each as
// it arrives. Once the first byte is sent the status is fixed, so a provider
// failure mid-stream becomes an OpenAI-style error event the SDKs surface.
func (s *Server) relayStream(c *gin.Context, ex *exchange, r eventSource) error {
	w := c.Writer
	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	w.Flush()

	sawDone := false
	out := newStreamWriter(w, ex.dialect, ex.req.Model)
	var restorer *chunkRestorer
	if ex.restoring() {
		restorer = newChunkRestorer(ex.session)
	}
	for {
		ev, err := r.Next()
		if err != nil {
			if errors.Is(err, io.EOF) && sawDone {
				return nil
			}
			if ctxErr := c.Request.Context().Err(); ctxErr != nil {
				return ctxErr
			}
			return s.endStream(c, ex, errStreamInterrupted)
		}
		if bytes.Equal(ev.Data, openai.DoneData) {
			sawDone = true
			// The outcome is durable before the caller sees the stream end.
			if err := s.recordOutcome(c.Request.Context(), ex); err != nil {
				return s.endStream(c, ex, err)
			}
		} else if u := openai.ReadUsage(ev.Data); u != nil {
			ex.usage = u
			if ex.stripUsageChunk && isUsageOnlyChunk(ev.Data) {
				continue
			}
		}
		if restorer != nil && !sawDone {
			ev.Data = restorer.chunk(ev.Data)
		}
		if err := out.write(ev); err != nil {
			return c.Request.Context().Err()
		}
		w.Flush()
	}
}

// endStream ends a started stream with an OpenAI-style error event, after
// recording the outcome.
func (s *Server) endStream(c *gin.Context, ex *exchange, cause error) error {
	ex.err = cause
	_ = s.recordOutcome(c.Request.Context(), ex)
	e := classify(cause)
	if ex.dialect == dialectAnthropic {
		_ = sse.Write(c.Writer, sse.Event{Event: "error", Data: anthropic.ErrorBody(anthropicErrorType(e.status), e.message)})
	} else {
		_ = sse.Write(c.Writer, sse.Event{Data: openai.ErrorBody(e.typ, e.code, e.message, "")})
	}
	c.Writer.Flush()
	return cause
}

// isUsageOnlyChunk reports a stream chunk that carries usage and no choices.
func isUsageOnlyChunk(data []byte) bool {
	var v struct {
		Choices []struct{} `json:"choices"`
	}
	return json.Unmarshal(data, &v) == nil && len(v.Choices) == 0
}

// models serves GET /v1/models: the models the caller may use.
func (s *Server) models(c *gin.Context) {
	ex := s.newExchange(c)
	defer s.account(ex)
	if err := s.authenticate(c, ex, auth.RoleApp); err != nil {
		ex.err = err
		e := classify(err)
		ex.status = e.status
		writeError(c, e)
		return
	}
	owners := map[string]string{}
	for _, ep := range s.catalog.Endpoints() {
		for _, m := range ep.Models {
			if _, ok := owners[m]; !ok {
				owners[m] = ep.Provider
			}
		}
	}
	data := make([]gin.H, 0, len(owners))
	for _, m := range s.catalog.Models() {
		// Listed only if the policy would let this caller use it. A dry-run
		// deny still lists the model: dry-run does not enforce.
		d, err := s.decider.Decide(c.Request.Context(), s.policyInput(ex, m))
		if err != nil && !(d.DryRun && errors.Is(err, policy.ErrDenied)) {
			continue
		}
		data = append(data, gin.H{"id": m, "object": "model", "created": 0, "owned_by": owners[m]})
	}
	ex.status = http.StatusOK
	c.JSON(http.StatusOK, gin.H{"object": "list", "data": data})
}
