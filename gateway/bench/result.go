package bench

import (
	"time"
)

// Quantiles of a distribution, in milliseconds.
type Quantiles struct {
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	P999 float64 `json:"p99_9"`
	Max  float64 `json:"max"`
	Mean float64 `json:"mean"`
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func quantilesOf(h *Histogram) *Quantiles {
	if h.Count() == 0 {
		return nil
	}
	return &Quantiles{P50: ms(h.Quantile(0.5)), P90: ms(h.Quantile(0.9)), P99: ms(h.Quantile(0.99)),
		P999: ms(h.Quantile(0.999)), Max: ms(h.Quantile(1)), Mean: ms(h.Mean())}
}

// CurvePoint is one point of a latency distribution: the share q of requests
// that took at most MS milliseconds.
type CurvePoint struct {
	Q  float64 `json:"q"`
	MS float64 `json:"ms"`
}

var curveQuantiles = []float64{0, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.995, 0.999, 0.9995, 0.9999, 1}

func curveOf(h *Histogram) []CurvePoint {
	if h.Count() == 0 {
		return nil
	}
	out := make([]CurvePoint, 0, len(curveQuantiles))
	for _, q := range curveQuantiles {
		out = append(out, CurvePoint{Q: q, MS: ms(h.Quantile(q))})
	}
	return out
}

// Usage is one process's accounting over the measured phase.
type Usage struct {
	PID int `json:"pid,omitempty"`
	// CPUPerRequestUS is user + system CPU time over the phase divided by
	// the requests completed, in microseconds (10 ms clock ticks: longer
	// phases are more precise).
	CPUPerRequestUS float64 `json:"cpu_per_request_us"`
	// CPUCores is that CPU time divided by the phase's wall time.
	CPUCores float64 `json:"cpu_cores"`
	// PeakRSSBytes is the process's resident peak (VmHWM) over its whole
	// life; RSSBytes its resident size at the end of the phase.
	PeakRSSBytes int64 `json:"peak_rss_bytes"`
	RSSBytes     int64 `json:"rss_bytes"`
	// IdleRSSBytes is the resident size of a process bench started, once
	// it listened and before any load.
	IdleRSSBytes int64  `json:"idle_rss_bytes,omitempty"`
	Note         string `json:"note,omitempty"`
}

// Result is one target under one load.
type Result struct {
	Target   string           `json:"target"`
	URL      string           `json:"url"`
	Requests int64            `json:"requests"` // completed in the measured phase, errors included
	OK       int64            `json:"ok"`
	Errors   map[string]int64 `json:"errors,omitempty"`
	Seconds  float64          `json:"seconds"`
	RPS      float64          `json:"rps"`
	Latency  *Quantiles       `json:"latency_ms,omitempty"`
	// TTFT is the time to the first SSE data event of streamed successes.
	TTFT *Quantiles `json:"ttft_ms,omitempty"`
	// ScheduleLag (open loop) is how late bench itself sent requests.
	ScheduleLag *Quantiles   `json:"schedule_lag_ms,omitempty"`
	Curve       []CurvePoint `json:"latency_curve_ms,omitempty"`
	// Histogram is every latency sample, bucketed (0.4% precision).
	Histogram []Bucket `json:"latency_histogram,omitempty"`
	// Server is the target's process, when it runs on this machine.
	Server *Usage `json:"server,omitempty"`
	// Bench is bench's own process: the load generator's overhead.
	Bench *Usage `json:"bench,omitempty"`
	// AddedP50MS is this target's p50 minus the direct target's.
	AddedP50MS *float64 `json:"added_p50_ms,omitempty"`
	// VsBare compares this target with the bare proxy under the same load.
	VsBare *Ratios `json:"vs_bare_proxy,omitempty"`
	// RoundsRPS, when the load was measured in rounds, is every round's
	// requests/s in the order measured; the figures above are the median
	// round's.
	RoundsRPS []float64 `json:"rounds_rps,omitempty"`
	// Steal is the share of the machine's CPU time the hypervisor gave to
	// other guests during the measured phase (steal in /proc/stat); a phase
	// with steal measured a slower machine than the others.
	Steal *float64 `json:"host_steal_share,omitempty"`
	// RoundsSteal is every round's Steal, in the order measured, when each
	// was read.
	RoundsSteal []float64 `json:"rounds_host_steal_share,omitempty"`
}

// Ratios are a target's figures divided by the bare proxy's.
type Ratios struct {
	AddedP50 *float64 `json:"added_p50,omitempty"`
	RPS      *float64 `json:"rps,omitempty"`
	CPU      *float64 `json:"cpu_per_request,omitempty"`
	PeakRSS  *float64 `json:"peak_rss,omitempty"`
	// PeakAboveIdle compares peak RSS minus idle RSS, for processes bench
	// started: what the load itself made resident.
	PeakAboveIdle *float64 `json:"peak_rss_above_idle,omitempty"`
}

// LoadResult is every target under one load.
type LoadResult struct {
	Name    string   `json:"name"` // e.g. "plain, c=64"
	Mode    string   `json:"mode"` // closed or open loop
	Load    LoadSpec `json:"load"`
	Results []Result `json:"results"`
}

// LoadSpec is Load as reported.
type LoadSpec struct {
	Connections   int     `json:"connections"`
	RPS           float64 `json:"target_rps,omitempty"`
	Seconds       float64 `json:"seconds,omitempty"`
	Requests      int     `json:"requests,omitempty"`
	WarmupSeconds float64 `json:"warmup_seconds"`
}

func specOf(l Load) LoadSpec {
	return LoadSpec{Connections: l.Connections, RPS: l.RPS, Seconds: l.Duration.Seconds(), Requests: l.Requests,
		WarmupSeconds: l.Warmup.Seconds()}
}

// Report is a whole run.
type Report struct {
	Title    string       `json:"title"`
	Started  time.Time    `json:"started"`
	Host     Host         `json:"host"`
	Workload Summary      `json:"workload"`
	Source   string       `json:"workload_source"`
	Loads    []LoadResult `json:"loads"`
	Notes    []string     `json:"notes,omitempty"`
}

// Host describes the machine the run happened on.
type Host struct {
	CPUs        int     `json:"cpus"`
	GoVersion   string  `json:"go"`
	LoadAvg1    float64 `json:"load_average_1m"`
	FsyncP50US  float64 `json:"fsync_p50_us,omitempty"`
	CommitP50US float64 `json:"bbolt_commit_p50_us,omitempty"`
}
