package metrics

import "github.com/prometheus/client_golang/prometheus"

// Observe records one finished request.
func (m *Metrics) Observe(r *Request) {
	class := statusClass(r.Status)
	s := m.seriesFor(r, class)
	s.requests.Inc()
	s.duration.Observe(r.Duration.Seconds())
	for stage, d := range r.Stages {
		m.stage(stage).Observe(d.Seconds())
	}
	m.observeGenAI(r, s)
	for class, action := range r.PII {
		m.pii.WithLabelValues(class, action).Add(float64(r.PIICounts[class]))
	}
	m.observeDecision(r)
	for i, a := range r.Attempts {
		m.attempts.WithLabelValues(a.Endpoint, a.Provider, a.Region, a.Result).Inc()
		if i < len(r.Attempts)-1 {
			m.failovers.WithLabelValues(a.Endpoint).Inc()
		}
	}
	if r.CostMicros > 0 {
		m.cost.WithLabelValues(r.Tenant, r.App, r.Model, r.Currency).Add(float64(r.CostMicros))
	}
}

// series holds the children of the families every request touches, for
// one set of a request's labels: resolved once, not hashed and checked
// label by label on every request. Label values are bounded (see the
// package doc), so the set of series is; collectors never drop a child.
type series struct {
	requests           prometheus.Counter
	duration           prometheus.Observer
	opDuration, ttft   prometheus.Observer
	usageIn, usageOut  prometheus.Observer
	tokensIn, tokenOut prometheus.Counter
}

// seriesKey is what selects a request's series (the status enters
// through its class, which decides the error type too).
type seriesKey struct {
	route, dialect, class, tenant, app, provider, endpoint, region, model, code, op string
}

func (m *Metrics) seriesFor(r *Request, class string) *series {
	k := seriesKey{r.Route, r.Dialect, class, r.Tenant, r.App, r.Provider, r.Endpoint, r.Region, r.Model, r.Code, r.Operation}
	if s, ok := m.series.Load(k); ok {
		return s.(*series)
	}
	s, _ := m.series.LoadOrStore(k, m.newSeries(r, class))
	return s.(*series)
}

// newSeries resolves the children of one label set, in the order New
// declares the labels.
func (m *Metrics) newSeries(r *Request, class string) *series {
	s := &series{
		requests: m.requests.WithLabelValues(r.Route, r.Dialect, class, r.Tenant, r.App, r.Provider, r.Endpoint, r.Region, r.Model, r.Code),
		duration: m.duration.WithLabelValues(r.Route, r.Dialect, class, r.Tenant, r.App, r.Provider, r.Endpoint, r.Region, r.Model),
	}
	if r.Endpoint == "" || r.Operation == "" {
		return s // no GenAI series: the request reached no provider
	}
	op, provider, model := r.Operation, r.Provider, r.Model
	errType := r.Code
	if errType == "" && r.Status >= 400 {
		errType = class
	}
	s.opDuration = m.opDuration.WithLabelValues(op, provider, model, model, errType)
	s.ttft = m.ttft.WithLabelValues(op, provider, model)
	s.usageIn = m.tokenUsage.WithLabelValues(op, provider, model, "input")
	s.usageOut = m.tokenUsage.WithLabelValues(op, provider, model, "output")
	s.tokensIn = m.tokens.WithLabelValues(r.Tenant, r.App, r.Model, "input")
	s.tokenOut = m.tokens.WithLabelValues(r.Tenant, r.App, r.Model, "output")
	return s
}

// stage is the stage histogram's child for a stage name.
func (m *Metrics) stage(name string) prometheus.Observer {
	if o, ok := m.stageObs.Load(name); ok {
		return o.(prometheus.Observer)
	}
	o, _ := m.stageObs.LoadOrStore(name, m.stages.WithLabelValues(name))
	return o.(prometheus.Observer)
}

// observeGenAI records the OpenTelemetry GenAI families of a request that
// reached a provider.
func (m *Metrics) observeGenAI(r *Request, s *series) {
	if s.opDuration == nil {
		return
	}
	s.opDuration.Observe(r.Duration.Seconds())
	if r.FirstByte > 0 {
		s.ttft.Observe(r.FirstByte.Seconds())
	}
	if r.InputTokens > 0 || r.OutputTokens > 0 {
		s.usageIn.Observe(float64(r.InputTokens))
		s.usageOut.Observe(float64(r.OutputTokens))
		s.tokensIn.Add(float64(r.InputTokens))
		s.tokenOut.Add(float64(r.OutputTokens))
	}
}
func (m *Metrics) observeDecision(r *Request) {
	switch {
	case r.Decision == "":
	case len(r.DenyCodes) == 0:
		m.decisions.WithLabelValues(r.Decision, "").Inc()
	default:
		for _, c := range r.DenyCodes {
			m.decisions.WithLabelValues(r.Decision, c).Inc()
		}
	}
}
