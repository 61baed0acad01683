package bench

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// TestHistogramQuantiles compares the histogram with exact quantiles of the
// same samples: within 0.4% (its bucket precision) for every shape.
func TestHistogramQuantiles(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	for _, tc := range []struct {
		name string
		gen  func() time.Duration
	}{
		{"constant", func() time.Duration { return 1234567 }},
		{"uniform µs to ms", func() time.Duration { return time.Duration(1000 + rng.IntN(5_000_000)) }},
		{"long tail", func() time.Duration { return time.Duration(50_000 * (1 + rng.ExpFloat64()*rng.ExpFloat64()*20)) }},
		{"tiny", func() time.Duration { return time.Duration(rng.IntN(300)) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHistogram()
			var all []time.Duration
			for range 20000 {
				d := tc.gen()
				h.Record(d)
				all = append(all, d)
			}
			slices.Sort(all)
			for _, q := range []float64{0, 0.5, 0.9, 0.99, 0.999, 1} {
				idx := max(0, int(float64(len(all))*q+0.999999)-1)
				want := all[idx]
				got := h.Quantile(q)
				if diff := float64(got-want) / float64(max(want, 1)); diff > 0.004 || diff < -0.004 {
					if got-want > 1 || want-got > 1 {
						t.Errorf("q=%v: got %v, want %v (%.2f%% off)", q, got, want, diff*100)
					}
				}
			}
		})
	}
}

func TestHistogramMergeAndEmpty(t *testing.T) {
	a, b := newHistogram(), newHistogram()
	if a.Quantile(0.5) != 0 || a.Mean() != 0 {
		t.Fatalf("empty histogram: p50 %v mean %v, want 0", a.Quantile(0.5), a.Mean())
	}
	for i := range 100 {
		a.Record(time.Duration(i) * time.Millisecond)
		b.Record(time.Duration(100+i) * time.Millisecond)
	}
	a.Merge(b)
	var n uint64
	prev := -1.0
	for _, b := range a.Buckets() {
		if b.US <= prev {
			t.Fatalf("buckets not increasing at %v", b.US)
		}
		prev = b.US
		n += b.N
	}
	if n != 200 {
		t.Errorf("buckets hold %d samples, want 200", n)
	}
	if a.Count() != 200 {
		t.Fatalf("count %d, want 200", a.Count())
	}
	if got := a.Quantile(1); got != 199*time.Millisecond {
		t.Errorf("max %v, want 199ms", got)
	}
	if got := a.Quantile(0); got != 0 {
		t.Errorf("min %v, want 0", got)
	}
	if got := a.Mean(); got < 99*time.Millisecond || got > 100*time.Millisecond {
		t.Errorf("mean %v, want 99.5ms", got)
	}
}
