package bench

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"
)

// SuiteOptions configure the reproduction of the gateway's published
// comparison: plain and streamed chat completions at each connection count,
// against the upstream directly, a bare Go reverse proxy and Custos.
type SuiteOptions struct {
	Self string // the custos executable, re-run for the stub, the bare proxy and `custos serve`
	// Stub starts the built-in stub upstream; otherwise Direct is an
	// OpenAI-compatible upstream that takes no key.
	Stub        bool
	StubOptions StubOptions
	Direct      string
	// Target and Key measure a gateway already running (in front of
	// Direct) instead of starting one.
	Target, Key string
	AllowRemote bool

	Connections []int         // default 1 and 64
	Duration    time.Duration // measured, per target and load (default 5s)
	Warmup      time.Duration // default 1s
	PromptBytes int           // default 1000 (a 1.1 KB body)
	Variants    int           // distinct requests cycled (default 256)
	// NoInspectionCache runs the started gateway with its inspection cache
	// off, so that every text is scanned as if never seen before.
	NoInspectionCache bool
	// Rounds measures each load this many times, the targets interleaved,
	// and reports each target's round of median requests/s (default 1).
	Rounds int

	Out      io.Writer
	JSON     bool
	HTMLFile string
	Progress io.Writer
}

func (s *SuiteOptions) defaults() {
	if len(s.Connections) == 0 {
		s.Connections = []int{1, 64}
	}
	if s.Duration <= 0 {
		s.Duration = 5 * time.Second
	}
	if s.Warmup < 0 {
		s.Warmup = 0
	}
	if s.PromptBytes <= 0 {
		s.PromptBytes = 1000
	}
	s.Rounds = max(s.Rounds, 1)
}

// RunSuite starts what it needs, measures every load against every target
// and writes the report with each target's ratios to the bare proxy.
func RunSuite(ctx context.Context, so SuiteOptions) (*Report, error) {
	so.defaults()
	if so.Self == "" {
		return nil, errNoSelf
	}
	if so.Stub == (so.Direct != "") {
		return nil, fmt.Errorf("%w: give either --stub or --direct URL", ErrOptions)
	}
	o := Options{Stub: so.Stub, StubOptions: so.StubOptions, BareProxy: true, Self: so.Self, AllowRemote: so.AllowRemote,
		Out: so.Out, JSON: so.JSON, HTMLFile: so.HTMLFile, Progress: so.Progress,
		Title: "custos bench suite: direct, bare Go reverse proxy and Custos, side by side", Rounds: so.Rounds}
	if so.Direct != "" {
		o.Targets = append(o.Targets, Target{Name: DirectName, URL: so.Direct})
	}
	if so.Target != "" {
		o.Targets = append(o.Targets, Target{Name: CustosName, URL: so.Target, Key: so.Key})
	}
	e, err := startEnv(o)
	if err != nil {
		return nil, err
	}
	defer e.close()
	if so.Target == "" {
		if err := e.startCustos(so.Self, so.NoInspectionCache); err != nil {
			return nil, err
		}
	}
	return e.runSuite(ctx, so, o)
}

// startCustos runs `custos serve` with a generated configuration in front
// of the direct target.
func (e *env) startCustos(self string, noCache bool) error {
	dir, err := e.tempDir()
	if err != nil {
		return err
	}
	path, key, err := writeCustosConfig(dir, e.targets[0].URL, noCache)
	if err != nil {
		return err
	}
	c, err := e.spawn(CustosName, self, []string{"serve", "--config", path})
	if err != nil {
		return err
	}
	e.targets = append(e.targets, Target{Name: CustosName, URL: c.URL, Key: key, PID: c.pid(), idleRSS: c.idleRSS})
	return nil
}

func (e *env) runSuite(ctx context.Context, so SuiteOptions, o Options) (*Report, error) {
	var rep *Report
	for _, kind := range []struct {
		name  string
		share float64
	}{{"plain", 0}, {"streamed", 1}} {
		p := DefaultProfile()
		p.PromptMin, p.PromptMax, p.StreamShare, p.Models = so.PromptBytes, so.PromptBytes, kind.share, []string{suiteModel}
		p.Variants = so.Variants
		w, err := p.Generate()
		if err != nil {
			return nil, err
		}
		if rep == nil {
			rep = newReport(o.Title, w)
			rep.Source = fmt.Sprintf("synthetic: %d-byte prompts, chat completions, plain and streamed", so.PromptBytes)
			if so.Target == "" {
				state := "on"
				if so.NoInspectionCache {
					state = "off"
				}
				rep.Source += "; custos inspection cache " + state
			}
		}
		o.Workload = w
		for _, c := range so.Connections {
			l := Load{Connections: c, Duration: so.Duration, Warmup: so.Warmup}
			lr, err := e.measureAll(ctx, o, fmt.Sprintf("%s, c=%d", kind.name, c), l)
			if err != nil {
				return nil, err
			}
			rep.Loads = append(rep.Loads, lr)
		}
	}
	if dir, err := e.tempDir(); err == nil {
		if f, c, err := diskFloor(filepath.Clean(dir), 200); err == nil {
			rep.Host.FsyncP50US = float64(f) / float64(time.Microsecond)
			rep.Host.CommitP50US = float64(c) / float64(time.Microsecond)
		}
	}
	rep.finish(e.inProcess)
	rep.Notes = append(rep.Notes, budgetNotes(rep)...)
	rep.Notes = append(rep.Notes, roundNotes(rep, so.Rounds)...)
	return rep, writeReport(rep, o)
}

// roundNotes say how rounds were measured and list each load's requests/s
// by round, for every target.
func roundNotes(r *Report, rounds int) []string {
	if rounds <= 1 {
		return nil
	}
	out := []string{fmt.Sprintf("each load was measured in %d rounds, every target once per round in turn; "+
		"each target's figures are from its round of median requests/s", rounds)}
	for _, lr := range r.Loads {
		var parts []string
		for _, res := range lr.Results {
			var rps []string
			for _, v := range res.RoundsRPS {
				rps = append(rps, fmtRPS(v))
			}
			part := res.Target + " " + strings.Join(rps, " / ")
			if len(res.RoundsSteal) > 0 && len(res.RoundsSteal) == len(res.RoundsRPS) {
				var st []string
				for _, v := range res.RoundsSteal {
					st = append(st, fmt.Sprintf("%.0f%%", v*100))
				}
				part += " (host steal " + strings.Join(st, " / ") + ")"
			}
			parts = append(parts, part)
		}
		out = append(out, fmt.Sprintf("%s: requests/s by round: %s", lr.Name, strings.Join(parts, "; ")))
	}
	return out
}

// budgetNotes states the one-client latency budget the gateway is held to:
// the bare proxy's added p50, plus one audit commit on this disk, plus 100 µs.
func budgetNotes(r *Report) []string {
	if r.Host.CommitP50US <= 0 {
		return nil
	}
	var out []string
	for _, lr := range r.Loads {
		if lr.Load.Connections != 1 {
			continue
		}
		bare, gw := find(lr, BareProxyName), find(lr, CustosName)
		if bare == nil || gw == nil || bare.AddedP50MS == nil || gw.AddedP50MS == nil {
			continue
		}
		budget := *bare.AddedP50MS + r.Host.CommitP50US/1000 + 0.1
		out = append(out, fmt.Sprintf("%s: Custos added %s at p50; budget (bare proxy's added p50 + one bbolt commit %s + 100 µs) is %s",
			lr.Name, fmtSignedMS(*gw.AddedP50MS), fmtUS(r.Host.CommitP50US), fmtSignedMS(budget)))
	}
	return out
}
