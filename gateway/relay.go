package gateway

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/custos-gateway/custos/gateway/openai"
	"github.com/custos-gateway/custos/gateway/sse"
	"github.com/custos-gateway/custos/gateway/upstream"
)

// relayAnswer sends a complete (non-streamed) answer on to the caller, its
// outcome recorded first: an answer that cannot be accounted for is withheld.
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
	t := s.targets[ex.fwd.endpoint.Name]
	call := &upstream.Call{Op: ex.req.op, Model: ex.fwd.endpoint.Served(ex.req.model)}
	if body, err = t.adapter.Answer(call, body); err != nil {
		return errAnswerUnreadable
	}
	ex.ans.usage = openai.ReadUsage(body)
	ex.ans.status = resp.StatusCode
	ex.setEnd(resp.StatusCode, nil)
	if err := s.recordOutcome(ex); err != nil {
		return err
	}
	if ex.restoring() {
		body = restoreAnswer(ex.sess, body)
	}
	if ex.req.op == upstream.OpChat {
		if body, err = ex.meta.dialect.answer(body, ex.req.model); err != nil {
			return errAnswerUnreadable
		}
	}
	c.Data(resp.StatusCode, "application/json", body)
	return nil
}

// relayStream relays a provider's SSE answer event by event, flushing each as
// it arrives. Once the first byte is sent the status is fixed, so a provider
// failure mid-stream becomes an error event the SDKs surface.
func (s *Server) relayStream(c *gin.Context, ex *exchange, resp *http.Response) error {
	t := s.targets[ex.fwd.endpoint.Name]
	src := t.adapter.Events(&upstream.Call{Op: ex.req.op, Model: ex.req.model, Stream: true}, resp.Body)
	w := c.Writer
	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	w.Flush()
	ex.ans.status = http.StatusOK

	out := ex.meta.dialect.stream(w, ex.req.model)
	var restorer *chunkRestorer
	if ex.restoring() {
		restorer = newChunkRestorer(ex.sess)
	}
	for sawDone := false; ; {
		ev, err := src.Next()
		if err != nil {
			return s.streamEnded(c, ex, err, sawDone)
		}
		if bytes.Equal(ev.Data, openai.DoneData) {
			sawDone = true
			// The outcome is recorded before the caller sees the stream end.
			ex.setEnd(http.StatusOK, nil)
			if err := s.recordOutcome(ex); err != nil {
				return s.endStream(c, ex, err)
			}
		} else if u := openai.ReadUsage(ev.Data); u != nil {
			ex.ans.usage = u
			if ex.ans.stripUsageChunk && ex.meta.dialect.relaysUsageChunk && isUsageOnlyChunk(ev.Data) {
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

// streamEnded handles the end of a provider's stream: normal after [DONE],
// a client that went away, or a provider that cut its answer short.
func (s *Server) streamEnded(c *gin.Context, ex *exchange, err error, sawDone bool) error {
	if errors.Is(err, io.EOF) && sawDone {
		return nil
	}
	if ctxErr := c.Request.Context().Err(); ctxErr != nil {
		return ctxErr
	}
	return s.endStream(c, ex, errStreamInterrupted)
}

// endStream ends a started stream with an error event in the caller's
// dialect, after recording the outcome.
func (s *Server) endStream(c *gin.Context, ex *exchange, cause error) error {
	ex.setEnd(http.StatusOK, cause)
	_ = s.recordOutcome(ex)
	_ = sse.Write(c.Writer, ex.meta.dialect.streamError(classify(cause)))
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
