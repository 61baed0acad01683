package pricing

import (
	"fmt"
	"math"
	"math/bits"
	"time"
)

// Usage is a request's token counts, each class counted once: Input holds
// only the uncached, non-cache-write input tokens and Output only the
// non-reasoning output tokens. Use the provider helpers (OpenAIUsage,
// AnthropicUsage, GeminiUsage) to split a provider's own usage object.
type Usage struct {
	Input       int64
	CachedInput int64
	CacheWrite  int64
	Output      int64
	Reasoning   int64
}

// InputTotal is every input token of the request, cached or not.
func (u Usage) InputTotal() int64 { return u.Input + u.CachedInput + u.CacheWrite }

// Cost is what one request costs.
type Cost struct {
	Amount       int64  // micro-units of Currency, rounded up (see Price.Cost)
	Currency     string // ISO 4217
	PriceVersion string // the price row used (Price.Version)
}

// Cost prices a request for model on endpoint that started at start.
func (t *Table) Cost(u Usage, modelName, endpoint string, start time.Time) (Cost, error) {
	p, err := t.Lookup(modelName, endpoint, start)
	if err != nil {
		return Cost{}, err
	}
	return p.Cost(u)
}

// Cost prices usage at this row. Rounding: the exact cost, the sum over
// token classes of tokens × rate / 1,000,000, is computed in 128-bit
// integers and rounded UP to the next whole micro-unit once per request
// (never per token class), then the request fee is added. A request is
// therefore never charged less than its exact price, and at most one
// micro-unit more.
func (p *Price) Cost(u Usage) (Cost, error) {
	if u.Input < 0 || u.CachedInput < 0 || u.CacheWrite < 0 || u.Output < 0 || u.Reasoning < 0 {
		return Cost{}, fmt.Errorf("%w: negative token count", ErrUsage)
	}
	r := p.ratesFor(u.InputTotal())
	var acc acc128
	acc.add(u.Input, r.Input)
	acc.add(u.CachedInput, r.CachedInput)
	acc.add(u.CacheWrite, r.CacheWrite)
	acc.add(u.Output, r.Output)
	acc.add(u.Reasoning, r.Reasoning)
	return p.finish(acc)
}

// Request is what is known of a request before it is forwarded.
type Request struct {
	PromptTokens int64 // estimated input tokens
	MaxTokens    int64 // the caller's max_tokens / max_completion_tokens; <= 0: the model's cap
	N            int64 // choices; <= 0 means 1
}

// MaxCost is the most a request can cost, for a reservation: prompt tokens
// at the higher of the input and cache-write rates (a provider may write
// the whole prompt to its cache), plus N × the output allowance (MaxTokens,
// or the model's max_output_tokens) at the higher of the output and
// reasoning rates, plus the request fee; the prompt is billed once however
// many choices are asked for. The long-prompt tier applies when
// PromptTokens exceeds its threshold, so PromptTokens should not be an
// underestimate. Rounded up like Cost.
func (t *Table) MaxCost(r Request, modelName, endpoint string, start time.Time) (Cost, error) {
	p, err := t.Lookup(modelName, endpoint, start)
	if err != nil {
		return Cost{}, err
	}
	return p.MaxCost(r)
}

// MaxCost is Table.MaxCost at this row.
func (p *Price) MaxCost(r Request) (Cost, error) {
	if r.PromptTokens < 0 {
		return Cost{}, fmt.Errorf("%w: negative prompt tokens", ErrUsage)
	}
	out := r.MaxTokens
	if out <= 0 {
		out = p.MaxOutputTokens
	}
	n := max(r.N, 1)
	hi, lo := bits.Mul64(uint64(out), uint64(n))
	if hi != 0 || lo > math.MaxInt64 {
		return Cost{}, fmt.Errorf("%w: %d choices of %d tokens", ErrOverflow, n, out)
	}
	rates := p.ratesFor(r.PromptTokens)
	var acc acc128
	acc.add(r.PromptTokens, max(rates.Input, rates.CacheWrite))
	acc.add(int64(lo), max(rates.Output, rates.Reasoning))
	return p.finish(acc)
}

func (p *Price) ratesFor(inputTokens int64) Rates {
	if p.LongContext != nil && inputTokens > p.LongContext.AboveInputTokens {
		return p.LongContext.Rates
	}
	return p.Rates
}

// finish rounds the accumulated micro-units × 1M up and adds the fee.
func (p *Price) finish(acc acc128) (Cost, error) {
	if acc.over {
		return Cost{}, fmt.Errorf("%w: token counts too large", ErrOverflow)
	}
	micros, ok := acc.ceilDiv(PerMillion)
	if !ok || micros > math.MaxInt64-uint64(p.RequestFee) {
		return Cost{}, fmt.Errorf("%w: token counts too large", ErrOverflow)
	}
	return Cost{Amount: int64(micros) + p.RequestFee, Currency: p.Currency, PriceVersion: p.Version}, nil
}

// acc128 is an unsigned 128-bit accumulator of tokens × rate products.
type acc128 struct {
	hi, lo uint64
	over   bool
}

func (a *acc128) add(tokens, rate int64) {
	hi, lo := bits.Mul64(uint64(tokens), uint64(rate))
	var carry uint64
	a.lo, carry = bits.Add64(a.lo, lo, 0)
	a.hi, carry = bits.Add64(a.hi, hi, carry)
	a.over = a.over || carry != 0
}

// ceilDiv returns ⌈a / d⌉ when it fits in 64 bits.
func (a acc128) ceilDiv(d uint64) (uint64, bool) {
	if a.hi >= d {
		return 0, false
	}
	q, r := bits.Div64(a.hi, a.lo, d)
	if r != 0 {
		if q == math.MaxUint64 {
			return 0, false
		}
		q++
	}
	return q, true
}
