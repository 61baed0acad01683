package pricing

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// File is where the price table sits in a policy set. Named data.json, it is
// also visible to Rego as data.pricing, so that officers can write spend
// rules against the prices (e.g. by a model's labels or output price).
const File = "pricing/data.json"

// Unit is the one unit of every token price in a table: integer micro-units
// of the currency per 1,000,000 tokens ($2.50 per 1M tokens is 2500000).
// Request fees are plain micro-units per request.
const Unit = "micros_per_million_tokens"

// PerMillion is the token count a price is quoted for.
const PerMillion = 1_000_000

var (
	// ErrNoPrice: the model (on that endpoint) has no price at that time.
	// A prepaid request must then be refused, never served for free.
	ErrNoPrice = errors.New("pricing: no price for the model at that time")
	// ErrInvalid is wrapped by *InvalidError: a table that fails validation.
	ErrInvalid = errors.New("pricing: invalid price table")
	// ErrUsage: negative token counts or request parameters.
	ErrUsage = errors.New("pricing: invalid usage")
	// ErrOverflow: a cost that does not fit in an int64 of micro-units.
	ErrOverflow = errors.New("pricing: cost overflows")
)

// Problem is one validation finding, located by file and field path, e.g.
// pricing/data.json: models["gpt-4o"].effective[1].input: must be ...
type Problem struct {
	File string
	Path string
	Msg  string
}

func (p Problem) String() string {
	if p.Path == "" {
		return p.File + ": " + p.Msg
	}
	return p.File + ": " + p.Path + ": " + p.Msg
}

// InvalidError lists every problem of a refused table.
type InvalidError struct {
	Problems []Problem
}

func (e *InvalidError) Error() string {
	if len(e.Problems) == 1 {
		return e.Problems[0].String()
	}
	return fmt.Sprintf("%s (and %d more)", e.Problems[0], len(e.Problems)-1)
}

func (e *InvalidError) Unwrap() error { return ErrInvalid }

// Rates are the token prices of one price row, each in micro-units per
// 1,000,000 tokens.
type Rates struct {
	Input       int64 // uncached input tokens
	CachedInput int64 // input tokens read from the provider's prompt cache
	CacheWrite  int64 // input tokens written to the prompt cache
	Output      int64 // output tokens other than reasoning
	Reasoning   int64 // reasoning (thinking) output tokens
}

// Tier replaces some rates for a request whose input (uncached, cached and
// cache-write tokens together) exceeds AboveInputTokens: the whole request
// is then priced at the tier's rates, as Anthropic and Google bill long
// prompts.
type Tier struct {
	AboveInputTokens int64
	Rates
}

// Price is one resolved price row: what a request that starts in
// [From, Until) pays for a model (on an endpoint, when the table has a row
// for that endpoint).
type Price struct {
	Model      string    // the table's name for the model (aliases resolve to it)
	Endpoint   string    // "" for the model's default prices
	From       time.Time // inclusive, UTC
	Until      time.Time // exclusive; zero when open-ended
	Currency   string    // ISO 4217 code
	RequestFee int64     // micro-units per request
	Rates
	LongContext     *Tier // nil: no long-prompt tier
	MaxOutputTokens int64 // the model's output cap, for reservations
	// Version names this row: table version, model[@endpoint] and From,
	// e.g. "2026-12-01:gpt-4o@azure-openai-eu:2024-11-20T00:00:00Z".
	Version string
}

func (p *Price) covers(t time.Time) bool {
	return !t.Before(p.From) && (p.Until.IsZero() || t.Before(p.Until))
}

type model struct {
	name      string
	rows      []Price            // the model's own prices, by From
	endpoints map[string][]Price // per-endpoint overrides, by From
}

// Table is a validated, immutable price table, safe for concurrent use. The
// nil *Table has no prices: every lookup answers ErrNoPrice.
type Table struct {
	version  string
	currency string
	models   map[string]*model // model names and aliases
	names    []string          // model names (no aliases), sorted
}

// Version returns the table's own version string.
func (t *Table) Version() string {
	if t == nil {
		return ""
	}
	return t.version
}

// Currency returns the table's default currency.
func (t *Table) Currency() string {
	if t == nil {
		return ""
	}
	return t.currency
}

// Models returns the priced model names (aliases excluded), sorted.
func (t *Table) Models() []string {
	if t == nil {
		return nil
	}
	return slices.Clone(t.names)
}

// Lookup returns the price row that applies to a request for model on
// endpoint that starts at start. A row for the endpoint wins over the
// model's own row; where the endpoint has none at that time, the model's
// own row applies. Without either: ErrNoPrice.
func (t *Table) Lookup(modelName, endpoint string, start time.Time) (*Price, error) {
	if t == nil {
		return nil, fmt.Errorf("%w: no price table loaded", ErrNoPrice)
	}
	m := t.models[modelName]
	if m == nil {
		return nil, fmt.Errorf("%w: model %q is not in the table", ErrNoPrice, modelName)
	}
	start = start.UTC()
	if endpoint != "" {
		if p := find(m.endpoints[endpoint], start); p != nil {
			return p, nil
		}
	}
	if p := find(m.rows, start); p != nil {
		return p, nil
	}
	return nil, fmt.Errorf("%w: model %q has no price at %s", ErrNoPrice, modelName, start.Format(time.RFC3339))
}

// find returns the row covering t; rows are sorted by From and disjoint.
func find(rows []Price, t time.Time) *Price {
	for i := len(rows) - 1; i >= 0; i-- {
		if !t.Before(rows[i].From) {
			if rows[i].covers(t) {
				return &rows[i]
			}
			return nil
		}
	}
	return nil
}

func versionOf(tableVersion, modelName, endpoint string, from time.Time) string {
	var b strings.Builder
	b.WriteString(tableVersion)
	b.WriteByte(':')
	b.WriteString(modelName)
	if endpoint != "" {
		b.WriteByte('@')
		b.WriteString(endpoint)
	}
	b.WriteByte(':')
	b.WriteString(from.UTC().Format(time.RFC3339))
	return b.String()
}
