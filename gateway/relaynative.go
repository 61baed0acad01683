package gateway

import (
	"bytes"
	"errors"
	"io"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/custos-gateway/custos/gateway/responses"
	"github.com/custos-gateway/custos/gateway/sse"
	"github.com/custos-gateway/custos/gateway/upstream"
	"github.com/custos-gateway/custos/redact"
)

// relayNativeResponses relays the Responses API's typed events from an
// endpoint that serves the API: pseudonyms restored per text stream, the
// usage read from the terminal event (whose outcome is recorded before it is
// sent), and a provider that cuts the stream short answered with the API's
// error event.
func (s *Server) relayNativeResponses(c *gin.Context, ex *exchange, resp *http.Response) error {
	src := s.targets[ex.fwd.endpoint.Name].adapter.Events(&upstream.Call{Op: upstream.OpResponses, Stream: true}, resp.Body)
	startStream(c, ex)
	out := &nativeStream{w: c.Writer}
	ex.ans.completion.native = true
	if ex.restoring() {
		sess := ex.sess
		out.restorer = responses.NewStreamRestorer(func() responses.Restorer { return restorerOf(sess) })
	}
	for {
		flushUnlessReady(c, src)
		ev, err := src.Next()
		if err != nil {
			return s.nativeEnded(c, ex, out, err)
		}
		if ev.Comment {
			continue
		}
		ex.ans.completion.add(ev.Event, ev.Data)
		if responses.Terminal(ev.Data) {
			if u := responses.ReadUsage(ev.Data); u != nil {
				ex.ans.usage = u.OpenAI()
			}
			c.Writer.Flush() // what came before the terminal event leaves first
			ex.setEnd(http.StatusOK, nil)
			if err := s.recordOutcome(ex); err != nil {
				return s.endStream(c, ex, out, err)
			}
			out.ended = true
		}
		if err := out.write(ev); err != nil {
			return c.Request.Context().Err()
		}
	}
}

// nativeEnded handles the end of a native stream: normal after its
// terminal event, a client that went away, or a provider that cut it short.
func (s *Server) nativeEnded(c *gin.Context, ex *exchange, out *nativeStream, err error) error {
	if out.ended && (errors.Is(err, io.EOF) || c.Request.Context().Err() != nil) {
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

// nativeStream writes a native Responses stream's events, restoring
// pseudonyms when asked; its error event continues the sequence numbers.
type nativeStream struct {
	w        io.Writer
	restorer *responses.StreamRestorer
	last     []byte // the data of the last event written
	ended    bool   // the terminal event arrived
}

func (n *nativeStream) write(ev sse.Event) error {
	evs := []responses.Event{{Name: ev.Event, Data: bytes.Clone(ev.Data)}}
	if n.restorer != nil {
		evs = n.restorer.Event(evs[0])
	}
	for _, e := range evs {
		if err := sse.Write(n.w, sse.Event{Event: e.Name, Data: e.Data}); err != nil {
			return err
		}
		n.last = e.Data
	}
	return nil
}

func (n *nativeStream) fail(e apiError) error {
	ev := responses.ErrorEvent(e.typ, e.code, e.message, responses.NextSequence(n.last))
	return sse.Write(n.w, sse.Event{Event: ev.Name, Data: ev.Data})
}

// restorerOf returns a fresh restorer of the request's pseudonyms.
func restorerOf(sess *redact.Session) responses.Restorer { return sess.NewRestorer() }
