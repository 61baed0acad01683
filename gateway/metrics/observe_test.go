package metrics

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
)

// TestObserveSeries: requests that differ in any label land in their own
// series, and requests alike add to one (the children are resolved once
// per label set and then reused).
func TestObserveSeries(t *testing.T) {
	m := New()
	base := Request{Route: "/v1/chat/completions", Dialect: "openai", Operation: "chat", Status: 200, Tenant: "st-marys",
		App: "bench", Provider: "azure", Endpoint: "azure-eu", Region: "eu-west", Model: "gpt-4o-mini",
		Duration: 3 * time.Millisecond, FirstByte: time.Millisecond, InputTokens: 10, OutputTokens: 4,
		Stages: map[string]time.Duration{"inspect": time.Microsecond, "forward": time.Millisecond}}
	with := func(edit func(*Request)) *Request { r := base; edit(&r); return &r }
	for _, r := range []*Request{&base, &base, &base,
		with(func(r *Request) { r.Status, r.Code = 502, "upstream_error" }),
		with(func(r *Request) { r.Status, r.Code = 502, "upstream_timeout" }),
		with(func(r *Request) { r.Status = 503 }),
		with(func(r *Request) { r.App = "triage" }),
		with(func(r *Request) { r.Endpoint, r.Operation, r.Status, r.Code = "", "", 403, "model_not_allowed" }),
	} {
		m.Observe(r)
	}
	counters := []struct {
		got  float64
		want float64
	}{
		{testutil.ToFloat64(m.requests.WithLabelValues(base.Route, "openai", "2xx", "st-marys", "bench", "azure", "azure-eu", "eu-west", base.Model, "")), 3},
		{testutil.ToFloat64(m.requests.WithLabelValues(base.Route, "openai", "5xx", "st-marys", "bench", "azure", "azure-eu", "eu-west", base.Model, "upstream_error")), 1},
		{testutil.ToFloat64(m.requests.WithLabelValues(base.Route, "openai", "5xx", "st-marys", "bench", "azure", "azure-eu", "eu-west", base.Model, "upstream_timeout")), 1},
		{testutil.ToFloat64(m.requests.WithLabelValues(base.Route, "openai", "5xx", "st-marys", "bench", "azure", "azure-eu", "eu-west", base.Model, "")), 1},
		{testutil.ToFloat64(m.requests.WithLabelValues(base.Route, "openai", "2xx", "st-marys", "triage", "azure", "azure-eu", "eu-west", base.Model, "")), 1},
		{testutil.ToFloat64(m.requests.WithLabelValues(base.Route, "openai", "4xx", "st-marys", "bench", "azure", "", "eu-west", base.Model, "model_not_allowed")), 1},
		{testutil.ToFloat64(m.tokens.WithLabelValues("st-marys", "bench", base.Model, "input")), 60},
		{testutil.ToFloat64(m.tokens.WithLabelValues("st-marys", "triage", base.Model, "output")), 4},
	}
	for i, c := range counters {
		if c.got != c.want {
			t.Errorf("counter %d: %v, want %v", i, c.got, c.want)
		}
	}
	// error_type: the code, else the status class; "" on success.
	for errType, want := range map[string]uint64{"": 4, "upstream_error": 1, "upstream_timeout": 1, "5xx": 1} {
		if n := histCount(t, m.opDuration.WithLabelValues("chat", "azure", base.Model, base.Model, errType)); n != want {
			t.Errorf("error_type %q: %d operations, want %d", errType, n, want)
		}
	}
	if n := histCount(t, m.stages.WithLabelValues("inspect")); n != 8 {
		t.Errorf("inspect stage observed %d times, want 8", n)
	}
	if n := histCount(t, m.ttft.WithLabelValues("chat", "azure", base.Model)); n != 7 {
		t.Errorf("time to first token observed %d times, want 7 (not for the request that reached no provider)", n)
	}
}

func histCount(t *testing.T, o prometheus.Observer) uint64 {
	t.Helper()
	var d dto.Metric
	if err := o.(prometheus.Metric).Write(&d); err != nil {
		t.Fatal(err)
	}
	return d.GetHistogram().GetSampleCount()
}

func BenchmarkObserve(b *testing.B) {
	m := New()
	r := &Request{Route: "/v1/chat/completions", Dialect: "openai", Operation: "chat", Status: 200, Tenant: "st-marys",
		App: "bench", Provider: "azure", Endpoint: "azure-eu", Region: "eu-west", Model: "gpt-4o-mini",
		Duration: 3 * time.Millisecond, FirstByte: time.Millisecond, InputTokens: 10, OutputTokens: 4, Decision: "allow",
		Stages: map[string]time.Duration{"authenticate": 1, "parse": 1, "inspect": 1, "decide": 1, "redact": 1,
			"route": 1, "intent": 1, "forward": 1, "relay": 1},
		Attempts: []Attempt{{Endpoint: "azure-eu", Provider: "azure", Region: "eu-west", Result: "ok"}}}
	b.ReportAllocs()
	for b.Loop() {
		m.Observe(r)
	}
}
