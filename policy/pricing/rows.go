package pricing

import (
	"time"
)

// rows validates one timeline of price rows: each row's own fields, then
// their order. A row without until ends where the next one starts.
func (c *checker) rows(n *node, path string, t *Table, modelName, endpoint string, capTokens int64) []Price {
	if n == nil {
		return nil // reported as a missing required field
	}
	if n.kind != kindArray || len(n.vals) == 0 {
		c.add(path, "must be a non-empty array of price rows")
		return nil
	}
	out := make([]Price, 0, len(n.vals))
	ok := true
	for i, v := range n.vals {
		p, good := c.row(v, index(path, i), t)
		ok = ok && good
		p.Model, p.Endpoint, p.MaxOutputTokens = modelName, endpoint, capTokens
		out = append(out, p)
	}
	if !ok {
		return nil
	}
	for i := 1; i < len(out); i++ {
		prev, cur := &out[i-1], &out[i]
		switch {
		case !cur.From.After(prev.From):
			c.add(field(index(path, i), "from"), "must be later than effective[%d].from (rows are in date order)", i-1)
		case !prev.Until.IsZero() && prev.Until.After(cur.From):
			c.add(field(index(path, i), "from"), "overlaps effective[%d], which runs until %s",
				i-1, prev.Until.Format(time.RFC3339))
		case prev.Until.IsZero():
			prev.Until = cur.From
		}
	}
	for i := range out {
		out[i].Version = versionOf(t.version, modelName, endpoint, out[i].From)
	}
	return out
}

// row validates one price row. Absent rates default: cached_input and
// cache_write to input, reasoning to output, request_fee to 0.
func (c *checker) row(n *node, path string, t *Table) (Price, bool) {
	before := len(c.probs)
	if !c.object(n, path, rowFields) {
		return Price{}, false
	}
	var p Price
	p.From, _ = c.date(n.get("from"), field(path, "from"))
	if u := n.get("until"); u != nil {
		if p.Until, _ = c.date(u, field(path, "until")); !p.Until.IsZero() && !p.Until.After(p.From) {
			c.add(field(path, "until"), "must be later than from")
		}
	}
	p.Currency = t.currency
	if cur := n.get("currency"); cur != nil {
		p.Currency, _ = c.currency(cur, field(path, "currency"))
	}
	p.Input = c.rate(n, path, "input", 0)
	p.Output = c.rate(n, path, "output", 0)
	p.CachedInput = c.rate(n, path, "cached_input", p.Input)
	p.CacheWrite = c.rate(n, path, "cache_write", p.Input)
	p.Reasoning = c.rate(n, path, "reasoning", p.Output)
	if f := n.get("request_fee"); f != nil {
		p.RequestFee, _ = c.integer(f, field(path, "request_fee"), 0, MaxFee, "micro-units per request")
	}
	if lc := n.get("long_context"); lc != nil {
		p.LongContext = c.tier(lc, field(path, "long_context"), p.Rates)
	}
	if s, ok := c.optStr(n.get("source"), field(path, "source")); ok && s != "" && !isHTTPS(s) {
		c.add(field(path, "source"), "must be an https:// URL")
	}
	if tk := n.get("taken"); tk != nil {
		c.date(tk, field(path, "taken"))
	}
	c.optStr(n.get("note"), field(path, "note"))
	return p, len(c.probs) == before
}

// rate reads an optional token price, dflt when absent.
func (c *checker) rate(n *node, path, name string, dflt int64) int64 {
	v := n.get(name)
	if v == nil {
		return dflt
	}
	r, _ := c.integer(v, field(path, name), 0, MaxRate, "micro-units per 1M tokens")
	return r
}

// tier validates a long-prompt tier; rates it leaves out keep the row's.
func (c *checker) tier(n *node, path string, base Rates) *Tier {
	if !c.object(n, path, tierFields) {
		return nil
	}
	tr := &Tier{Rates: base}
	tr.AboveInputTokens, _ = c.integer(n.get("above_input_tokens"), field(path, "above_input_tokens"), 1, MaxRate, "tokens")
	tr.Input = c.rate(n, path, "input", base.Input)
	tr.CachedInput = c.rate(n, path, "cached_input", base.CachedInput)
	tr.CacheWrite = c.rate(n, path, "cache_write", base.CacheWrite)
	tr.Output = c.rate(n, path, "output", base.Output)
	tr.Reasoning = c.rate(n, path, "reasoning", base.Reasoning)
	return tr
}

func isHTTPS(s string) bool {
	return len(s) > len("https://") && s[:len("https://")] == "https://"
}
