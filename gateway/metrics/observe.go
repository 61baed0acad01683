package metrics

// Observe records one finished request in every family it touches.
func (m *Metrics) Observe(r *Request) {
	class := statusClass(r.Status)
	m.requests.WithLabelValues(r.Route, r.Dialect, class, r.Tenant, r.App, r.Provider, r.Endpoint, r.Region, r.Model, r.Code).Inc()
	m.duration.WithLabelValues(r.Route, r.Dialect, class, r.Tenant, r.App, r.Provider, r.Endpoint, r.Region, r.Model).
		Observe(r.Duration.Seconds())
	for stage, d := range r.Stages {
		m.stages.WithLabelValues(stage).Observe(d.Seconds())
	}
	m.observeGenAI(r)
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

// observeGenAI records the OpenTelemetry GenAI families of a request that
// reached a provider.
func (m *Metrics) observeGenAI(r *Request) {
	if r.Endpoint == "" || r.Operation == "" {
		return
	}
	op, provider, model := r.Operation, r.Provider, r.Model
	errType := r.Code
	if errType == "" && r.Status >= 400 {
		errType = statusClass(r.Status)
	}
	// Label values in the order New declares them (no label maps per request).
	m.opDuration.WithLabelValues(op, provider, model, model, errType).Observe(r.Duration.Seconds())
	if r.FirstByte > 0 {
		m.ttft.WithLabelValues(op, provider, model).Observe(r.FirstByte.Seconds())
	}
	if r.InputTokens > 0 || r.OutputTokens > 0 {
		m.tokenUsage.WithLabelValues(op, provider, model, "input").Observe(float64(r.InputTokens))
		m.tokenUsage.WithLabelValues(op, provider, model, "output").Observe(float64(r.OutputTokens))
		m.tokens.WithLabelValues(r.Tenant, r.App, r.Model, "input").Add(float64(r.InputTokens))
		m.tokens.WithLabelValues(r.Tenant, r.App, r.Model, "output").Add(float64(r.OutputTokens))
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
