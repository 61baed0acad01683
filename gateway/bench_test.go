package gateway_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/custos-gateway/custos/gateway/config"
)

// BenchmarkPassThrough measures the latency the gateway adds to a request, as
// the difference and ratio between the same request sent straight to the
// simulator and sent through Custos, interleaved in the same run.
func BenchmarkPassThrough(b *testing.B) {
	for _, mode := range []struct {
		name string
		body string
	}{
		{"non-streaming", `{"model":"gpt-4o-mini","messages":[{"role":"system","content":"You are a careful clinical assistant."},{"role":"user","content":"Summarise the visit notes in three bullet points."}],"temperature":0.2}`},
		{"streaming", `{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"system","content":"You are a careful clinical assistant."},{"role":"user","content":"Summarise the visit notes in three bullet points."}],"temperature":0.2}`},
	} {
		b.Run(mode.name, func(b *testing.B) {
			h := startGateway(b, nil)
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
			send := func(url, key string) {
				req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(mode.body))
				req.Header.Set("Content-Type", "application/json")
				if key != "" {
					req.Header.Set("Authorization", "Bearer "+key)
				}
				resp, err := client.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				n, _ := io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 || n == 0 {
					b.Fatalf("status %d, %d bytes", resp.StatusCode, n)
				}
			}
			direct, custos := h.Sim.URL+"/chat/completions", h.URL+"/chat/completions"
			send(direct, "")
			send(custos, appKey)
			var tDirect, tCustos time.Duration
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				t0 := time.Now()
				send(direct, "")
				t1 := time.Now()
				send(custos, appKey)
				tDirect += t1.Sub(t0)
				tCustos += time.Since(t1)
			}
			n := float64(b.N)
			b.ReportMetric(float64(tDirect.Microseconds())/n, "direct-µs/req")
			b.ReportMetric(float64(tCustos.Microseconds())/n, "custos-µs/req")
			b.ReportMetric(float64((tCustos-tDirect).Microseconds())/n, "added-µs/req")
			b.ReportMetric(float64(tCustos)/float64(tDirect), "custos/direct")
		})
	}
}

// BenchmarkAccountingPipeline measures what accounting adds to a whole
// request through the gateway: the same chat request from a prepaid tenant
// (estimate, reserve, settle in the outcome's commit) and from a tenant that
// is costed but not charged, on two gateways alternating in blocks of 20 in
// the same run. It reports wall and process CPU time per request and their
// differences.
func BenchmarkAccountingPipeline(b *testing.B) {
	body := `{"model":"gpt-4o-mini","max_tokens":200,"messages":[{"role":"user","content":"Summarise the visit notes in three bullet points."}]}`
	plain := startGateway(b, nil)
	billed := startGateway(b, prepaid)
	topUp(b, billed, hospital, 1<<50)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	send := func(h *harness) {
		req, _ := http.NewRequest(http.MethodPost, h.URL+"/chat/completions", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+appKey)
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("x-custos-cost") == "" {
			b.Fatalf("status %d, cost %q", resp.StatusCode, resp.Header.Get("x-custos-cost"))
		}
	}
	send(plain)
	send(billed)
	var wall, cpu [2]time.Duration
	b.ResetTimer()
	for done := 0; done < b.N; done += 20 {
		for i, h := range []*harness{plain, billed} {
			c0, t0 := processCPU(), time.Now()
			for range min(20, b.N-done) {
				send(h)
			}
			wall[i] += time.Since(t0)
			cpu[i] += processCPU() - c0
		}
	}
	per := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / float64(b.N) / 1e3 }
	b.ReportMetric(per(wall[0]), "unbilled-µs/req")
	b.ReportMetric(per(wall[1]), "prepaid-µs/req")
	b.ReportMetric(per(wall[1])-per(wall[0]), "overhead-µs/req")
	b.ReportMetric(per(cpu[0]), "unbilled-cpu-µs/req")
	b.ReportMetric(per(cpu[1]), "prepaid-cpu-µs/req")
	b.ReportMetric(per(cpu[1])-per(cpu[0]), "overhead-cpu-µs/req")
	b.ReportMetric(0, "ns/op")
}

// processCPU is the process's user and system time so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkPipelineMetrics compares the whole pipeline with metrics on and
// off: two gateways, the same chat request through each one's handler
// (the client's HTTP left out), alternating in blocks of 50 in one run. It
// reports each one's time per request and their ratio (goal: at most 1.05).
func BenchmarkPipelineMetrics(b *testing.B) {
	on := startGateway(b, nil)
	off := startGateway(b, func(c *config.Config) { c.Metrics.Enabled = new(false) })
	body := `{"model":"gpt-4o-mini","messages":[{"role":"system","content":"You are a careful clinical assistant."},{"role":"user","content":"Summarise the visit notes in three bullet points."}]}`
	serve := func(h *harness) {
		req := httptest.NewRequest(http.MethodPost, "/v1/chat/completions", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+appKey)
		rec := httptest.NewRecorder()
		h.Handler.ServeHTTP(rec, req)
		if rec.Code != 200 {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
	serve(on)
	serve(off)
	var t [2]time.Duration
	b.ResetTimer()
	for done := 0; done < b.N; done += 50 {
		for i, h := range []*harness{on, off} {
			t0 := time.Now()
			for range min(50, b.N-done) {
				serve(h)
			}
			t[i] += time.Since(t0)
		}
	}
	n := float64(b.N)
	b.ReportMetric(float64(t[0].Microseconds())/n, "metrics-on-µs/req")
	b.ReportMetric(float64(t[1].Microseconds())/n, "metrics-off-µs/req")
	b.ReportMetric(float64(t[0])/float64(t[1]), "on/off")
	b.ReportMetric(0, "ns/op")
}
