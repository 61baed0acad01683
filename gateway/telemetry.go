package gateway

import (
	"crypto/subtle"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/custos-gateway/custos/audit"
	"github.com/custos-gateway/custos/audit/ledger"
	"github.com/custos-gateway/custos/gateway/metrics"
)

// genAIOperation names a route's operation as the OpenTelemetry GenAI
// conventions do ("" for routes that call no model).
var genAIOperation = map[string]string{
	"chat.completions": "chat",
	"responses":        "chat",
	"embeddings":       "embeddings",
}

// observe records a finished request in the metrics: names from the route
// table, configuration and catalog only.
func (s *Server) observe(ex *exchange, stages map[string]time.Duration, end time.Time) {
	if !s.cfg.Metrics.On() {
		return
	}
	r := &metrics.Request{
		Route: ex.meta.route.path, Dialect: ex.meta.dialect.name, Operation: genAIOperation[ex.meta.route.name],
		Status: ex.end.status, Tenant: ex.caller.Tenant, App: ex.caller.App,
		Duration: end.Sub(ex.meta.started), FirstByte: ex.ans.firstByte, Stages: stages,
	}
	if ex.end.err != nil {
		r.Code = recordCode(ex.end.err)
	}
	if ex.req != nil {
		r.Model = s.catalogName(ex.req.model)
	}
	if ep := ex.fwd.endpoint; ep != nil {
		r.Provider, r.Endpoint, r.Region = ep.Provider, ep.Name, ep.Region
	}
	if u := ex.usage(); u != nil {
		r.InputTokens, r.OutputTokens = u.PromptTokens, u.CompletionTokens
	}
	if c := ex.acct.cost; c != nil {
		r.CostMicros, r.Currency = c.Amount, c.Currency
	}
	if ex.insp != nil && len(ex.insp.findings) > 0 {
		r.PII, r.PIICounts = make(map[string]string, len(ex.insp.findings)), ex.insp.findings
		for class := range ex.insp.findings {
			r.PII[class] = string(ex.dec.Actions[class])
		}
	}
	r.Decision, r.DenyCodes = decisionOutcome(ex)
	for _, a := range ex.fwd.attempts {
		r.Attempts = append(r.Attempts, s.attemptOf(a.Endpoint, a.Status, a.ErrorCode))
	}
	s.metrics.Observe(r)
}

// decisionOutcome names how the policy decided, and the deny codes.
func decisionOutcome(ex *exchange) (string, []string) {
	switch {
	case !ex.dec.decided:
		if ex.insp != nil && ex.end.err != nil {
			return "error", nil // the policy could not decide
		}
		return "", nil
	case len(ex.dec.dryRunDenied) > 0:
		return "dry_run_deny", ex.dec.dryRunDenied
	case ex.dec.Allow:
		return "allow", nil
	}
	return "deny", ex.dec.Codes()
}

func (s *Server) attemptOf(endpoint string, status int, code string) metrics.Attempt {
	a := metrics.Attempt{Endpoint: endpoint, Result: "ok"}
	if ep := s.catalog.Endpoint(endpoint); ep != nil {
		a.Provider, a.Region = ep.Provider, ep.Region
	}
	switch {
	case code != "":
		a.Result = code
	case status < 200 || status > 299:
		a.Result = strconv.Itoa(status)
	}
	return a
}

// metricsState is what the gateway's parts report at scrape time.
func (s *Server) metricsState() metrics.State {
	st := metrics.State{
		PolicyRevision: s.decider.Revision().String(),
		KeyCacheAge:    -1,
		InFlight:       len(s.admission.inFlight),
		Overloaded:     s.admission.overloaded.Load(), AuthThrottled: s.admission.throttled.Load(),
		OutcomeFailures: s.outcomeFailures.Load(),
	}
	if s.listener != nil {
		st.ConnectionsRefused = s.listener.refused.Load()
	}
	if h, m, ok := s.scanner.CacheStats(); ok {
		st.InspectionCache = &metrics.Lookups{Hits: h, Misses: m}
	}
	for _, c := range s.router.States() {
		st.Circuits = append(st.Circuits, metrics.Circuit{Endpoint: c.Endpoint, State: c.Circuit, Failures: c.Failures})
	}
	if r, ok := s.decider.(interface{ Reloads() (int64, int64) }); ok {
		ok, refused := r.Reloads()
		st.PolicyReloads = map[string]int64{"ok": ok, "refused": refused}
	}
	if k, ok := s.keys.(interface{ Oldest() time.Duration }); ok {
		st.KeyCacheAge = k.Oldest().Seconds()
	}
	if k, ok := s.keys.(interface{ ReadFailures() int64 }); ok {
		st.KeyRefreshFailures = k.ReadFailures()
	}
	if a, ok := s.audit.(auditState); ok {
		st.Audit = auditMetrics(a, s.now())
	}
	if l, ok := s.ledger.(interface{ Accounts() []ledger.Account }); ok {
		for _, a := range l.Accounts() {
			st.Accounts = append(st.Accounts, metrics.Account{Name: a.Name, Currency: a.Currency, Balance: a.Balance,
				Reserved: a.Reserved, Postpaid: a.Postpaid})
		}
	}
	return st
}

// auditState is what the audit log reports of itself.
type auditState interface {
	Stats() audit.Stats
	FreeBytes() (uint64, error)
	Healthy() error
}

// auditMetrics turns the audit log's counters into the metrics' terms.
func auditMetrics(a auditState, now time.Time) *metrics.Audit {
	st := a.Stats()
	m := &metrics.Audit{
		Appends: int64(st.Appends + st.Deferred), Records: int64(st.Records), Commits: int64(st.Commits),
		CommitErrors: int64(st.CommitErrors), BatchSize: metrics.Histogram(st.BatchSize),
		CommitSeconds: metrics.Histogram(st.CommitSeconds), CheckpointAgeSeconds: -1, FreeBytes: -1,
		WALWrites: int64(st.WALWrites), Recovered: int64(st.Recovered), WALSeconds: metrics.Histogram(st.WALSeconds),
		Healthy: a.Healthy() == nil, AnchorsDelivered: int64(st.Anchors.Delivered), AnchorsFailed: int64(st.Anchors.Failed),
	}
	if !st.LastCheckpoint.IsZero() {
		m.CheckpointAgeSeconds = now.Sub(st.LastCheckpoint).Seconds()
	}
	if free, err := a.FreeBytes(); err == nil {
		m.FreeBytes = float64(free)
	}
	return m
}

// metricsHandler serves the metrics, behind the bearer token when one is
// configured (read once, at start).
func metricsHandler(m *metrics.Metrics, tokenFile string) (http.Handler, error) {
	h := m.Handler()
	if tokenFile == "" {
		return h, nil
	}
	b, err := os.ReadFile(tokenFile)
	if err != nil {
		return nil, fmt.Errorf("gateway: metrics.bearer_token_file: %w", err)
	}
	want := "Bearer " + strings.TrimSpace(string(b))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), []byte(want)) != 1 {
			w.Header().Set("WWW-Authenticate", "Bearer")
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	}), nil
}

// mountMetrics serves the metrics on the main listener when they have no
// listener of their own.
func (s *Server) mountMetrics(e *gin.Engine) error {
	if !s.cfg.Metrics.On() || s.cfg.Metrics.Listen != "" {
		return nil
	}
	h, err := metricsHandler(s.metrics, s.cfg.Metrics.BearerTokenFile)
	if err != nil {
		return err
	}
	e.GET(s.metricsPath(), gin.WrapH(h))
	return nil
}

func (s *Server) metricsPath() string {
	if s.cfg.Metrics.Path != "" {
		return s.cfg.Metrics.Path
	}
	return "/metrics"
}
