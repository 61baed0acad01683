package bench

import (
	"fmt"
	"strconv"
)

func fmtMS(v float64) string {
	switch {
	case v < 1:
		return fmt.Sprintf("%.3f ms", v)
	case v < 10:
		return fmt.Sprintf("%.2f ms", v)
	}
	return fmt.Sprintf("%.1f ms", v)
}

func fmtSignedMS(v float64) string {
	if v >= 0 {
		return "+" + fmtMS(v)
	}
	return "-" + fmtMS(-v)
}

func fmtUS(v float64) string {
	if v < 10 {
		return fmt.Sprintf("%.1f µs", v)
	}
	return fmt.Sprintf("%s µs", groupThousands(int64(v+0.5)))
}

func fmtMB(b int64) string { return fmt.Sprintf("%.1f MB", float64(b)/(1<<20)) }

func fmtRatio(v *float64) string {
	if v == nil {
		return ""
	}
	return fmt.Sprintf("%.2f×", *v)
}

func groupThousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := n < 0
	if neg {
		s = s[1:]
	}
	out := ""
	for len(s) > 3 {
		out = "," + s[len(s)-3:] + out
		s = s[:len(s)-3]
	}
	out = s + out
	if neg {
		out = "-" + out
	}
	return out
}

func fmtRPS(v float64) string { return groupThousands(int64(v + 0.5)) }

// metric is one row of a load's table.
type metric struct {
	name  string
	value func(Result) string
}

func q(get func(*Quantiles) float64, pick func(Result) *Quantiles) func(Result) string {
	return func(r Result) string {
		if v := pick(r); v != nil {
			return fmtMS(get(v))
		}
		return ""
	}
}

func lat(r Result) *Quantiles  { return r.Latency }
func ttft(r Result) *Quantiles { return r.TTFT }

var loadMetrics = []metric{
	{"requests", func(r Result) string { return groupThousands(r.Requests) }},
	{"requests/s", func(r Result) string { return fmtRPS(r.RPS) }},
	{"errors", func(r Result) string { return groupThousands(r.Requests - r.OK) }},
	{"latency p50", q(func(v *Quantiles) float64 { return v.P50 }, lat)},
	{"latency p90", q(func(v *Quantiles) float64 { return v.P90 }, lat)},
	{"latency p99", q(func(v *Quantiles) float64 { return v.P99 }, lat)},
	{"latency p99.9", q(func(v *Quantiles) float64 { return v.P999 }, lat)},
	{"latency max", q(func(v *Quantiles) float64 { return v.Max }, lat)},
	{"first token p50", q(func(v *Quantiles) float64 { return v.P50 }, ttft)},
	{"first token p99", q(func(v *Quantiles) float64 { return v.P99 }, ttft)},
	{"bench send lag p99", q(func(v *Quantiles) float64 { return v.P99 }, func(r Result) *Quantiles { return r.ScheduleLag })},
	{"added p50", func(r Result) string {
		if r.AddedP50MS == nil {
			return ""
		}
		return fmtSignedMS(*r.AddedP50MS)
	}},
	{"server CPU/request", func(r Result) string {
		if r.Server == nil || r.Server.PID == 0 {
			return ""
		}
		return fmtUS(r.Server.CPUPerRequestUS)
	}},
	{"server CPU cores", func(r Result) string {
		if r.Server == nil || r.Server.PID == 0 {
			return ""
		}
		return fmt.Sprintf("%.2f", r.Server.CPUCores)
	}},
	{"server peak RSS", func(r Result) string {
		if r.Server == nil || r.Server.PID == 0 {
			return ""
		}
		return fmtMB(r.Server.PeakRSSBytes)
	}},
	{"server idle RSS", func(r Result) string {
		if r.Server == nil || r.Server.IdleRSSBytes == 0 {
			return ""
		}
		return fmtMB(r.Server.IdleRSSBytes)
	}},
	{"server", func(r Result) string {
		if r.Server == nil || r.Server.PID != 0 {
			return ""
		}
		return r.Server.Note
	}},
	{"bench CPU/request", func(r Result) string {
		if r.Bench == nil {
			return ""
		}
		return fmtUS(r.Bench.CPUPerRequestUS)
	}},
	{"÷ bare: added p50", func(r Result) string { return ratioOf(r, func(v *Ratios) *float64 { return v.AddedP50 }) }},
	{"÷ bare: requests/s", func(r Result) string { return ratioOf(r, func(v *Ratios) *float64 { return v.RPS }) }},
	{"÷ bare: CPU/request", func(r Result) string { return ratioOf(r, func(v *Ratios) *float64 { return v.CPU }) }},
	{"÷ bare: peak RSS", func(r Result) string { return ratioOf(r, func(v *Ratios) *float64 { return v.PeakRSS }) }},
	{"÷ bare: RSS above idle", func(r Result) string { return ratioOf(r, func(v *Ratios) *float64 { return v.PeakAboveIdle }) }},
}

func ratioOf(r Result, f func(*Ratios) *float64) string {
	if r.VsBare == nil {
		return ""
	}
	return fmtRatio(f(r.VsBare))
}
