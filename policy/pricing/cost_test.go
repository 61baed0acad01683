package pricing_test

import (
	"errors"
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/custos-gateway/custos/policy/pricing"
)

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestCost(t *testing.T) {
	tbl := load(t)
	eu := "eu"
	for _, tc := range []struct {
		name, model, endpoint, start string
		u                            pricing.Usage
		amount                       int64
		currency, version            string
		err                          error
	}{
		{"exact", "big", "", "2025-01-10T12:00:00Z", pricing.Usage{Input: 1000, Output: 500}, 10000 + 20000, "USD", "t1:big:2025-01-01T00:00:00Z", nil},
		{"one token rounds up", "big", "", "2025-06-10T00:00:00Z", pricing.Usage{Input: 1}, 2, "USD", "t1:big:2025-06-10T00:00:00Z", nil},
		// 1 × 2.5 + 1 × 1.25 = 3.75 → 4, rounded once per request (rounding each class would give 3 + 2 = 5)
		{"rounded once per request", "big", "", "2025-04-01T00:00:00Z", pricing.Usage{Input: 1, CachedInput: 1}, 4 + 7, "USD", "t1:big:2025-04-01T00:00:00Z", nil},
		{"classes priced apart", "big", "", "2025-04-01T00:00:00Z",
			pricing.Usage{Input: 1000, CachedInput: 1000, CacheWrite: 1000, Output: 1000, Reasoning: 1000},
			2500 + 1250 + 3125 + 10000 + 12000 + 7, "USD", "t1:big:2025-04-01T00:00:00Z", nil},
		{"switch: the last instant before", "big", "", "2025-06-09T23:59:59.999999999Z", pricing.Usage{Output: 1_000_000}, 10000000 + 7, "USD", "t1:big:2025-04-01T00:00:00Z", nil},
		{"switch: at 00:00 UTC", "big", "", "2025-06-10T00:00:00Z", pricing.Usage{Output: 1_000_000}, 8000000, "USD", "t1:big:2025-06-10T00:00:00Z", nil},
		{"switch: another zone, same instant", "big", "", "2025-06-10T02:00:00+02:00", pricing.Usage{Output: 1_000_000}, 8000000, "USD", "t1:big:2025-06-10T00:00:00Z", nil},
		{"long prompt at the threshold", "big", "", "2025-05-02T00:00:00Z", pricing.Usage{Input: 150000, CachedInput: 50000, Output: 1000},
			375000 + 62500 + 10000 + 7, "USD", "t1:big:2025-04-01T00:00:00Z", nil},
		{"long prompt above the threshold", "big", "", "2025-05-02T00:00:00Z", pricing.Usage{Input: 150000, CacheWrite: 50001, Output: 1000},
			750000 + 156254 + 15000 + 7, "USD", "t1:big:2025-04-01T00:00:00Z", nil},
		{"alias", "big-2025", "", "2025-06-11T00:00:00Z", pricing.Usage{Input: 1_000_000}, 2000000, "USD", "t1:big:2025-06-10T00:00:00Z", nil},
		{"endpoint row", "big", eu, "2025-05-15T00:00:00Z", pricing.Usage{Input: 1_000_000}, 3000000, "EUR", "t1:big@eu:2025-05-01T00:00:00Z", nil},
		{"endpoint row over: model's row", "big", eu, "2025-07-01T00:00:00Z", pricing.Usage{Input: 1_000_000}, 2000000, "USD", "t1:big:2025-06-10T00:00:00Z", nil},
		{"endpoint row not yet: model's row", "big", eu, "2025-04-15T00:00:00Z", pricing.Usage{Input: 100}, 250 + 7, "USD", "t1:big:2025-04-01T00:00:00Z", nil},
		{"unknown endpoint: model's row", "big", "us", "2025-05-15T00:00:00Z", pricing.Usage{Input: 100}, 250 + 7, "USD", "t1:big:2025-04-01T00:00:00Z", nil},
		{"embedding", "embed", "", "2025-01-01T00:00:00Z", pricing.Usage{Input: 3}, 1, "USD", "t1:embed:2024-01-01T00:00:00Z", nil},
		{"zero usage costs the fee", "big", "", "2025-04-02T00:00:00Z", pricing.Usage{}, 7, "USD", "t1:big:2025-04-01T00:00:00Z", nil},
		{"unknown model", "nope", "", "2025-05-01T00:00:00Z", pricing.Usage{Input: 1}, 0, "", "", pricing.ErrNoPrice},
		{"before the first row", "big", "", "2024-12-31T23:59:59Z", pricing.Usage{Input: 1}, 0, "", "", pricing.ErrNoPrice},
		{"in a gap between rows", "big", "", "2025-03-15T00:00:00Z", pricing.Usage{Input: 1}, 0, "", "", pricing.ErrNoPrice},
		{"negative count", "big", "", "2025-05-01T00:00:00Z", pricing.Usage{Output: -1}, 0, "", "", pricing.ErrUsage},
		{"overflow", "big", "", "2025-05-01T00:00:00Z", pricing.Usage{Input: math.MaxInt64, Output: math.MaxInt64}, 0, "", "", pricing.ErrOverflow},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := tbl.Cost(tc.u, tc.model, tc.endpoint, at(tc.start))
			if !errors.Is(err, tc.err) || (tc.err == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			want := pricing.Cost{Amount: tc.amount, Currency: tc.currency, PriceVersion: tc.version}
			if c != want {
				t.Errorf("Cost = %+v, want %+v", c, want)
			}
		})
	}
}

func TestNilTableHasNoPrices(t *testing.T) {
	var tbl *pricing.Table
	if _, err := tbl.Cost(pricing.Usage{Input: 1}, "echo", "", time.Now()); !errors.Is(err, pricing.ErrNoPrice) {
		t.Errorf("nil table: %v", err)
	}
	if _, err := tbl.MaxCost(pricing.Request{PromptTokens: 1}, "echo", "", time.Now()); !errors.Is(err, pricing.ErrNoPrice) {
		t.Errorf("nil table: %v", err)
	}
	if tbl.Version() != "" || tbl.Models() != nil {
		t.Error("nil table has a version or models")
	}
}

func TestMaxCost(t *testing.T) {
	tbl := load(t)
	start := at("2025-04-02T00:00:00Z") // row: input 2.5, cache write 3.125, output 10, reasoning 12, fee 7
	for _, tc := range []struct {
		name   string
		r      pricing.Request
		amount int64
		err    error
	}{
		{"max_tokens, one choice", pricing.Request{PromptTokens: 1000, MaxTokens: 100}, 3125 + 1200 + 7, nil},
		{"n choices multiply the output only", pricing.Request{PromptTokens: 1000, MaxTokens: 100, N: 3}, 3125 + 3600 + 7, nil},
		{"no max_tokens: the model's cap", pricing.Request{PromptTokens: 1000}, 3125 + 12000 + 7, nil},
		{"long prompt tier", pricing.Request{PromptTokens: 200001, MaxTokens: 10}, 1000005 + 150 + 7, nil},
		{"negative prompt", pricing.Request{PromptTokens: -1}, 0, pricing.ErrUsage},
		{"overflowing choices", pricing.Request{MaxTokens: math.MaxInt64, N: 2}, 0, pricing.ErrOverflow},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := tbl.MaxCost(tc.r, "big", "", start)
			if !errors.Is(err, tc.err) || (tc.err == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if c.Amount != tc.amount {
				t.Errorf("MaxCost = %d, want %d", c.Amount, tc.amount)
			}
		})
	}
	// The maximum bounds every usage it allows.
	p, _ := tbl.Lookup("big", "", start)
	maxC, _ := p.MaxCost(pricing.Request{PromptTokens: 5000, MaxTokens: 300, N: 2})
	for _, u := range []pricing.Usage{{Input: 5000, Output: 600}, {CacheWrite: 5000, Reasoning: 600},
		{CachedInput: 4000, Input: 1000, Output: 300, Reasoning: 300}} {
		if c, _ := p.Cost(u); c.Amount > maxC.Amount {
			t.Errorf("usage %+v costs %d, above the maximum %d", u, c.Amount, maxC.Amount)
		}
	}
}

// The rounding rule against exact rational arithmetic: the amount is the
// smallest whole micro-unit at or above the exact cost, plus the fee.
func TestCostIsExactRoundedUp(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		rates := pricing.Rates{Input: rng.Int64N(pricing.MaxRate), CachedInput: rng.Int64N(1e7), CacheWrite: rng.Int64N(1e9),
			Output: rng.Int64N(1e8), Reasoning: rng.Int64N(3)}
		p := pricing.Price{Rates: rates, RequestFee: rng.Int64N(100), Currency: "USD"}
		u := pricing.Usage{Input: rng.Int64N(1e6), CachedInput: rng.Int64N(1e9), CacheWrite: rng.Int64N(50),
			Output: rng.Int64N(1e5), Reasoning: rng.Int64N(1e7)}
		c, err := p.Cost(u)
		if err != nil {
			t.Fatal(err)
		}
		exact := new(big.Int)
		for _, pr := range [][2]int64{{u.Input, rates.Input}, {u.CachedInput, rates.CachedInput},
			{u.CacheWrite, rates.CacheWrite}, {u.Output, rates.Output}, {u.Reasoning, rates.Reasoning}} {
			exact.Add(exact, new(big.Int).Mul(big.NewInt(pr[0]), big.NewInt(pr[1])))
		}
		q, r := new(big.Int).QuoRem(exact, big.NewInt(pricing.PerMillion), new(big.Int))
		if r.Sign() > 0 {
			q.Add(q, big.NewInt(1))
		}
		q.Add(q, big.NewInt(p.RequestFee))
		if !q.IsInt64() || q.Int64() != c.Amount {
			t.Fatalf("usage %+v rates %+v: got %d, exact rounded up %s", u, rates, c.Amount, q)
		}
	}
}

func TestProviderUsage(t *testing.T) {
	for _, tc := range []struct {
		name string
		got  pricing.Usage
		want pricing.Usage
	}{
		{"openai", pricing.OpenAIUsage(1000, 600, 300, 200), pricing.Usage{Input: 400, CachedInput: 600, Output: 100, Reasoning: 200}},
		{"openai inconsistent", pricing.OpenAIUsage(10, 20, 5, 9), pricing.Usage{Input: 0, CachedInput: 20, Output: 0, Reasoning: 9}},
		{"anthropic", pricing.AnthropicUsage(50, 1000, 200, 80), pricing.Usage{Input: 50, CachedInput: 1000, CacheWrite: 200, Output: 80}},
		{"gemini", pricing.GeminiUsage(1000, 400, 70, 30), pricing.Usage{Input: 600, CachedInput: 400, Output: 70, Reasoning: 30}},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: %+v, want %+v", tc.name, tc.got, tc.want)
		}
	}
}

func BenchmarkCost(b *testing.B) {
	tbl := load(b)
	start := at("2025-05-02T00:00:00Z")
	u := pricing.Usage{Input: 1200, CachedInput: 800, Output: 350, Reasoning: 120}
	b.Run("table", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := tbl.Cost(u, "big", "eu", start); err != nil {
				b.Fatal(err)
			}
		}
	})
	// Baseline: one map lookup and a naive int64 multiply-add, no rows.
	naive := map[string][2]int64{"big": {2500000, 10000000}}
	var sink int64
	b.Run("baseline-map", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			r := naive["big"]
			sink += (u.Input*r[0] + u.Output*r[1] + pricing.PerMillion - 1) / pricing.PerMillion
		}
	})
	_ = sink
}
