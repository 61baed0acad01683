package bench

import (
	"cmp"
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"time"
)

// Run measures every target of o under o.Load, writes the report to o.Out
// (and o.HTMLFile) and returns it.
func Run(ctx context.Context, o Options) (*Report, error) {
	if err := o.Load.validate(); err != nil {
		return nil, err
	}
	if o.Workload == nil || len(o.Workload.Requests) == 0 {
		return nil, fmt.Errorf("%w: no requests", ErrWorkload)
	}
	env, err := startEnv(o)
	if err != nil {
		return nil, err
	}
	defer env.close()
	rep := newReport(o.Title, o.Workload)
	lr, err := env.measureAll(ctx, o, "", o.Load)
	if err != nil {
		return nil, err
	}
	rep.Loads = append(rep.Loads, lr)
	rep.finish(env.inProcess)
	return rep, writeReport(rep, o)
}

func newReport(title string, w *Workload) *Report {
	if title == "" {
		title = "custos bench"
	}
	return &Report{Title: title, Started: time.Now().UTC(), Source: w.Source, Workload: w.Summarize(),
		Host: Host{CPUs: runtime.NumCPU(), GoVersion: runtime.Version(), LoadAvg1: loadAverage()}}
}

// env is the servers bench started for a run and the targets it measures.
type env struct {
	targets   []Target
	children  map[string]*child
	servers   []*Server
	dir       string
	inProcess bool // the stub or bare proxy share bench's process
}

func (e *env) close() {
	for _, c := range e.children {
		_ = c.stop()
	}
	for _, s := range e.servers {
		_ = s.Close()
	}
	if e.dir != "" {
		_ = os.RemoveAll(e.dir)
	}
}

// startEnv starts the stub and the bare proxy asked for and orders the
// targets: direct, bare proxy, then the others.
func startEnv(o Options) (*env, error) {
	e := &env{children: map[string]*child{}}
	var direct *Target
	var others []Target
	for _, t := range o.Targets {
		if err := CheckTarget(t.URL, o.AllowRemote); err != nil {
			return nil, err
		}
		t.URL = trimBase(t.URL)
		if t.Name == DirectName {
			direct = &t
		} else {
			others = append(others, t)
		}
	}
	ok := false
	defer func() {
		if !ok {
			e.close()
		}
	}()
	if o.Stub {
		if direct != nil {
			return nil, fmt.Errorf("%w: --stub is the direct upstream; do not give --direct too", ErrOptions)
		}
		t, err := e.startStub(o)
		if err != nil {
			return nil, err
		}
		direct = &t
	}
	if direct != nil {
		e.targets = append(e.targets, *direct)
	}
	if o.BareProxy {
		if direct == nil {
			return nil, fmt.Errorf("%w: the bare proxy needs a direct upstream (--direct or --stub)", ErrOptions)
		}
		t, err := e.startProxy(o, direct.URL)
		if err != nil {
			return nil, err
		}
		e.targets = append(e.targets, t)
	}
	e.targets = append(e.targets, others...)
	if len(e.targets) == 0 {
		return nil, fmt.Errorf("%w: nothing to measure: give --target, --direct or --stub", ErrOptions)
	}
	ok = true
	return e, nil
}

func (e *env) tempDir() (string, error) {
	if e.dir == "" {
		d, err := os.MkdirTemp("", "custos-bench-")
		if err != nil {
			return "", err
		}
		e.dir = d
	}
	return e.dir, nil
}

func (e *env) startStub(o Options) (Target, error) {
	listen := o.StubListen
	if listen == "" {
		listen = "127.0.0.1:0"
	}
	if o.Self == "" {
		s, err := Start(listen, NewStubHandler(o.StubOptions))
		if err != nil {
			return Target{}, err
		}
		e.servers = append(e.servers, s)
		e.inProcess = true
		return Target{Name: DirectName, URL: s.URL, PID: -1}, nil
	}
	so := o.StubOptions
	args := []string{"bench", "stub", "--listen", listen, "--latency", so.Latency.String(), "--ttft", so.TTFT.String(),
		"--itl", so.ITL.String(), "--tokens", strconv.Itoa(so.Tokens)}
	c, err := e.spawn("stub", o.Self, args)
	if err != nil {
		return Target{}, err
	}
	return Target{Name: DirectName, URL: c.URL, PID: c.pid(), idleRSS: c.idleRSS}, nil
}

func (e *env) startProxy(o Options, upstream string) (Target, error) {
	if o.Self == "" {
		h, err := NewBareProxy(upstream)
		if err != nil {
			return Target{}, err
		}
		s, err := Start("127.0.0.1:0", h)
		if err != nil {
			return Target{}, err
		}
		e.servers = append(e.servers, s)
		e.inProcess = true
		return Target{Name: BareProxyName, URL: s.URL, PID: -1}, nil
	}
	c, err := e.spawn("bare proxy", o.Self, []string{"bench", "proxy", "--upstream", upstream, "--listen", "127.0.0.1:0"})
	if err != nil {
		return Target{}, err
	}
	return Target{Name: BareProxyName, URL: c.URL, PID: c.pid(), idleRSS: c.idleRSS}, nil
}

func (e *env) spawn(name, self string, args []string) (*child, error) {
	dir, err := e.tempDir()
	if err != nil {
		return nil, err
	}
	c, err := spawn(name, self, args, filepath.Join(dir, fmt.Sprintf("%s.log", sanitizeName(name))))
	if err != nil {
		return nil, err
	}
	e.children[name] = c
	return c, nil
}

func sanitizeName(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			b[i] = '-'
		}
	}
	return string(b)
}

// measureAll runs the load against every target in turn.
func (e *env) measureAll(ctx context.Context, o Options, name string, l Load) (LoadResult, error) {
	mode := "closed loop"
	if l.RPS > 0 {
		mode = "open loop"
	}
	if name == "" {
		name = l.Label()
	}
	lr := LoadResult{Name: name, Mode: mode, Load: specOf(l)}
	rounds := max(1, o.Rounds)
	byTarget := make([][]Result, len(e.targets))
	for round := range rounds {
		label := name
		if rounds > 1 {
			label = fmt.Sprintf("%s, round %d/%d", name, round+1, rounds)
		}
		for i, t := range e.targets {
			r, err := measure(ctx, t, o.Workload, l, progressFor(o.Progress, label, t.Name))
			if err != nil {
				return lr, err
			}
			for _, c := range e.children {
				if err := c.alive(); err != nil {
					return lr, err
				}
			}
			byTarget[i] = append(byTarget[i], r)
		}
	}
	for _, rs := range byTarget {
		lr.Results = append(lr.Results, medianRound(rs))
	}
	compare(lr.Results)
	return lr, nil
}

// medianRound is the round of median requests/s (the lower of the middle
// two for an even count), whole: its latency, CPU and memory are the ones
// measured with that throughput. With more than one round it lists every
// round's requests/s, in the order measured.
func medianRound(rs []Result) Result {
	if len(rs) == 1 {
		return rs[0]
	}
	sorted := slices.Clone(rs)
	slices.SortStableFunc(sorted, func(a, b Result) int { return cmp.Compare(a.RPS, b.RPS) })
	r := sorted[(len(rs)-1)/2]
	r.RoundsRPS = make([]float64, len(rs))
	for i := range rs {
		r.RoundsRPS[i] = rs[i].RPS
	}
	for i := range rs {
		if rs[i].Steal == nil {
			r.RoundsSteal = nil // every round's, or none: a list with gaps would be read as complete
			return r
		}
		r.RoundsSteal = append(r.RoundsSteal, *rs[i].Steal)
	}
	return r
}

// targetPID is the process to account for t: the one given, or the one
// listening on its loopback port; 0 when there is none to read.
func targetPID(t Target) (int, string) {
	switch {
	case t.PID > 0:
		return t.PID, ""
	case t.PID < 0:
		return 0, "runs inside bench's process"
	}
	u, err := url.Parse(t.URL)
	if err != nil || !isLoopbackHost(u.Hostname()) {
		return 0, "not on this machine"
	}
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	p, _ := strconv.Atoi(port)
	pid, err := findListener("/proc", p)
	if err != nil || pid == os.Getpid() {
		return 0, "listening process not readable"
	}
	return pid, ""
}

func loadAverage() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	var v float64
	_, _ = fmt.Sscan(string(b), &v)
	return v
}
