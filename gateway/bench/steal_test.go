package bench

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseHostCPU(t *testing.T) {
	for _, tc := range []struct {
		name, stat   string
		total, steal uint64
		ok           bool
	}{
		{"two CPUs", "cpu  100 5 50 800 10 1 2 30 7 0\ncpu0 50 2 25 400 5 0 1 15 3 0\ncpu1 50 3 25 400 5 1 1 15 4 0\nintr 1\n", 998, 30, true},
		{"no guest fields", "cpu 1 2 3 4 5 6 7 8\n", 36, 8, true},
		{"cpu line later", "intr 5\ncpu 0 0 0 10 0 0 0 0\n", 10, 0, true},
		{"short cpu line", "cpu 1 2 3 4 5 6 7\n", 0, 0, false},
		{"not a number", "cpu 1 2 3 4 5 6 7 x\n", 0, 0, false},
		{"only per-CPU lines", "cpu0 1 2 3 4 5 6 7 8\n", 0, 0, false},
		{"empty", "", 0, 0, false},
	} {
		h, err := parseHostCPU([]byte(tc.stat))
		if (err == nil) != tc.ok || h.readable != tc.ok || h.total != tc.total || h.steal != tc.steal {
			t.Errorf("%s: %+v, %v; want total %d steal %d ok %v", tc.name, h, err, tc.total, tc.steal, tc.ok)
		}
	}
	h, err := readHostCPU("/proc")
	if err != nil || !h.readable || h.total == 0 {
		t.Errorf("readHostCPU(/proc) = %+v, %v", h, err)
	}
}

func TestStealShare(t *testing.T) {
	a := hostCPU{total: 1000, steal: 10, readable: true}
	for _, tc := range []struct {
		name          string
		before, after hostCPU
		want          float64 // -1: nil
	}{
		{"a tenth", a, hostCPU{total: 2000, steal: 110, readable: true}, 0.1},
		{"none", a, hostCPU{total: 1500, steal: 10, readable: true}, 0},
		{"no time passed", a, a, -1},
		{"after unreadable", a, hostCPU{}, -1},
		{"before unreadable", hostCPU{}, a, -1},
		{"counter went back", a, hostCPU{total: 2000, steal: 5, readable: true}, -1},
	} {
		got := stealShare(tc.before, tc.after)
		if tc.want < 0 && got != nil || tc.want >= 0 && (got == nil || *got != tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestStealNotes(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	clean := &Report{Loads: []LoadResult{{Name: "plain, c=64", Results: []Result{
		{Target: BareProxyName, Steal: f(0.01), RoundsSteal: []float64{0.01, 0.02, 0.01}},
		{Target: CustosName, Steal: f(0.03), RoundsSteal: []float64{0.03, 0.04, 0.0}},
	}}}}
	n := stealNotes(clean)
	if len(n) != 1 || !strings.Contains(n[0], "at or below 5%") || !strings.Contains(n[0], "worst 4.0%") {
		t.Errorf("clean run: %q", n)
	}
	stolen := &Report{Loads: []LoadResult{{Name: "plain, c=64", Results: []Result{
		{Target: BareProxyName, Steal: f(0.01), RoundsSteal: []float64{0.01, 0.02, 0.01}},
		{Target: CustosName, Steal: f(0.08), RoundsSteal: []float64{0.19, 0.08, 0.02}},
	}}, {Name: "streamed, c=1", Results: []Result{{Target: CustosName, Steal: f(0.3)}}}}}
	n = stealNotes(stolen)
	want := []string{"plain, c=64 custos round 1 19%, round 2 8%", "streamed, c=1 custos 30%", "worst 30%"}
	if len(n) != 1 {
		t.Fatalf("stolen run: %q", n)
	}
	for _, w := range want {
		if !strings.Contains(n[0], w) {
			t.Errorf("stolen run's note %q lacks %q", n[0], w)
		}
	}
	if strings.Contains(n[0], BareProxyName) || strings.Contains(n[0], "round 3") {
		t.Errorf("note names a phase under the threshold: %q", n[0])
	}
	if n := stealNotes(&Report{Loads: []LoadResult{{Results: []Result{{Target: CustosName}}}}}); n != nil {
		t.Errorf("no readings: %q, want no note", n)
	}
}

// TestRunReadsSteal: a timed phase long enough for /proc/stat's ticks to
// move has its steal share, and the report says how much steal there was.
func TestRunReadsSteal(t *testing.T) {
	rep, err := Run(context.Background(), Options{Stub: true, BareProxy: true, Workload: mixedWorkload(t),
		Load: Load{Connections: 2, Duration: 300 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rep.Loads[0].Results {
		if r.Steal == nil || *r.Steal < 0 || *r.Steal > 1 {
			t.Errorf("%s: steal %v, want a share read from /proc/stat", r.Target, r.Steal)
		}
	}
	if !slices.ContainsFunc(rep.Notes, func(n string) bool { return strings.Contains(n, "steal time") }) {
		t.Errorf("no note on steal time: %q", rep.Notes)
	}
}

// TestStealByRound: a target's rounds list every round's steal or none,
// the round notes give it beside each round's requests/s, and the steal
// note says how many phases were read.
func TestStealByRound(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	whole := medianRound([]Result{{RPS: 3, Steal: f(0.01)}, {RPS: 1, Steal: f(0.02)}, {RPS: 2, Steal: f(0.30)}})
	if !slices.Equal(whole.RoundsSteal, []float64{0.01, 0.02, 0.30}) || *whole.Steal != 0.30 {
		t.Errorf("every round read: rounds %v, median round's %v", whole.RoundsSteal, *whole.Steal)
	}
	gap := medianRound([]Result{{RPS: 3, Steal: f(0.01)}, {RPS: 1}, {RPS: 2, Steal: f(0.30)}})
	if gap.RoundsSteal != nil {
		t.Errorf("a round without a reading: rounds %v, want none listed", gap.RoundsSteal)
	}
	rep := &Report{Loads: []LoadResult{{Name: "plain, c=64", Results: []Result{
		{Target: BareProxyName, RoundsRPS: whole.RoundsRPS, RoundsSteal: whole.RoundsSteal, Steal: whole.Steal},
		{Target: CustosName, RoundsRPS: gap.RoundsRPS, Steal: gap.Steal},
	}}}}
	n := stealNotes(rep)
	if len(n) != 1 || !strings.Contains(n[0], "bare proxy round 3 30%") || !strings.Contains(n[0], "read (3 of 6;") {
		t.Errorf("steal note: %q", n)
	}
	rn := roundNotes(rep, 3)
	if len(rn) != 2 || !strings.Contains(rn[1], "bare proxy 3 / 1 / 2 (host steal 1% / 2% / 30%)") || strings.Contains(rn[1], "custos 3 / 1 / 2 (") {
		t.Errorf("round notes: %q", rn)
	}
}
