package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func mixedWorkload(t *testing.T) *Workload {
	t.Helper()
	p := DefaultProfile()
	p.StreamShare = 0.5
	p.PIIPerKB = 2
	p.Variants = 16
	p.Routes = map[string]int{RouteChat: 2, RouteMessages: 1, RouteResponses: 1, RouteEmbeddings: 1}
	w, err := p.Generate()
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func checkMonotonic(t *testing.T, name string, q *Quantiles) {
	t.Helper()
	if q == nil {
		t.Fatalf("%s: no quantiles", name)
	}
	seq := []float64{q.P50, q.P90, q.P99, q.P999, q.Max}
	for i := 1; i < len(seq); i++ {
		if seq[i] < seq[i-1] {
			t.Errorf("%s: quantiles not monotonic: %v", name, seq)
		}
	}
	if q.P50 <= 0 {
		t.Errorf("%s: p50 = %v, want > 0", name, q.P50)
	}
}

// TestRunAgainstStub replays a mixed workload (every route, plain and
// streamed, personal data) against the stub directly and through the bare
// proxy, closed and open loop, and checks the accounting.
func TestRunAgainstStub(t *testing.T) {
	w := mixedWorkload(t)
	for _, tc := range []struct {
		name string
		load Load
	}{
		{"closed loop", Load{Connections: 4, Requests: 60, Warmup: 20 * time.Millisecond}},
		{"open loop", Load{Connections: 4, RPS: 2000, Requests: 40}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			rep, err := Run(context.Background(), Options{Stub: true, BareProxy: true, Workload: w, Load: tc.load, Out: &out})
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Loads) != 1 || len(rep.Loads[0].Results) != 2 {
				t.Fatalf("report has %d loads, want 1 with 2 targets", len(rep.Loads))
			}
			for _, r := range rep.Loads[0].Results {
				if r.Requests != int64(tc.load.Requests) || r.OK != r.Requests || len(r.Errors) != 0 {
					t.Errorf("%s: requests %d ok %d errors %v, want %d without errors", r.Target, r.Requests, r.OK, r.Errors, tc.load.Requests)
				}
				checkMonotonic(t, r.Target+" latency", r.Latency)
				checkMonotonic(t, r.Target+" ttft", r.TTFT)
				if r.TTFT.P50 > r.Latency.Max {
					t.Errorf("%s: first token p50 %v after the slowest last byte %v", r.Target, r.TTFT.P50, r.Latency.Max)
				}
				if (tc.load.RPS > 0) != (r.ScheduleLag != nil) {
					t.Errorf("%s: schedule lag reported = %v in %s", r.Target, r.ScheduleLag != nil, tc.name)
				}
			}
			bare := rep.Loads[0].Results[1]
			if bare.Target != BareProxyName || bare.AddedP50MS == nil {
				t.Errorf("second target %q, added p50 %v; want the bare proxy with an added p50", bare.Target, bare.AddedP50MS)
			}
			for _, want := range []string{"direct", "bare proxy", "latency p99.9", "first token p50", "added p50"} {
				if !strings.Contains(out.String(), want) {
					t.Errorf("text report lacks %q:\n%s", want, out.String())
				}
			}
		})
	}
}

// flaky answers every third request 429 with a code, every third 500
// without one, and the rest with the stub.
func flaky(t *testing.T) *httptest.Server {
	stub := NewStubHandler(StubOptions{})
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch n.Add(1) % 3 {
		case 1:
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = w.Write([]byte(`{"error":{"message":"slow down","type":"requests","code":"rate_limit_exceeded"}}`))
		case 2:
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = w.Write([]byte("oops"))
		default:
			stub.ServeHTTP(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestRunCountsErrorsByStatusAndCode(t *testing.T) {
	srv := flaky(t)
	w, err := DefaultProfile().Generate()
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	rep, err := Run(context.Background(), Options{Targets: []Target{{Name: CustosName, URL: srv.URL}},
		Workload: w, Load: Load{Connections: 1, Requests: 30}, Out: &out, JSON: true})
	if err != nil {
		t.Fatal(err)
	}
	r := rep.Loads[0].Results[0]
	want := map[string]int64{"429 rate_limit_exceeded": 10, "500 -": 10}
	if r.Requests != 30 || r.OK != 10 || len(r.Errors) != len(want) {
		t.Fatalf("requests %d ok %d errors %v; want 30, 10 and %v", r.Requests, r.OK, r.Errors, want)
	}
	for k, v := range want {
		if r.Errors[k] != v {
			t.Errorf("errors[%q] = %d, want %d", k, r.Errors[k], v)
		}
	}
	var decoded Report
	if err := json.Unmarshal(out.Bytes(), &decoded); err != nil {
		t.Fatalf("--json output does not parse: %v", err)
	}
	if got := decoded.Loads[0].Results[0].Errors; got["429 rate_limit_exceeded"] != 10 {
		t.Errorf("JSON errors = %v", got)
	}
}

func TestRunRefusesRemoteTargets(t *testing.T) {
	w, _ := DefaultProfile().Generate()
	for _, tc := range []struct {
		url    string
		remote bool
		want   error
	}{
		{"http://203.0.113.7:8080", false, ErrRemoteTarget},
		{"https://api.example.com", false, ErrRemoteTarget},
		{"http://10.0.0.1", false, ErrRemoteTarget},
		{"http://[2001:db8::1]:80", false, ErrRemoteTarget},
		{"http://user:pw@127.0.0.1:1", true, ErrOptions},
		{"ftp://127.0.0.1", false, ErrOptions},
	} {
		_, err := Run(context.Background(), Options{Targets: []Target{{Name: CustosName, URL: tc.url}},
			AllowRemote: tc.remote, Workload: w, Load: Load{Connections: 1, Requests: 1}})
		if !errors.Is(err, tc.want) {
			t.Errorf("%s (allow remote %v): err = %v, want %v", tc.url, tc.remote, err, tc.want)
		}
	}
}

func TestCheckTarget(t *testing.T) {
	for _, tc := range []struct {
		url    string
		remote bool
		ok     bool
	}{
		{"http://127.0.0.1:8080", false, true},
		{"http://127.9.9.9", false, true},
		{"http://[::1]:8080/v1", false, true},
		{"http://localhost:8080", false, true},
		{"http://gateway.internal:8080", false, false},
		{"http://gateway.internal:8080", true, true},
		{"http://192.168.1.10", false, false},
		{"not a url", true, false},
	} {
		if err := CheckTarget(tc.url, tc.remote); (err == nil) != tc.ok {
			t.Errorf("CheckTarget(%q, %v) = %v, want ok %v", tc.url, tc.remote, err, tc.ok)
		}
	}
}

// TestRounds: with rounds, every target is measured that many times and
// reported by its round of median requests/s, whole.
func TestRounds(t *testing.T) {
	t.Run("median round", func(t *testing.T) {
		for _, c := range []struct {
			rps  []float64
			want float64
		}{{[]float64{5}, 5}, {[]float64{9, 3, 7}, 7}, {[]float64{3, 9}, 3}, {[]float64{4, 8, 6, 2}, 4}, {[]float64{6, 6, 1}, 6}} {
			var rs []Result
			for i, v := range c.rps {
				rs = append(rs, Result{RPS: v, Requests: int64(i)})
			}
			got := medianRound(rs)
			if got.RPS != c.want || rs[got.Requests].RPS != got.RPS {
				t.Errorf("%v: round of %v, want %v", c.rps, got.RPS, c.want)
			}
			if len(c.rps) > 1 && !slices.Equal(got.RoundsRPS, c.rps) || len(c.rps) == 1 && got.RoundsRPS != nil {
				t.Errorf("%v: rounds listed %v", c.rps, got.RoundsRPS)
			}
		}
	})
	t.Run("run", func(t *testing.T) {
		var out bytes.Buffer
		rep, err := Run(context.Background(), Options{Stub: true, BareProxy: true, Workload: mixedWorkload(t), Rounds: 3,
			Load: Load{Connections: 2, Requests: 30}, Out: &out})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rep.Loads[0].Results {
			if len(r.RoundsRPS) != 3 || r.Requests != 30 {
				t.Errorf("%s: rounds %v, requests %d; want 3 rounds of 30", r.Target, r.RoundsRPS, r.Requests)
			}
			sorted := slices.Sorted(slices.Values(r.RoundsRPS))
			if r.RPS != sorted[1] {
				t.Errorf("%s: reported %v requests/s, median of %v is %v", r.Target, r.RPS, r.RoundsRPS, sorted[1])
			}
		}
	})
}
