package gateway

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/custos-gateway/custos/gateway/jsondoc"
	"github.com/custos-gateway/custos/gateway/openai"
	"github.com/custos-gateway/custos/gateway/responses"
	"github.com/custos-gateway/custos/gateway/upstream"
)

// native reports an answer in the Responses API's own form: a Responses
// request an endpoint served itself.
func (ex *exchange) native() bool {
	return ex.req.op == upstream.OpResponses && !ex.fwd.translated
}

// relayAnswer sends a complete (non-streamed) answer on to the caller, its
// outcome recorded first: an answer that cannot be accounted for is withheld.
func (s *Server) relayAnswer(c *gin.Context, ex *exchange, resp *http.Response) error {
	body, err := s.readAnswer(c, resp)
	if err != nil {
		return err
	}
	t := s.targets[ex.fwd.endpoint.Name]
	call := &upstream.Call{Op: ex.req.op, Model: ex.fwd.endpoint.Served(ex.req.model)}
	if ex.fwd.translated {
		call.Op = upstream.OpChat
	}
	if body, err = t.adapter.Answer(call, body); err != nil {
		return errAnswerUnreadable
	}
	if ex.native() {
		if u := responses.ReadUsage(body); u != nil {
			ex.ans.usage = u.OpenAI()
		}
	} else {
		ex.ans.usage = openai.ReadUsage(body)
	}
	if ex.ans.usage == nil {
		ex.ans.completion.add("", body) // to count: the provider did not
	}
	ex.ans.status = resp.StatusCode
	ex.setEnd(resp.StatusCode, nil)
	if err := s.recordOutcome(ex); err != nil {
		return err
	}
	if body, err = s.answerForCaller(ex, body); err != nil {
		return errAnswerUnreadable
	}
	ex.costHeaders(c.Writer.Header())
	head, cost, tail := ex.costSplice(body)
	writeJSON(c, resp.StatusCode, head, cost, tail) // the cost written between, not copied in
	c.Writer.Flush()                                // the caller has its answer now; the log line and metrics follow
	return nil
}

// writeJSON writes a JSON answer made of parts, as gin's c.Data writes one
// (the content type unless set, the length, no body where the status
// allows none).
func writeJSON(c *gin.Context, status int, parts ...[]byte) {
	h := c.Writer.Header()
	if len(h["Content-Type"]) == 0 {
		h["Content-Type"] = []string{"application/json"}
	}
	c.Status(status)
	if status < 200 || status == http.StatusNoContent || status == http.StatusNotModified {
		c.Writer.WriteHeaderNow()
		return
	}
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	h["Content-Length"] = []string{strconv.Itoa(n)}
	for _, p := range parts {
		if _, err := c.Writer.Write(p); err != nil {
			return // the caller went away; the outcome is recorded already
		}
	}
}

// maxSizedAnswer bounds the buffer an answer's stated length sizes before
// it is read; a longer answer grows its buffer as it comes.
const maxSizedAnswer = 1 << 20

// readAnswer reads a provider's answer within the size limit.
func (s *Server) readAnswer(c *gin.Context, resp *http.Response) ([]byte, error) {
	limit := s.cfg.Limits.MaxResponseBytes
	hint := resp.ContentLength // read into one buffer of that size; a length is a claim, so bounded
	if hint > min(limit, maxSizedAnswer) {
		hint = 0
	}
	body, err := readAll(io.LimitReader(resp.Body, limit+1), hint)
	if err != nil {
		if ctxErr := c.Request.Context().Err(); ctxErr != nil {
			return nil, ctxErr
		}
		return nil, errAnswerUnreadable
	}
	if int64(len(body)) > limit {
		return nil, errAnswerTooLarge
	}
	return body, nil
}

// answerForCaller restores the pseudonyms the policy lets come back and
// puts the answer in the caller's dialect.
func (s *Server) answerForCaller(ex *exchange, body []byte) ([]byte, error) {
	if ex.native() {
		if ex.restoring() {
			body = restoreWith(ex, body, &responses.AnswerRules)
		}
		return body, nil
	}
	if ex.restoring() {
		body = restoreAnswer(ex.sess, body)
	}
	if ex.req.op == upstream.OpEmbeddings {
		return body, nil
	}
	return ex.meta.dialect.answer(ex, body)
}

// startStream sends the stream's headers; from here the status is fixed.
func startStream(c *gin.Context, ex *exchange) {
	h := c.Writer.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	c.Writer.WriteHeader(http.StatusOK) // sent by the relay's first flush
	ex.ans.status = http.StatusOK
}

// relayStream relays a provider's SSE answer event by event. What is
// written is flushed whenever the provider has no next event ready, so no
// event waits for the next one and a burst leaves in one write. Once the
// first byte is sent the status is fixed, so a provider failure mid-stream
// becomes an error event the SDKs surface.
func (s *Server) relayStream(c *gin.Context, ex *exchange, resp *http.Response) error {
	if ex.native() {
		return s.relayNativeResponses(c, ex, resp)
	}
	t := s.targets[ex.fwd.endpoint.Name]
	src := t.adapter.Events(&upstream.Call{Op: upstream.OpChat, Model: ex.req.model, Stream: true}, resp.Body)
	startStream(c, ex)
	out := ex.meta.dialect.stream(ex, c.Writer)
	var restorer *chunkRestorer
	if ex.restoring() {
		restorer = newChunkRestorer(ex.sess)
	}
	for sawDone := false; ; {
		flushUnlessReady(c, src)
		ev, err := src.Next()
		if err != nil {
			return s.streamEnded(c, ex, out, err, sawDone)
		}
		if bytes.Equal(ev.Data, openai.DoneData) {
			sawDone = true
			// The outcome is recorded before the caller sees the stream end;
			// what came before the end leaves first.
			c.Writer.Flush()
			ex.setEnd(http.StatusOK, nil)
			if err := s.recordOutcome(ex); err != nil {
				return s.endStream(c, ex, out, err)
			}
		} else if u := openai.ReadUsage(ev.Data); u != nil {
			ex.ans.usage = u
			if ex.ans.stripUsageChunk && ex.meta.dialect.relaysUsageChunk && openai.UsageOnlyChunk(ev.Data) {
				continue
			}
			s.price(ex)
			ev.Data = ex.withCost(ev.Data)
		} else {
			ex.ans.completion.add(ev.Event, ev.Data)
		}
		if restorer != nil && !sawDone {
			ev.Data = restorer.chunk(ev.Data)
		}
		if err := out.write(ev); err != nil {
			return c.Request.Context().Err()
		}
	}
}

// flushUnlessReady sends what the relay has written (the headers, the
// events so far) unless the provider's next event is already at hand.
func flushUnlessReady(c *gin.Context, src upstream.EventSource) {
	if !src.Ready() {
		c.Writer.Flush()
	}
}

// streamEnded handles the end of a provider's stream: normal after [DONE],
// a client that went away, or a provider that cut its answer short.
func (s *Server) streamEnded(c *gin.Context, ex *exchange, out streamWriter, err error, sawDone bool) error {
	if sawDone && (errors.Is(err, io.EOF) || c.Request.Context().Err() != nil) {
		// The answer is complete and its outcome recorded: a client that
		// hangs up once it has read the end is done, not gone.
		c.Writer.Flush() // the last events, before the handler's own end
		return nil
	}
	if ctxErr := c.Request.Context().Err(); ctxErr != nil {
		return ctxErr
	}
	return s.endStream(c, ex, out, errStreamInterrupted)
}

// endStream ends a started stream with an error event in the caller's
// dialect, after recording the outcome.
func (s *Server) endStream(c *gin.Context, ex *exchange, out streamWriter, cause error) error {
	c.Writer.Flush() // what the provider sent leaves before the outcome is recorded
	ex.setEnd(http.StatusOK, cause)
	_ = s.recordOutcome(ex)
	_ = out.fail(classify(cause))
	c.Writer.Flush()
	return cause
}

// restoreWith puts pseudonymized values back into every string of a JSON
// answer walked with rules; an answer that is not JSON is returned as is.
func restoreWith(ex *exchange, body []byte, rules *jsondoc.Rules) []byte {
	doc, err := jsondoc.Parse(body, jsondoc.Limits{})
	if err != nil {
		return body
	}
	walk, err := jsondoc.Inspect(doc, rules, jsondoc.Limits{})
	if err != nil {
		return body
	}
	r := ex.sess.NewRestorer()
	for _, t := range walk.Texts {
		if out := r.Restore(t.Text); !t.IsKey && out != t.Text {
			t.Set(out)
		}
	}
	walk.Finish()
	return jsondoc.Encode(doc)
}
