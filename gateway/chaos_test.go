package gateway_test

import (
	"bytes"
	"io"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/custos-gateway/custos/gateway/config"
	"github.com/custos-gateway/custos/gateway/providertest"
	"github.com/custos-gateway/custos/gateway/upstream"
)

// TestChaos: simulators that randomly fail, stall or drop connections while
// 200 concurrent requests flow. Every request ends in a success or a clean
// error, none reaches a forbidden region, and memory and goroutines settle.
func TestChaos(t *testing.T) {
	anth := providertest.NewAnthropic(t)
	f := startFleet(t, func(c *config.Config, _ *fleet) {
		c.Upstream.ResponseHeaderTimeout = config.Duration(300 * time.Millisecond)
		c.Routing.BreakerCooldown = config.Duration(200 * time.Millisecond)
		c.Endpoints = append(c.Endpoints, config.Endpoint{Name: "anthropic-eu", Kind: upstream.KindAnthropic, Provider: "anthropic",
			BaseURL: anth.URL, Region: "eu-central", Models: []string{testModel}, Priority: 2, Keyless: true})
	})
	chaos := providertest.Chaos{P429: 0.15, P500: 0.1, P503: 0.1, PStall: 0.05, PDrop: 0.1, Stall: time.Second}
	for i, sim := range []interface{ SetChaos(providertest.Chaos) }{f.euA, f.euB, anth, f.uk, f.us} {
		c := chaos
		c.Seed = int64(i + 1)
		sim.SetChaos(c)
	}

	client := &http.Client{Timeout: 30 * time.Second}
	storm := func(round int) {
		type result struct {
			status int
			body   string
			stream bool
		}
		results := make(chan result, 200)
		var wg sync.WaitGroup
		for i := range 200 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				stream := i%2 == 0
				body := healthBody
				if stream {
					body = strings.Replace(healthBody, `"messages"`, `"stream":true,"messages"`, 1)
				}
				req, _ := http.NewRequest(http.MethodPost, strings.TrimSuffix(f.h.URL, "/v1")+"/v1/chat/completions", strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+appKey)
				resp, err := client.Do(req)
				if err != nil {
					results <- result{status: -1, body: err.Error()}
					return
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				results <- result{status: resp.StatusCode, body: string(b), stream: stream}
			}()
		}
		wg.Wait()
		close(results)
		counts := map[string]int{}
		for r := range results {
			switch {
			case r.status == 200 && r.stream && strings.HasSuffix(strings.TrimSpace(r.body), "data: [DONE]"):
				counts["stream ok"]++
			case r.status == 200 && r.stream && strings.Contains(r.body, `"code":"upstream_interrupted"`):
				counts["stream cut, clean error event"]++
			case r.status == 200 && !r.stream && strings.Contains(r.body, `"choices"`):
				counts["ok"]++
			case (r.status == 502 || r.status == 503 || r.status == 504 || r.status == 429) && strings.Contains(r.body, `"error"`):
				counts["clean error"]++
			default:
				t.Errorf("unclean ending: %d %q", r.status, r.body)
			}
		}
		t.Logf("round %d outcomes: %v", round, counts)
		if counts["ok"]+counts["stream ok"] == 0 {
			t.Error("no request succeeded; the chaos is too strong to show failover")
		}
		if n := f.us.Requests() + f.uk.Requests(); n != 0 {
			t.Fatalf("%d health-data requests reached a non-EU endpoint", n)
		}
		client.CloseIdleConnections()
	}

	// Steady state: after a warm-up storm, a second one leaves goroutines and
	// the heap where the first left them (pooled idle connections included).
	settle := func() (int, uint64) {
		// Past every Retry-After (1s) and circuit cooldown (200ms) of the
		// storm, so that the next storm starts from healthy endpoints.
		time.Sleep(1500 * time.Millisecond)
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return goroutinesOutsidePools(), m.HeapAlloc
	}
	storm(1)
	g1, h1 := settle()
	storm(2)
	g2, h2 := settle()
	t.Logf("after storm 1: %d goroutines, %d KiB heap; after storm 2: %d goroutines, %d KiB heap", g1, h1>>10, g2, h2>>10)
	if g2 > g1+10 {
		buf := make([]byte, 1<<20)
		t.Errorf("goroutines grew from %d to %d between storms:\n%s", g1, g2, bytes.TrimSpace(buf[:runtime.Stack(buf, true)]))
	}
	if h2 > h1+32<<20 {
		t.Errorf("heap grew from %d to %d KiB between storms", h1>>10, h2>>10)
	}
}

// goroutinesOutsidePools counts goroutines other than those of idle pooled
// HTTP connections (client read/write loops, server connections waiting for
// their next request): the pools are bounded by design and their size varies
// with scheduling, so they would only add noise to a leak check.
func goroutinesOutsidePools() int {
	buf := make([]byte, 8<<20)
	buf = buf[:runtime.Stack(buf, true)]
	n := 0
	for _, g := range bytes.Split(buf, []byte("\n\n")) {
		if bytes.Contains(g, []byte("net/http.(*persistConn)")) || bytes.Contains(g, []byte("net/http.(*conn).serve")) {
			continue
		}
		n++
	}
	return n
}
