package gateway

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/custos-gateway/custos/audit"
	"github.com/custos-gateway/custos/gateway/auth"
	"github.com/custos-gateway/custos/gateway/config"
	"github.com/custos-gateway/custos/gateway/jsondoc"
	"github.com/custos-gateway/custos/gateway/limits"
	"github.com/custos-gateway/custos/gateway/metrics"
	"github.com/custos-gateway/custos/gateway/upstream"
	"github.com/custos-gateway/custos/policy"
	"github.com/custos-gateway/custos/redact"
	"github.com/custos-gateway/custos/residency"
)

// Decider decides each request: the policy engine.
type Decider interface {
	Decide(ctx context.Context, in policy.Input) (policy.Decision, error)
	Revision() policy.Revision
}

// AuditLog records every request durably and exports records to auditors.
type AuditLog interface {
	// Append makes r durable before it returns (intents, exports).
	Append(ctx context.Context, r audit.Record) (audit.Receipt, error)
	// AppendDeferred queues r for the next group commit (outcomes); under
	// strict durability it is Append.
	AppendDeferred(r audit.Record) error
	Export(w io.Writer, f audit.Filter, format string) (int, error)
}

// KeySource holds provider keys (Vault in production).
type KeySource interface {
	// Key returns the endpoint's current key from cache.
	Key(ctx context.Context, endpoint string) (string, error)
	// Refresh re-reads the key after the provider refused it.
	Refresh(ctx context.Context, endpoint string) (string, error)
}

// Options wires a Server. All but Keys and Logger are required; Keys is
// required when any endpoint takes a key.
type Options struct {
	Config  *config.Config
	Keyring *auth.Keyring
	Catalog *residency.Catalog
	// Targets say how each catalog endpoint is reached.
	Targets []upstream.Target
	Decider Decider
	Audit   AuditLog
	Keys    KeySource
	// Ledger holds prepaid credit and budgets; required when a tenant is
	// billed (prepaid or postpaid).
	Ledger Ledger
	// Prices is the price table; when nil and the Decider serves prices
	// (the policy engine does), the Decider's.
	Prices PriceSource
	// RateLimiter enforces the apps' rate limits; the gateway's own when
	// nil (several replicas share one through PostgreSQL).
	RateLimiter RateLimiter
	// Now is the clock of rate limits (tests); time.Now when nil.
	Now    func() time.Time
	Logger *slog.Logger // nil discards
}

// Server is a configured gateway. It is safe for concurrent use.
type Server struct {
	cfg        *config.Config
	keyring    *auth.Keyring
	catalog    *residency.Catalog
	targets    map[string]*target // endpoint name → how it is reached
	decider    Decider
	audit      AuditLog
	keys       KeySource
	ledger     Ledger
	prices     PriceSource
	limiter    RateLimiter
	rateLimits map[string]limits.Limit // "tenant/app" → each key's allowance
	now        func() time.Time
	router     *residency.Router
	scanner    *redact.Scanner
	hashKey    []byte // keys the hash operator; per process
	upstream   *upstream.Client
	jsonLimits jsondoc.Limits
	// dataRules are the dialects' rules with the catalog's model names as
	// the top-level model's enum (see catalogRules).
	dataRules map[*jsondoc.Rules]*jsondoc.Rules
	log       *slog.Logger
	engine    *gin.Engine
	http      *http.Server

	counterState // the tokenizer, loaded on first use
	admission    *admission
	metrics      *metrics.Metrics
	tracing      *tracing
	listener     *limitedListener // set by Serve

	unauth             *audit.UnauthCounter // failed authentications, recorded in aggregate
	headroom           headroom
	stopBackground     chan struct{}
	outcomeFailures    atomic.Int64 // outcome records that could not be appended
	draining           atomic.Bool  // shutting down: not ready for new work
	stopBackgroundOnce sync.Once
}

// target is how an endpoint is reached: its wire facts and kind's adapter.
type target struct {
	upstream.Target
	adapter  upstream.Adapter
	needsKey bool
}

// New checks the wiring and builds the server.
func New(opts Options) (*Server, error) {
	if opts.Config == nil || opts.Keyring == nil || opts.Catalog == nil || opts.Decider == nil || opts.Audit == nil {
		return nil, errors.New("gateway: Config, Keyring, Catalog, Decider and Audit are required")
	}
	targets, err := newTargets(opts.Targets, opts.Catalog)
	if err != nil {
		return nil, err
	}
	for name, t := range targets {
		if t.needsKey && opts.Keys == nil {
			// Refuse to start rather than ever forward without a key.
			return nil, fmt.Errorf("gateway: endpoint %s needs a provider key, but no key source is configured (mark it keyless if it takes none)", name)
		}
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cfg := opts.Config
	if err := checkAccounting(cfg, &opts); err != nil {
		return nil, err
	}
	s := &Server{
		cfg: cfg, keyring: opts.Keyring, catalog: opts.Catalog, targets: targets,
		decider: opts.Decider, audit: opts.Audit, keys: opts.Keys,
		ledger: opts.Ledger, prices: opts.Prices, now: opts.Now,
		limiter: opts.RateLimiter, rateLimits: rateLimits(cfg),
		router: residency.NewRouter(opts.Catalog, residency.RouterOptions{
			BreakerFailures: cfg.Routing.BreakerFailures, BreakerCooldown: cfg.Routing.BreakerCooldown.Std(), Now: opts.Now,
		}),
		scanner:        redact.NewScanner(redact.Options{MaxFindings: cfg.Limits.MaxFindings, CacheEntries: cfg.Inspection.CacheEntries}),
		hashKey:        newHashKey(),
		upstream:       upstream.NewClient(cfg.Upstream.Options()),
		jsonLimits:     jsondoc.Limits{MaxDepth: cfg.Limits.MaxJSONDepth, MaxValues: cfg.Limits.MaxJSONValues},
		dataRules:      catalogRules(opts.Catalog),
		admission:      newAdmission(cfg.Server.MaxInFlight, cfg.Server.MaxFailedAuthPerMinute, nil),
		unauth:         audit.NewUnauthCounter(time.Minute, 10_000),
		headroom:       headroom{floor: cfg.Audit.FreeBytesFloor()},
		stopBackground: make(chan struct{}),
		log:            log,
	}
	if s.tracing, err = newTracing(cfg.Tracing); err != nil {
		return nil, err
	}
	s.metrics = metrics.New()
	s.metrics.RegisterState(s.metricsState)
	if s.engine, err = s.routes(); err != nil {
		return nil, err
	}
	s.http = &http.Server{
		Handler:           s.engine,
		ReadHeaderTimeout: cfg.Server.ReadHeaderTimeout.Std(),
		ReadTimeout:       cfg.Server.ReadTimeout.Std(),
		IdleTimeout:       cfg.Server.IdleTimeout.Std(),
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	return s, nil
}

// newTargets pairs every catalog endpoint with its wire facts and adapter.
func newTargets(ts []upstream.Target, c *residency.Catalog) (map[string]*target, error) {
	out := make(map[string]*target, len(ts))
	for _, t := range ts {
		a, ok := upstream.Lookup(t.Kind)
		if !ok {
			return nil, fmt.Errorf("gateway: endpoint %s: unknown kind %q", t.Name, t.Kind)
		}
		out[t.Name] = &target{Target: t, adapter: a, needsKey: !t.Keyless && upstream.NeedsKey(t.Kind)}
	}
	for _, ep := range c.Endpoints() {
		if out[ep.Name] == nil {
			return nil, fmt.Errorf("gateway: endpoint %s has no target (kind, base URL)", ep.Name)
		}
	}
	return out, nil
}

// routeTable lists every route: method, path, dialect, required role and
// handler. Every route runs through the same spine.
func (s *Server) routeTable() []*route {
	return []*route{
		{method: http.MethodPost, path: "/v1/chat/completions", inFlight: true, name: "chat.completions", dialect: dialectOpenAI, role: auth.RoleApp, serve: s.serveModel(parseChat)},
		{method: http.MethodPost, path: "/v1/messages", inFlight: true, name: "chat.completions", dialect: dialectAnthropic, role: auth.RoleApp, serve: s.serveModel(parseMessages)},
		{method: http.MethodPost, path: "/v1/messages/count_tokens", inFlight: true, name: "messages.count_tokens", dialect: dialectAnthropic, role: auth.RoleApp, serve: s.countTokens},
		{method: http.MethodPost, path: "/v1/responses", inFlight: true, name: "responses", dialect: dialectResponses, role: auth.RoleApp, serve: s.serveModel(parseResponses)},
		{method: http.MethodPost, path: "/v1/embeddings", inFlight: true, name: "embeddings", dialect: dialectOpenAI, role: auth.RoleApp, serve: s.serveModel(parseEmbeddings)},
		{method: http.MethodGet, path: "/v1/models", name: "models", dialect: dialectOpenAI, anthropicByHeader: true, role: auth.RoleApp, serve: s.models},
		{method: http.MethodGet, path: "/v1/models/:id", name: "models", dialect: dialectOpenAI, anthropicByHeader: true, role: auth.RoleApp, serve: s.model},
		{method: http.MethodGet, path: "/v1/credits", name: "credits", dialect: dialectOpenAI, role: auth.RoleApp, serve: s.credits},
		{method: http.MethodGet, path: "/admin/credits", name: "credits.account", dialect: dialectOpenAI, role: auth.RoleFinance, serve: s.adminAccount},
		{method: http.MethodPost, path: "/admin/credits", name: "credits.apply", dialect: dialectOpenAI, role: auth.RoleFinance, serve: s.adminCredit},
		{method: http.MethodGet, path: "/admin/audit/export", name: "audit.export", dialect: dialectOpenAI, role: auth.RoleAuditor, serve: s.auditExport, noOutcome: true},
	}
}

func (s *Server) routes() (*gin.Engine, error) {
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	e.HandleMethodNotAllowed = true
	e.ContextWithFallback = true
	_ = e.SetTrustedProxies(nil)
	e.Use(s.requestID, s.recoverPanics, s.cors)

	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	for _, r := range s.routeTable() {
		e.Handle(r.method, r.path, s.handle(r))
	}
	if err := s.mountMetrics(e); err != nil {
		return nil, err
	}
	e.NoRoute(func(c *gin.Context) { s.reject(c, errUnknownRoute) })
	e.NoMethod(func(c *gin.Context) { s.reject(c, errMethodNotAllowed) })
	return e, nil
}

// Handler returns the gateway's HTTP handler.
func (s *Server) Handler() http.Handler { return s.engine }

// Serve accepts connections on ln until Shutdown, terminating TLS when the
// config names a certificate.
func (s *Server) Serve(ln net.Listener) error {
	s.listener = newLimitedListener(ln, s.cfg.Server.MaxConnections, s.cfg.Server.MaxConnectionsPerClient)
	go s.background()
	ln = s.listener
	var err error
	if s.cfg.TLS.Enabled() {
		err = s.http.ServeTLS(ln, s.cfg.TLS.CertFile, s.cfg.TLS.KeyFile)
	} else {
		err = s.http.Serve(ln)
	}
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Shutdown stops accepting requests and waits for those in flight, streams
// included, until ctx ends.
func (s *Server) Shutdown(ctx context.Context) error {
	s.draining.Store(true)
	err := s.http.Shutdown(ctx)
	s.upstream.CloseIdle()
	s.stopBackgroundOnce.Do(func() { close(s.stopBackground) })
	s.appendAll(s.unauth.Drain())
	return errors.Join(err, s.tracing.shutdown(ctx))
}

// newHashKey returns a random key for the hash operator: tokens are stable
// for the life of the process.
func newHashKey() []byte {
	k := make([]byte, 32)
	_, _ = rand.Read(k)
	return k
}

const requestIDKey = "custos.request_id"

const correlationIDKey = "custos.correlation_id"

// requestID gives every request an id, sent in x-custos-request-id and in
// the headers the OpenAI and Anthropic SDKs read (x-request-id, request-id).
// A caller's own X-Request-Id, if valid, is kept as a correlation id.
func (s *Server) requestID(c *gin.Context) {
	var b [12]byte
	_, _ = rand.Read(b[:])
	id := "req_" + hex.EncodeToString(b[:])
	c.Set(requestIDKey, id)
	if cid := c.GetHeader("X-Request-Id"); validCorrelationID(cid) {
		c.Set(correlationIDKey, cid)
	}
	h := c.Writer.Header()
	h.Set("x-custos-request-id", id)
	h.Set("x-request-id", id)
	h.Set("request-id", id)
	c.Next()
}

// validCorrelationID accepts 1 to 128 characters of letters, digits and
// . _ : / - (never a vector for log injection).
func validCorrelationID(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("._:/-", c) >= 0
		if !ok {
			return false
		}
	}
	return true
}

// recoverPanics turns a panic into a 500 without dumping the request: gin's
// own recovery prints headers (app keys) and the panic value (maybe content).
func (s *Server) recoverPanics(c *gin.Context) {
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			s.log.Error("request panicked", "request_id", c.GetString(requestIDKey),
				"route", c.FullPath(), "panic_type", fmt.Sprintf("%T", p))
			dialectOfPath(c.Request.URL.Path).writeError(c, classify(errInternal))
			c.Abort()
		}
	}()
	c.Next()
}

// reject answers a request that never entered the pipeline, in the
// dialect its path belongs to.
func (s *Server) reject(c *gin.Context, err error) {
	e := classify(err)
	s.log.Info("request rejected", "request_id", c.GetString(requestIDKey),
		"method", logMethod(c.Request.Method), "status", e.status, "code", e.code)
	dialectOfPath(c.Request.URL.Path).writeError(c, e)
}

// logMethod names an HTTP method for the log: a standard one, or "other"
// (a method is caller text).
func logMethod(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "other"
}

// dialectOfPath is the dialect a path's errors are written in: Anthropic's
// for every /v1/messages path, OpenAI's otherwise.
func dialectOfPath(path string) *dialect {
	if path == "/v1/messages" || strings.HasPrefix(path, "/v1/messages/") {
		return dialectAnthropic
	}
	return dialectOpenAI
}

func (s *Server) healthz(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}

// readyz is ready only when the policy is loaded, the audit log is
// writable, every provider key can be served, and the server is not
// draining; otherwise 503 with the checks that fail (names, no detail).
func (s *Server) readyz(c *gin.Context) {
	checks := s.readiness()
	status, word := http.StatusOK, "ready"
	for _, v := range checks {
		if v != "ok" {
			status, word = http.StatusServiceUnavailable, "not ready"
		}
	}
	body := gin.H{"status": word, "checks": checks}
	if degraded := s.ledgerReadiness(c.Request.Context()); degraded != nil {
		body["degraded"] = degraded
		if !s.servesWithoutLedger() {
			status, word = http.StatusServiceUnavailable, "not ready"
			body["status"] = word
		}
	}
	c.JSON(status, body)
}

// ledgerReadiness reports a shared ledger that does not answer: billed
// tenants are then refused (503 ledger_unavailable) while the others are
// served, so it makes the gateway not ready only when every tenant is
// billed.
func (s *Server) ledgerReadiness(ctx context.Context) map[string]string {
	p, ok := s.ledger.(interface{ Ping(context.Context) error })
	if !ok {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if p.Ping(ctx) != nil {
		return map[string]string{"ledger": "unreachable: billed tenants are refused"}
	}
	return nil
}

// servesWithoutLedger: some tenant is not billed.
func (s *Server) servesWithoutLedger() bool {
	for _, t := range s.cfg.Tenants {
		if t.Billing == "" {
			return true
		}
	}
	return false
}

// Optional health reports of the wired parts, declared where they are used.
type (
	healthReporter interface{ Healthy() error }
	readyReporter  interface{ Ready() error }
)

func (s *Server) readiness() map[string]string {
	checks := map[string]string{"policy": "ok", "audit": "ok", "keys": "ok", "serving": "ok"}
	if s.decider.Revision() == (policy.Revision{}) {
		checks["policy"] = "not loaded"
	}
	if h, ok := s.audit.(healthReporter); ok && h.Healthy() != nil {
		checks["audit"] = "not writable"
	} else if s.headroom.low(s.audit) {
		checks["audit"] = "disk space low"
	}
	if r, ok := s.keys.(readyReporter); ok && r.Ready() != nil {
		checks["keys"] = "unavailable"
	}
	if s.draining.Load() {
		checks["serving"] = "draining"
	}
	return checks
}
