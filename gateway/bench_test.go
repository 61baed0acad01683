package gateway_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
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
