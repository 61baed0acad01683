package gateway_test

import (
	"fmt"
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

// stageSeconds reads the total seconds and count of every pipeline stage
// from the gateway's metrics.
func stageSeconds(b *testing.B, h *harness) map[string][2]float64 {
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	rec := httptest.NewRecorder()
	h.Handler.ServeHTTP(rec, req)
	out := map[string][2]float64{}
	for _, line := range strings.Split(rec.Body.String(), "\n") {
		for i, suffix := range []string{"_sum{", "_count{"} {
			rest, ok := strings.CutPrefix(line, "custos_stage_duration_seconds"+suffix)
			if !ok {
				continue
			}
			stage := strings.TrimSuffix(strings.TrimPrefix(strings.Fields(rest)[0], `stage="`), `"}`)
			var v float64
			_, _ = fmt.Sscan(strings.Fields(rest)[1], &v)
			e := out[stage]
			e[i] = v
			out[stage] = e
		}
	}
	return out
}

// BenchmarkPipeline runs the whole pipeline (every stage, the audit log on
// disk, metrics on) through the gateway's handler, the client's HTTP left
// out, for request shapes that load different stages: a plain chat, a
// stream, one dense with PII, one whose every decision the policy
// evaluates afresh (as for a shape it has not seen), strict durability (two commits), and a prepaid tenant
// (reserve and settle). Each reports its time per request and every
// stage's mean, from the spine's own stage timings.
func BenchmarkPipeline(b *testing.B) {
	plain := `{"model":"gpt-4o-mini","messages":[{"role":"system","content":"You are a careful clinical assistant."},{"role":"user","content":"Summarise the visit notes in three bullet points."}]}`
	pii := `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Patient Maria Garcia (MRN 00412345, DOB 1961-03-14, phone +44 20 7946 0958) was seen by Dr. John Smith at 12 Baker Street, London NW1 6XE on 2026-11-30; email maria.garcia@example.org."}]}`
	cases := []struct {
		name string
		edit func(*config.Config)
		body func(i int) string
	}{
		{"plain", nil, func(int) string { return plain }},
		{"stream", nil, func(int) string { return strings.Replace(plain, `"messages"`, `"stream":true,"messages"`, 1) }},
		{"pii", nil, func(int) string { return pii }},
		{"policy-cold", nil, func(int) string { return plain }}, // every decision evaluated afresh (no memo)
		{"strict-durability", func(c *config.Config) { c.Audit.Durability = "strict" }, func(int) string { return plain }},
		{"prepaid", prepaid, func(int) string { return plain }},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			h := startGatewayOpts(b, harnessOptions{edit: c.edit, noMemo: c.name == "policy-cold"})
			if c.name == "prepaid" {
				topUp(b, h, hospital, 1<<50)
			}
			serve := func(body string) {
				req := httptest.NewRequest(http.MethodPost, "/v1/chat/completions", strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+appKey)
				rec := httptest.NewRecorder()
				h.Handler.ServeHTTP(rec, req)
				if rec.Code != 200 {
					b.Fatalf("status %d: %s", rec.Code, rec.Body)
				}
			}
			serve(c.body(-1))
			before := stageSeconds(b, h)
			b.ReportAllocs()
			b.ResetTimer()
			i := 0
			for b.Loop() {
				serve(c.body(i))
				i++
			}
			b.StopTimer()
			for stage, v := range stageSeconds(b, h) {
				if n := v[1] - before[stage][1]; n > 0 {
					b.ReportMetric((v[0]-before[stage][0])/n*1e6, stage+"-µs")
				}
			}
		})
	}
}
