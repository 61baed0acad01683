package gateway

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/custos-gateway/custos/audit"
	"github.com/custos-gateway/custos/gateway/auth"
)

// handler serves one route for an authenticated caller. It returns an error
// instead of answering one: the spine classifies, records and renders it.
type handler func(c *gin.Context, ex *exchange) error

// route is one entry of the route table.
type route struct {
	method, path string
	name         string   // the API, as the policy input and the audit log name it
	dialect      *dialect // how errors (and answers) are written
	// anthropicByHeader: a request carrying anthropic-version (the
	// Anthropic SDK's) is answered in Anthropic's shape.
	anthropicByHeader bool
	role              string // the key role the route requires
	serve             handler
	// noOutcome: the route records its own audit entry (an auditor's
	// export), not an outcome.
	noOutcome bool
	// inFlight: the route's requests count against server.max_in_flight.
	inFlight bool
}

// outcomeTimeout bounds the wait for an outcome record once the client is
// gone; the record's context never ends with the client's.
const outcomeTimeout = 30 * time.Second

// handle is the one request lifecycle: every route runs through it.
// Authenticate, serve, then finish: classify the error, record the outcome
// exactly once, render the error in the route's dialect, log one line.
func (s *Server) handle(r *route) gin.HandlerFunc {
	return func(c *gin.Context) {
		ex := &exchange{meta: exchangeMeta{id: c.GetString(requestIDKey), correlationID: c.GetString(correlationIDKey),
			route: r, dialect: r.dialect, started: time.Now()}}
		ex.end.stages = ex.end.marks[:0]
		if r.anthropicByHeader && c.GetHeader("anthropic-version") != "" {
			ex.meta.dialect = dialectAnthropic
		}
		c.Request, ex.meta.span = s.tracing.startRequest(c.Request, r.path)
		release, err := s.admit(c, ex, r)
		if err == nil {
			err = r.serve(c, ex)
		}
		release()
		s.finish(c, ex, err)
	}
}

// finish ends a request: an error not yet answered is recorded, then
// answered in the caller's dialect; the outcome is recorded if the relay
// did not already; then the log line is written.
func (s *Server) finish(c *gin.Context, ex *exchange, err error) {
	ex.stage(stageAccount)
	if err != nil || !ex.end.recorded {
		ex.setEnd(endStatus(c, ex, err), err)
	}
	switch {
	case unauthenticated(ex):
		s.noteUnauthenticated(c, ex) // in aggregate: a flood costs one record per source and minute
	case ex.recordsOutcome():
		if rerr := s.recordOutcome(ex); rerr != nil && err != nil && !c.Writer.Written() {
			// A refusal that cannot be recorded is answered as such.
			ex.setEnd(classify(rerr).status, errors.Join(err, rerr))
		}
	}
	if ex.end.err != nil && !c.Writer.Written() {
		ex.rateHeaders(c.Writer.Header())
		ex.meta.dialect.writeError(c, classify(ex.end.err))
	}
	ex.ans.completion.release()
	end := time.Now()
	stages := ex.stageTimes(end)
	s.logRequest(ex, stages, end)
	s.observe(ex, stages, end)
	if s.tracing.on {
		s.tracing.endRequest(ex.meta.span, ex, end, s.spanAttributes(ex))
	}
}

// endStatus is the status a request ends with: 499 when the client went
// away, else what it was sent, else the error's status.
func endStatus(c *gin.Context, ex *exchange, err error) int {
	switch {
	case err != nil && c.Request.Context().Err() != nil:
		return statusClientClosed
	case c.Writer.Written():
		return c.Writer.Status()
	case err == nil:
		return ex.ans.status
	}
	return classify(err).status
}

// setEnd notes how the request ends, for its outcome record and log line.
func (ex *exchange) setEnd(status int, err error) {
	ex.end.status, ex.end.err = status, err
}

// recordsOutcome: every request gets an outcome record, except an
// auditor's export, which records itself.
func (ex *exchange) recordsOutcome() bool {
	return !(ex.meta.route.noOutcome && ex.caller.Role == ex.meta.route.role)
}

// authenticate resolves the caller from its Custos key, which must carry role.
func (s *Server) authenticate(c *gin.Context, ex *exchange, role string) error {
	ex.stage(stageAuthenticate)
	caller, err := s.keyring.Authenticate(presentedKey(c.Request))
	if err != nil {
		return err
	}
	ex.caller = caller
	if caller.Role != role {
		return errWrongRole
	}
	if s.cfg.Audit.RecordClientIP {
		ex.meta.clientIP = c.ClientIP()
	}
	return nil
}

// presentedKey reads "Authorization: Bearer <key>" or "x-api-key: <key>".
func presentedKey(r *http.Request) string {
	if h := r.Header.Get("Authorization"); h != "" {
		if scheme, rest, ok := strings.Cut(h, " "); ok && strings.EqualFold(scheme, "Bearer") {
			return strings.TrimSpace(rest)
		}
		return ""
	}
	return strings.TrimSpace(r.Header.Get("x-api-key"))
}

// recordOutcome prices the request, settles its reservations and appends
// its outcome record, once, for the next group commit (under strict
// durability it is on disk before this returns); it never depends on the
// client still being there. A failure is logged and counted, and returned.
func (s *Server) recordOutcome(ex *exchange) error {
	if ex.end.recorded {
		return ex.end.recordErr
	}
	ex.end.recorded = true
	s.price(ex)
	if err := s.settleMoney(ex, s.auditRecord(ex, audit.KindOutcome)); err != nil {
		s.outcomeFailures.Add(1)
		s.log.Error("audit outcome not recorded", "request_id", ex.meta.id, "error", err.Error())
		ex.end.recordErr = err
	}
	return ex.end.recordErr
}

// logRequest writes the request's one log line: metadata only.
func (s *Server) logRequest(ex *exchange, stages map[string]time.Duration, end time.Time) {
	ap := logAttrPool.Get().(*[]slog.Attr)
	attrs := (*ap)[:0]
	defer func() { clear(attrs); *ap = attrs[:0]; logAttrPool.Put(ap) }() // no request's values kept
	attrs = append(attrs,
		slog.String("request_id", ex.meta.id),
		slog.String("route", ex.meta.route.path),
		slog.Int("status", ex.end.status),
		slog.Duration("latency", end.Sub(ex.meta.started)),
		slog.Any("stages", ex.stageNames()),
		stageMicros(ex, stages),
	)
	if ex.meta.correlationID != "" {
		attrs = append(attrs, slog.String("correlation_id", ex.meta.correlationID))
	}
	if sc := ex.meta.span.SpanContext(); sc.IsValid() {
		attrs = append(attrs, slog.String("trace_id", sc.TraceID().String()))
	}
	if ex.caller.Tenant != "" || ex.caller.Role == auth.RoleAuditor {
		attrs = append(attrs, slog.String("tenant", ex.caller.Tenant), slog.String("app", ex.caller.App),
			slog.String("key_id", ex.caller.KeyID))
	}
	attrs = s.requestAttrs(ex, attrs)
	level := slog.LevelInfo
	if ex.end.err != nil {
		e := classify(ex.end.err)
		attrs = append(attrs, slog.String("code", recordCode(ex.end.err)), slog.String("cause", ex.end.err.Error()))
		if e.status >= 500 {
			level = slog.LevelWarn
		}
	}
	if al, ok := s.log.Handler().(attrLogger); ok {
		if done, _ := al.logAttrs(level, "request", attrs); done {
			return // a failed write is slog's too: it drops the line
		}
	}
	s.log.LogAttrs(context.Background(), level, "request", attrs...)
}

var logAttrPool = sync.Pool{New: func() any { a := make([]slog.Attr, 0, 32); return &a }}

// stageMicros renders stage times in whole microseconds, in pipeline
// order, as a group of integers: slog's JSON handler writes each float
// through encoding/json, which was a fifth of the line's cost.
func stageMicros(ex *exchange, stages map[string]time.Duration) slog.Attr {
	attrs := make([]slog.Attr, 0, len(stages))
	for i, m := range ex.end.stages {
		if slices.ContainsFunc(ex.end.stages[:i], func(o stageMark) bool { return o.name == m.name }) {
			continue // a stage entered twice is timed once, in total
		}
		attrs = append(attrs, slog.Int64(m.name, stages[m.name].Microseconds()))
	}
	return slog.Attr{Key: "stage_us", Value: slog.GroupValue(attrs...)}
}

// requestAttrs appends the model request's facts for the log line.
func (s *Server) requestAttrs(ex *exchange, attrs []slog.Attr) []slog.Attr {
	if ex.req != nil {
		attrs = append(attrs, slog.String("model", s.catalogName(ex.req.model)), slog.Bool("stream", ex.req.stream))
	}
	if ep := ex.fwd.endpoint; ep != nil {
		attrs = append(attrs, slog.String("endpoint", ep.Name), slog.String("region", ep.Region),
			slog.Duration("first_byte", ex.ans.firstByte))
	}
	if ex.dec.decided {
		attrs = append(attrs, slog.String("policy_revision", ex.dec.Revision.String()))
		if ex.dec.DryRun {
			attrs = append(attrs, slog.Bool("dry_run", true))
		}
		if len(ex.dec.dryRunDenied) > 0 {
			attrs = append(attrs, slog.Any("dry_run_deny", ex.dec.dryRunDenied))
		}
	}
	if ex.insp != nil && len(ex.insp.findings) > 0 {
		pii := make([]slog.Attr, 0, len(ex.insp.findings))
		for _, class := range slices.Sorted(maps.Keys(ex.insp.findings)) {
			pii = append(pii, slog.Int(class, ex.insp.findings[class]))
		}
		attrs = append(attrs, slog.Attr{Key: "pii", Value: slog.GroupValue(pii...)})
	}
	if u := ex.usage(); u != nil {
		attrs = append(attrs, slog.Int64("prompt_tokens", u.PromptTokens), slog.Int64("completion_tokens", u.CompletionTokens))
		if ex.ans.usage == nil {
			attrs = append(attrs, slog.Bool("tokens_estimated", true))
		}
	}
	if c := ex.acct.cost; c != nil {
		attrs = append(attrs, slog.Int64("cost_micros", c.Amount), slog.String("currency", c.Currency))
	}
	return attrs
}

// catalogName returns model if the catalog knows it: a model name is caller
// text, and only catalog names are logged or recorded.
func (s *Server) catalogName(model string) string {
	if s.catalog.Known(model) {
		return model
	}
	return "(not in catalog)"
}
