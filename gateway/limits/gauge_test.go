package limits

import (
	"math/big"
	"math/rand/v2"
	"testing"
	"time"
)

// The gauge against an exact rational token bucket: after any sequence of
// refills, takes, gives and debts, its content is the model's, and its
// wait times are the model's rounded up to the nanosecond.
func TestGaugeMatchesExactModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	p := big.NewRat(int64(Period), 1)
	for _, limit := range []int64{1, 7, 60, 999_983, 150_000_000, MaxLimit} {
		g := newGauge(limit)
		model := big.NewRat(limit, 1)
		lim := big.NewRat(limit, 1)
		for step := range 3000 {
			n := rng.Int64N(limit + 1)
			switch rng.IntN(4) {
			case 0: // time passes
				e := rng.Int64N(int64(3 * time.Second))
				g.refill(e)
				model.Add(model, new(big.Rat).Quo(new(big.Rat).Mul(big.NewRat(e, 1), lim), p))
				if model.Cmp(lim) > 0 {
					model.Set(lim)
				}
			case 1:
				if g.fits(n) {
					g.take(n)
					model.Sub(model, big.NewRat(n, 1))
				}
			case 2: // a settlement above the estimate
				g.take(n / 3)
				model.Sub(model, big.NewRat(n/3, 1))
			case 3: // a settlement below the estimate
				g.give(n)
				model.Add(model, big.NewRat(n, 1))
				if model.Cmp(lim) > 0 {
					model.Set(lim)
				}
			}
			got := new(big.Rat).Add(big.NewRat(g.level, 1), new(big.Rat).Quo(big.NewRat(g.frac, 1), p))
			if got.Cmp(model) != 0 || g.frac < 0 || g.frac >= int64(Period) {
				t.Fatalf("limit %d step %d: gauge %d+%d/P, model %s", limit, step, g.level, g.frac, model.FloatString(12))
			}
			want := rng.Int64N(limit + 1)
			wait := new(big.Rat).Quo(new(big.Rat).Mul(new(big.Rat).Sub(big.NewRat(want, 1), model), p), lim)
			if wait.Sign() < 0 {
				wait.SetInt64(0)
			}
			ceil := new(big.Int).Quo(new(big.Int).Add(wait.Num(), new(big.Int).Sub(wait.Denom(), big.NewInt(1))), wait.Denom())
			if got := g.until(want); ceil.Int64() != int64(got) {
				t.Fatalf("limit %d step %d: until(%d) = %d, model %s", limit, step, want, got, ceil)
			}
		}
	}
}
