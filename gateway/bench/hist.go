package bench

import (
	"math"
	"math/bits"
	"time"
)

// Histogram buckets durations in nanoseconds, log-linearly: exact below 256 ns,
// then 128 buckets per power of two, so any quantile it reports is within
// 0.4% of a recorded value. Its size is fixed (about 60 KB) whatever the
// number of samples. The zero value is not usable; use newHistogram.
type Histogram struct {
	counts   []uint64
	n        uint64
	sum      float64
	min, max uint64
}

const (
	histExact = 256 // values below this get a bucket each
	histSub   = 128 // buckets per power of two above it
)

func newHistogram() *Histogram {
	return &Histogram{counts: make([]uint64, histExact+(64-8)*histSub), min: math.MaxUint64}
}

func histIndex(v uint64) int {
	if v < histExact {
		return int(v)
	}
	e := bits.Len64(v) - 8
	m := v >> e // in [128, 255]
	return histExact + (e-1)*histSub + int(m-histSub)
}

// histValue is the midpoint of bucket i.
func histValue(i int) uint64 {
	if i < histExact {
		return uint64(i)
	}
	e := (i-histExact)/histSub + 1
	m := uint64((i-histExact)%histSub + histSub)
	lo := m << e
	return lo + (uint64(1)<<e)/2
}

// Record adds one duration; negative durations count as zero.
func (h *Histogram) Record(d time.Duration) {
	v := uint64(max(d, 0))
	h.counts[histIndex(v)]++
	h.n++
	h.sum += float64(v)
	h.min = min(h.min, v)
	h.max = max(h.max, v)
}

// Merge adds every sample of o.
func (h *Histogram) Merge(o *Histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
	h.sum += o.sum
	h.min = min(h.min, o.min)
	h.max = max(h.max, o.max)
}

// Count is the number of samples recorded.
func (h *Histogram) Count() uint64 { return h.n }

// Quantile returns the smallest recorded value v (to bucket precision) such
// that at least q of the samples are ≤ v; q=1 is the exact maximum.
func (h *Histogram) Quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	if q >= 1 {
		return time.Duration(h.max)
	}
	if q <= 0 {
		return time.Duration(h.min)
	}
	rank := uint64(math.Ceil(q * float64(h.n)))
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			v := histValue(i)
			return time.Duration(min(max(v, h.min), h.max))
		}
	}
	return time.Duration(h.max)
}

// Bucket is one non-empty bucket of a histogram: N samples of about US
// microseconds (the bucket's midpoint).
type Bucket struct {
	US float64 `json:"us"`
	N  uint64  `json:"n"`
}

// Buckets lists the non-empty buckets in increasing order, so a report's
// reader can recompute any statistic, or merge runs.
func (h *Histogram) Buckets() []Bucket {
	var out []Bucket
	for i, c := range h.counts {
		if c > 0 {
			out = append(out, Bucket{US: float64(histValue(i)) / 1000, N: c})
		}
	}
	return out
}

// Mean is the exact mean of the samples.
func (h *Histogram) Mean() time.Duration {
	if h.n == 0 {
		return 0
	}
	return time.Duration(h.sum / float64(h.n))
}
