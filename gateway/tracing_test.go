package gateway_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	coltrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/custos-gateway/custos/gateway/config"
	"github.com/custos-gateway/custos/gateway/providertest"
	"github.com/custos-gateway/custos/gateway/upstream"
)

// otlpReceiver is an in-process OTLP/HTTP trace receiver.
type otlpReceiver struct {
	mu    sync.Mutex
	spans []*tracepb.Span
	srv   *httptest.Server
}

func newOTLPReceiver(t *testing.T) *otlpReceiver {
	r := &otlpReceiver{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		var ex coltrace.ExportTraceServiceRequest
		if req.URL.Path != "/v1/traces" || proto.Unmarshal(body, &ex) != nil {
			http.Error(w, "bad export", http.StatusBadRequest)
			return
		}
		r.mu.Lock()
		for _, rs := range ex.ResourceSpans {
			for _, ss := range rs.ScopeSpans {
				r.spans = append(r.spans, ss.Spans...)
			}
		}
		r.mu.Unlock()
		w.Header().Set("Content-Type", "application/x-protobuf")
		out, _ := proto.Marshal(&coltrace.ExportTraceServiceResponse{})
		_, _ = w.Write(out)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func attrs(s *tracepb.Span) map[string]string {
	m := map[string]string{}
	for _, kv := range s.Attributes {
		switch v := kv.Value.Value.(type) {
		case *commonpb.AnyValue_StringValue:
			m[kv.Key] = v.StringValue
		case *commonpb.AnyValue_IntValue:
			m[kv.Key] = strconv.FormatInt(v.IntValue, 10)
		default:
			m[kv.Key] = kv.Value.String()
		}
	}
	return m
}

// A streamed request with one failover: one server span continuing the
// caller's trace, a child per stage and per attempt, GenAI attributes, and
// no request text anywhere; traceparent reaches providers only when asked.
func TestTracingSpanTree(t *testing.T) {
	for _, propagate := range []bool{false, true} {
		rcv := newOTLPReceiver(t)
		second := providertest.NewOpenAI(t)
		h := startGateway(t, func(c *config.Config) {
			c.Tracing = config.Tracing{OTLPEndpoint: rcv.srv.URL, Insecure: true, Propagate: propagate}
			c.Endpoints = append(c.Endpoints, config.Endpoint{Name: "local-llm", Kind: upstream.KindOpenAI, Provider: "vllm",
				BaseURL: second.URL, Region: "eu-west", Models: []string{testModel}, Keyless: true, Priority: 5})
		})
		h.Sim.Script(providertest.Behaviour{Status: 503})
		const parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
		req, _ := http.NewRequest(http.MethodPost, h.URL+"/chat/completions", strings.NewReader(
			`{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"Patient Maria Garcia SPANCANARY"}]}`))
		req.Header.Set("Authorization", "Bearer "+appKey)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("traceparent", parent)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		h.stop() // flushes the spans
		checkSpans(t, rcv, propagate)
		got := second.Received()
		if len(got) != 1 || (got[0].Header.Get("traceparent") != "") != propagate {
			t.Errorf("propagate=%v: the provider received traceparent %q", propagate, got[0].Header.Get("traceparent"))
		}
	}
}

func checkSpans(t *testing.T, rcv *otlpReceiver, propagate bool) {
	t.Helper()
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	var root *tracepb.Span
	children := map[string]int{}
	var attempts []*tracepb.Span
	for _, s := range rcv.spans {
		for _, kv := range s.Attributes {
			if strings.Contains(kv.Value.String(), "SPANCANARY") || strings.Contains(kv.Value.String(), "Maria") {
				t.Fatalf("span %s carries request text in %s", s.Name, kv.Key)
			}
		}
		switch {
		case s.Kind == tracepb.Span_SPAN_KIND_SERVER:
			root = s
		case s.Kind == tracepb.Span_SPAN_KIND_CLIENT:
			attempts = append(attempts, s)
		default:
			children[s.Name]++
		}
	}
	if root == nil || root.Name != "POST /v1/chat/completions" || strings.ToLower(string(hexID(root.TraceId))) != "4bf92f3577b34da6a3ce929d0e0e4736" {
		t.Fatalf("propagate=%v: no server span continuing the caller's trace: %v", propagate, root)
	}
	a := attrs(root)
	if a["gen_ai.operation.name"] != "chat" || a["gen_ai.request.model"] != "gpt-4o-mini" || a["custos.endpoint"] != "local-llm" ||
		a["custos.tenant"] != "st-marys" || a["gen_ai.usage.output_tokens"] == "" || a["http.response.status_code"] == "" {
		t.Errorf("server span attributes: %v", a)
	}
	for _, st := range []string{"custos.authenticate", "custos.inspect", "custos.decide", "custos.redact", "custos.route", "custos.intent", "custos.forward", "custos.account"} {
		if children[st] != 1 {
			t.Errorf("stage span %s: %d", st, children[st])
		}
	}
	if len(attempts) != 2 {
		t.Fatalf("%d attempt spans, want 2", len(attempts))
	}
	first, second := attrs(attempts[0]), attrs(attempts[1])
	if first["custos.endpoint"] != "azure-openai-eu" || first["error.type"] != "503" || second["custos.endpoint"] != "local-llm" ||
		second["gen_ai.provider.name"] != "vllm" || second["gen_ai.request.model"] != "gpt-4o-mini" {
		t.Errorf("attempt spans: %v / %v", first, second)
	}
	for _, s := range append(attempts, rcv.spans...) {
		if string(s.TraceId) != string(root.TraceId) {
			t.Errorf("span %s is in another trace", s.Name)
		}
	}
}

func hexID(b []byte) []byte {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&0xf])
	}
	return out
}
