package limits

import (
	"math"
	"math/bits"
	"time"
)

// Period is the window every limit is expressed per.
const Period = time.Minute

const periodNs = uint64(Period)

// maxElapsed bounds the refill arithmetic; any bucket is full long before.
const maxElapsed = int64(1) << 50 // about 13 days, in ns

// maxDebt bounds how far a settlement above the estimate can overdraw.
const maxDebt = int64(1) << 50

// gauge is one dimension of a bucket: a token bucket holding up to limit
// units, refilled at exactly limit units per Period. level + frac/Period is
// its content; frac keeps the sub-unit remainder so that no refill is ever
// lost to rounding. level goes negative when a settlement exceeds what was
// taken (the debt is paid back by later refills).
type gauge struct {
	limit int64 // 0: unlimited
	level int64
	frac  int64 // in [0, Period) ns·units
}

func newGauge(limit int64) gauge { return gauge{limit: limit, level: limit} }

// refill adds elapsed ns worth of units.
func (g *gauge) refill(elapsed int64) {
	if g.limit == 0 || g.level >= g.limit || elapsed <= 0 {
		return
	}
	hi, lo := bits.Mul64(uint64(min(elapsed, maxElapsed)), uint64(g.limit))
	lo, carry := bits.Add64(lo, uint64(g.frac), 0)
	q, r := bits.Div64(hi+carry, lo, periodNs)
	if q >= uint64(g.limit-g.level) {
		g.level, g.frac = g.limit, 0
		return
	}
	g.level += int64(q)
	g.frac = int64(r)
}

func (g *gauge) full() bool { return g.limit == 0 || g.level >= g.limit }

// fits reports whether cost units can be taken now.
func (g *gauge) fits(cost int64) bool { return g.limit == 0 || g.level >= cost }

func (g *gauge) take(cost int64) {
	if g.limit != 0 {
		g.level = max(g.level-cost, -maxDebt)
	}
}

// give returns units (a settlement below the estimate), never above limit.
func (g *gauge) give(n int64) {
	if g.limit != 0 {
		g.level = min(g.level+n, g.limit)
		if g.level == g.limit {
			g.frac = 0
		}
	}
}

// until returns how long until the gauge holds want units (rounded up to
// the nanosecond); 0 when it already does.
func (g *gauge) until(want int64) time.Duration {
	if g.limit == 0 || g.level >= want {
		return 0
	}
	need := uint64(want - g.level) // units, > 0
	hi, lo := bits.Mul64(need, periodNs)
	lo, borrow := bits.Sub64(lo, uint64(g.frac), 0)
	hi -= borrow
	lo, carry := bits.Add64(lo, uint64(g.limit)-1, 0) // ceiling division
	hi += carry
	if hi >= uint64(g.limit) {
		return time.Duration(math.MaxInt64)
	}
	q, _ := bits.Div64(hi, lo, uint64(g.limit))
	return time.Duration(min(q, math.MaxInt64))
}

// setLimit applies a changed limit: the content is kept, capped at the new
// limit (a bucket that was unlimited starts full).
func (g *gauge) setLimit(limit int64) {
	switch {
	case limit == g.limit:
		return
	case g.limit == 0:
		*g = newGauge(limit)
	default:
		g.limit = limit
		if g.level >= limit {
			g.level, g.frac = limit, 0
		}
	}
}
