package gateway

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/custos-gateway/custos/gateway/config"
)

// tracing is the OpenTelemetry side of the spine: one server span per
// request, a child per stage and per upstream attempt. Attributes are names,
// ids, codes and counts; never request text, answer text or a PII value.
type tracing struct {
	on        bool
	tracer    trace.Tracer
	prop      propagation.TextMapPropagator
	propagate bool // send traceparent to providers
	shutdown  func(context.Context) error
}

// newTracing exports spans over OTLP when an endpoint is configured; off,
// it costs nothing per request.
func newTracing(cfg config.Tracing) (*tracing, error) {
	t := &tracing{tracer: noop.NewTracerProvider().Tracer("custos"), prop: propagation.TraceContext{},
		propagate: cfg.Propagate, shutdown: func(context.Context) error { return nil }}
	if cfg.OTLPEndpoint == "" {
		return t, nil
	}
	exp, err := newExporter(cfg)
	if err != nil {
		return nil, fmt.Errorf("gateway: tracing exporter: %w", err)
	}
	name := cfg.ServiceName
	if name == "" {
		name = "custos"
	}
	ratio := 1.0
	if cfg.SampleRatio != nil {
		ratio = *cfg.SampleRatio
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp),
		sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(ratio))),
		sdktrace.WithResource(resource.NewSchemaless(attribute.String("service.name", name))))
	t.on, t.tracer, t.shutdown = true, tp.Tracer("github.com/custos-gateway/custos/gateway"), tp.Shutdown
	return t, nil
}

func newExporter(cfg config.Tracing) (*otlptrace.Exporter, error) {
	ctx := context.Background()
	if cfg.Protocol == "grpc" {
		opts := []otlptracegrpc.Option{otlptracegrpc.WithEndpoint(cfg.OTLPEndpoint)}
		if cfg.Insecure {
			opts = append(opts, otlptracegrpc.WithInsecure())
		}
		return otlptracegrpc.New(ctx, opts...)
	}
	opts := []otlptracehttp.Option{otlptracehttp.WithEndpointURL(strings.TrimSuffix(cfg.OTLPEndpoint, "/") + "/v1/traces")}
	if cfg.Insecure {
		opts = append(opts, otlptracehttp.WithInsecure())
	}
	return otlptracehttp.New(ctx, opts...)
}

// startRequest opens the request's server span, continuing a caller's W3C
// trace context; it returns the request to carry on with.
func (t *tracing) startRequest(r *http.Request, route string) (*http.Request, trace.Span) {
	if !t.on {
		return r, trace.SpanFromContext(r.Context())
	}
	ctx := t.prop.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
	ctx, span := t.tracer.Start(ctx, r.Method+" "+route, trace.WithSpanKind(trace.SpanKindServer),
		trace.WithAttributes(attribute.String("http.request.method", r.Method), attribute.String("http.route", route)))
	return r.WithContext(ctx), span
}

// startAttempt opens a client span for one upstream attempt, and the
// headers to send with it (traceparent, when propagation is on).
func (t *tracing) startAttempt(ctx context.Context, op, provider, endpoint, region, model string) (context.Context, trace.Span, http.Header) {
	if !t.on {
		return ctx, trace.SpanFromContext(ctx), nil
	}
	ctx, span := t.tracer.Start(ctx, op+" "+model, trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(
		attribute.String("gen_ai.operation.name", op), attribute.String("gen_ai.provider.name", provider),
		attribute.String("gen_ai.system", provider), attribute.String("gen_ai.request.model", model),
		attribute.String("custos.endpoint", endpoint), attribute.String("cloud.region", region)))
	if !t.propagate {
		return ctx, span, nil
	}
	h := http.Header{}
	t.prop.Inject(ctx, propagation.HeaderCarrier(h))
	return ctx, span, h
}

// endRequest records the finished request on its span: a child per stage
// (from the times the spine noted), the outcome, and the usage.
func (t *tracing) endRequest(span trace.Span, ex *exchange, end time.Time, attrs []attribute.KeyValue) {
	if !t.on {
		return
	}
	ctx := trace.ContextWithSpan(context.Background(), span)
	for i, m := range ex.end.stages {
		stop := end
		if i+1 < len(ex.end.stages) {
			stop = ex.end.stages[i+1].at
		}
		_, st := t.tracer.Start(ctx, "custos."+m.name, trace.WithTimestamp(m.at))
		st.End(trace.WithTimestamp(stop))
	}
	span.SetAttributes(attrs...)
	if ex.end.status >= 500 || (ex.end.err != nil && ex.end.status < 400) {
		span.SetStatus(codes.Error, recordCode(ex.end.err))
	}
	span.End(trace.WithTimestamp(end))
}

// spanAttributes describe a finished request: names, codes and counts.
func (s *Server) spanAttributes(ex *exchange) []attribute.KeyValue {
	attrs := []attribute.KeyValue{attribute.String("custos.request_id", ex.meta.id),
		attribute.Int("http.response.status_code", ex.end.status)}
	if ex.caller.Tenant != "" {
		attrs = append(attrs, attribute.String("custos.tenant", ex.caller.Tenant), attribute.String("custos.app", ex.caller.App))
	}
	if op := genAIOperation[ex.meta.route.name]; op != "" {
		attrs = append(attrs, attribute.String("gen_ai.operation.name", op))
	}
	if ex.req != nil {
		attrs = append(attrs, attribute.String("gen_ai.request.model", s.catalogName(ex.req.model)))
	}
	if ep := ex.fwd.endpoint; ep != nil {
		attrs = append(attrs, attribute.String("gen_ai.provider.name", ep.Provider), attribute.String("custos.endpoint", ep.Name),
			attribute.String("cloud.region", ep.Region), attribute.String("gen_ai.response.model", ep.Served(ex.req.model)))
	}
	if u := ex.ans.usage; u != nil {
		attrs = append(attrs, attribute.Int64("gen_ai.usage.input_tokens", u.PromptTokens),
			attribute.Int64("gen_ai.usage.output_tokens", u.CompletionTokens))
	}
	if ex.dec.decided {
		attrs = append(attrs, attribute.String("custos.policy.revision", ex.dec.Revision.String()))
	}
	if ex.end.err != nil {
		attrs = append(attrs, attribute.String("error.type", recordCode(ex.end.err)))
	}
	return attrs
}
