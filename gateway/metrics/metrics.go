// Package metrics owns Custos's Prometheus metrics: the collectors, their
// names (the OpenTelemetry GenAI semantic conventions where they exist,
// custos_* for the rest) and the one function the request spine calls per
// request.
//
// Every label value is a name from the configuration or the catalog
// (tenant, app, model, endpoint, provider, region), a stage, route or data
// class name, a stable error or deny code, or a status class: bounded, and
// never request or answer text. Callers pass catalog names only; the package
// must never be handed a value a caller typed.
package metrics

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Request is one finished request, as metrics see it.
type Request struct {
	Route, Dialect, Operation  string // route template, caller dialect, GenAI operation (chat, embeddings, ...)
	Status                     int
	Code                       string // stable error code, "" on success
	Tenant, App                string
	Provider, Endpoint, Region string
	Model                      string // catalog name, or "(not in catalog)"
	Duration, FirstByte        time.Duration
	Stages                     map[string]time.Duration
	InputTokens, OutputTokens  int64
	PII                        map[string]string // data class → action, for each class found
	PIICounts                  map[string]int
	Decision                   string // "allow", "deny", "dry_run_deny", "error", "" when not decided
	DenyCodes                  []string
	Attempts                   []Attempt
	CostMicros                 int64 // charged, in micro-units of Currency
	Currency                   string
}

// Attempt is one try at an endpoint: "ok", or the reason it failed.
type Attempt struct {
	Endpoint, Provider, Region, Result string
}

// Metrics holds the collectors. It is safe for concurrent use.
type Metrics struct {
	reg        *prometheus.Registry
	requests   *prometheus.CounterVec
	duration   *prometheus.HistogramVec
	stages     *prometheus.HistogramVec
	opDuration *prometheus.HistogramVec
	tokenUsage *prometheus.HistogramVec
	ttft       *prometheus.HistogramVec
	tokens     *prometheus.CounterVec
	attempts   *prometheus.CounterVec
	failovers  *prometheus.CounterVec
	pii        *prometheus.CounterVec
	decisions  *prometheus.CounterVec
	cost       *prometheus.CounterVec

	series   sync.Map // seriesKey → *series
	stageObs sync.Map // stage name → its histogram child
}

var latencyBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120}

var tokenBuckets = prometheus.ExponentialBuckets(1, 4, 12) // 1 … 4M tokens

// New registers Custos's collectors and the Go runtime's.
func New() *Metrics {
	reqLabels := []string{"route", "dialect", "status_class", "tenant", "app", "provider", "endpoint", "region", "model"}
	genai := []string{"gen_ai_operation_name", "gen_ai_provider_name", "gen_ai_request_model"}
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "custos_requests_total",
		Help: "Requests served, by route, dialect, status class, tenant, app, where they went and model."}, append(reqLabels, "code"))
	m.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "custos_request_duration_seconds",
		Help: "Time from a request's arrival to its end.", Buckets: latencyBuckets}, reqLabels)
	m.stages = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "custos_stage_duration_seconds",
		Help: "Time spent in each pipeline stage.", Buckets: latencyBuckets}, []string{"stage"})
	m.opDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "gen_ai_client_operation_duration_seconds",
		Help: "GenAI operation duration (OpenTelemetry gen_ai.client.operation.duration).", Buckets: latencyBuckets},
		append(genai, "gen_ai_response_model", "error_type"))
	m.tokenUsage = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "gen_ai_client_token_usage",
		Help: "Tokens per request (OpenTelemetry gen_ai.client.token.usage).", Buckets: tokenBuckets},
		append(genai, "gen_ai_token_type"))
	m.ttft = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "gen_ai_server_time_to_first_token_seconds",
		Help: "Time to the provider's first byte (OpenTelemetry gen_ai.server.time_to_first_token).", Buckets: latencyBuckets}, genai)
	m.tokens = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "custos_tokens_total",
		Help: "Tokens in and out, by tenant, app and model."}, []string{"tenant", "app", "model", "direction"})
	m.attempts = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "custos_upstream_attempts_total",
		Help: "Attempts at provider endpoints, by result."}, []string{"endpoint", "provider", "region", "result"})
	m.failovers = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "custos_upstream_failovers_total",
		Help: "Requests that moved on from an endpoint to the next compliant one."}, []string{"from_endpoint"})
	m.pii = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "custos_pii_findings_total",
		Help: "PII/PHI findings, by data class and the action taken."}, []string{"class", "action"})
	m.decisions = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "custos_policy_decisions_total",
		Help: "Policy decisions, by outcome and deny code."}, []string{"outcome", "code"})
	m.cost = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "custos_cost_micros_total",
		Help: "Cost charged, in micro-units of the currency."}, []string{"tenant", "app", "model", "currency"})
	m.reg.MustRegister(m.requests, m.duration, m.stages, m.opDuration, m.tokenUsage, m.ttft, m.tokens, m.attempts,
		m.failovers, m.pii, m.decisions, m.cost,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Register adds collectors (state read at scrape time: audit, keys,
// circuits, policy revision).
func (m *Metrics) Register(cs ...prometheus.Collector) { m.reg.MustRegister(cs...) }

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// statusClass renders a status as 2xx, 4xx, 5xx ("499" stays itself: the
// client went away).
func statusClass(status int) string {
	if status == 499 || status == 0 {
		return strconv.Itoa(status)
	}
	if c := status / 100; c >= 1 && c <= 5 {
		return classes[c]
	}
	return strconv.Itoa(status/100) + "xx"
}

var classes = [...]string{1: "1xx", 2: "2xx", 3: "3xx", 4: "4xx", 5: "5xx"}
