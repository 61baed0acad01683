package bench

import (
	"context"
	"os"
	"time"
)

// measure warms t up, then runs the measured phase, reading the CPU and
// memory of t's process and of bench's own before and after.
func measure(ctx context.Context, t Target, w *Workload, l Load, pr *progress) (Result, error) {
	c, err := newClient(ctx, t, w, l)
	if err != nil {
		return Result{}, err
	}
	defer c.close()
	if l.Warmup > 0 {
		pr.start("warm-up", l.Warmup, 0)
		runPhase(ctx, c, l, l.Warmup, 0, pr.counters())
		pr.stop()
	}
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	pid, note := targetPID(t)
	self := os.Getpid()
	srvBefore, srvErr := readProc("/proc", pid)
	benchBefore, _ := readProc("/proc", self)
	hostBefore, _ := readHostCPU("/proc")
	begin := time.Now()
	pr.start("measuring", l.Duration, l.Requests)
	tl := runPhase(ctx, c, l, l.Duration, l.Requests, pr.counters())
	pr.stop()
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	end := tl.last
	if end.IsZero() {
		end = time.Now()
	}
	wall := end.Sub(begin)
	r := resultOf(t, tl, wall)
	if hostAfter, err := readHostCPU("/proc"); err == nil {
		r.Steal = stealShare(hostBefore, hostAfter)
	}
	if pid > 0 && srvErr == nil {
		after, err := readProc("/proc", pid)
		if err == nil {
			r.Server = usageOf(pid, srvBefore, after, r.Requests, wall)
			r.Server.IdleRSSBytes = t.idleRSS
		}
	} else if note != "" {
		r.Server = &Usage{Note: note}
	}
	if after, err := readProc("/proc", self); err == nil && benchBefore.readable {
		r.Bench = usageOf(0, benchBefore, after, r.Requests, wall)
	}
	return r, nil
}

func resultOf(t Target, tl *tally, wall time.Duration) Result {
	r := Result{Target: t.Name, URL: t.URL, OK: tl.ok, Requests: int64(tl.latency.Count()),
		Seconds: wall.Seconds(), Latency: quantilesOf(tl.latency), TTFT: quantilesOf(tl.ttft),
		ScheduleLag: quantilesOf(tl.lag), Curve: curveOf(tl.latency), Histogram: tl.latency.Buckets()}
	if len(tl.errors) > 0 {
		r.Errors = tl.errors
	}
	if wall > 0 {
		r.RPS = float64(r.Requests) / wall.Seconds()
	}
	return r
}

func usageOf(pid int, before, after procSample, requests int64, wall time.Duration) *Usage {
	u := &Usage{PID: pid, PeakRSSBytes: after.peakRSS, RSSBytes: after.rss}
	cpu := after.cpu - before.cpu
	if requests > 0 {
		u.CPUPerRequestUS = float64(cpu) / float64(time.Microsecond) / float64(requests)
	}
	if wall > 0 {
		u.CPUCores = cpu.Seconds() / wall.Seconds()
	}
	return u
}

// compare fills the figures relative to the direct target and the bare proxy.
func compare(rs []Result) {
	var direct, bare *Result
	for i := range rs {
		switch rs[i].Target {
		case DirectName:
			direct = &rs[i]
		case BareProxyName:
			bare = &rs[i]
		}
	}
	for i := range rs {
		r := &rs[i]
		if direct != nil && r != direct && r.Latency != nil && direct.Latency != nil {
			v := r.Latency.P50 - direct.Latency.P50
			r.AddedP50MS = &v
		}
	}
	if bare == nil {
		return
	}
	for i := range rs {
		r := &rs[i]
		if r == bare || r == direct {
			continue
		}
		v := &Ratios{}
		if r.AddedP50MS != nil && bare.AddedP50MS != nil {
			v.AddedP50 = ratio(*r.AddedP50MS, *bare.AddedP50MS)
		}
		v.RPS = ratio(r.RPS, bare.RPS)
		if r.Server != nil && bare.Server != nil && r.Server.PID > 0 && bare.Server.PID > 0 {
			v.CPU = ratio(r.Server.CPUPerRequestUS, bare.Server.CPUPerRequestUS)
			v.PeakRSS = ratio(float64(r.Server.PeakRSSBytes), float64(bare.Server.PeakRSSBytes))
			if r.Server.IdleRSSBytes > 0 && bare.Server.IdleRSSBytes > 0 {
				v.PeakAboveIdle = ratio(float64(r.Server.PeakRSSBytes-r.Server.IdleRSSBytes),
					float64(bare.Server.PeakRSSBytes-bare.Server.IdleRSSBytes))
			}
		}
		r.VsBare = v
	}
}

// ratio is a/b, or nil when b is not positive.
func ratio(a, b float64) *float64 {
	if b <= 0 {
		return nil
	}
	v := a / b
	return &v
}
