package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReports renders one real run as text, JSON and HTML.
func TestReports(t *testing.T) {
	w := mixedWorkload(t)
	html := filepath.Join(t.TempDir(), "report.html")
	var text bytes.Buffer
	rep, err := Run(context.Background(), Options{Stub: true, BareProxy: true, Workload: w, Out: &text, HTMLFile: html,
		Load: Load{Connections: 2, Requests: 20}, Title: "report test"})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"report test", "latency p50", "requests/s", "bare proxy", "notes", "inside bench's process"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text lacks %q", want)
		}
	}
	var js bytes.Buffer
	if err := WriteJSON(&js, rep); err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(js.Bytes(), &back); err != nil || len(back.Loads) != 1 || back.Loads[0].Results[0].Requests != 20 {
		t.Fatalf("JSON round trip: %v, %+v", err, back.Loads)
	}
	page, err := os.ReadFile(html)
	if err != nil {
		t.Fatal(err)
	}
	h := string(page)
	checks := []struct {
		what string
		ok   bool
	}{
		{"an inline svg", strings.Contains(h, "<svg")},
		{"one line per target", strings.Count(h, "<polyline") == 2},
		{"no script", !strings.Contains(strings.ToLower(h), "<script")},
		{"no external asset", strings.Count(h, "http://")+strings.Count(h, "https://") == strings.Count(h, `xmlns="http://www.w3.org/2000/svg"`)},
		{"the latency table", strings.Contains(h, "latency p99.9")},
	}
	for _, c := range checks {
		if !c.ok {
			t.Errorf("HTML report: want %s", c.what)
		}
	}
}

func TestSummaryTableHasRatios(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	r := &Report{Loads: []LoadResult{{Name: "plain, c=1", Results: []Result{
		{Target: DirectName, Requests: 10, OK: 10, RPS: 1000, Latency: &Quantiles{P50: 0.1}},
		{Target: BareProxyName, Requests: 10, OK: 10, RPS: 800, Latency: &Quantiles{P50: 0.3}, AddedP50MS: f(0.2),
			Server: &Usage{PID: 2, CPUPerRequestUS: 100, PeakRSSBytes: 20 << 20, IdleRSSBytes: 10 << 20}},
		{Target: CustosName, Requests: 10, OK: 9, RPS: 400, Latency: &Quantiles{P50: 1.1}, AddedP50MS: f(1.0),
			Server: &Usage{PID: 3, CPUPerRequestUS: 300, PeakRSSBytes: 60 << 20, IdleRSSBytes: 40 << 20}},
	}}}}
	compare(r.Loads[0].Results)
	var b strings.Builder
	writeTable(&b, summaryTable(r))
	got := b.String()
	for _, want := range []string{"custos ÷ bare", "(0.100 ms)", "+1.00 ms", "5.00×", "0.50×", "3.00×", "60.0 MB", "20.0 MB", "2.00×"} {
		if !strings.Contains(got, want) {
			t.Errorf("summary lacks %q:\n%s", want, got)
		}
	}
}
