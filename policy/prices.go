package policy

import (
	"errors"
	"fmt"
	"io/fs"

	"github.com/custos-gateway/custos/policy/pricing"
)

// Prices returns the price table served with the policy set now serving,
// and that set's revision. Set and table are loaded, validated and swapped
// as one: a reload that breaks either is refused and the previous pair
// keeps serving. A caller that wants the prices of the revision a Decision
// names compares the two revisions (they differ only across a reload).
// The table is nil when the set has no pricing/data.json: every lookup then
// answers pricing.ErrNoPrice.
func (e *Engine) Prices() (*pricing.Table, Revision) {
	s := e.current.Load()
	if s == nil {
		return nil, Revision{}
	}
	return s.prices, s.revision
}

// parsePrices validates the price table's content; nil content is no table.
func parsePrices(raw []byte) (*pricing.Table, error) {
	if raw == nil {
		return nil, nil
	}
	return pricing.Parse(raw, pricing.File)
}

// priceProblems lists the problems of the set's price table for Check.
func (s Source) priceProblems() ([]Problem, error) {
	raw, err := fs.ReadFile(s.files(), pricing.File)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("policy set %s: %w", s.name, err)
	}
	_, err = pricing.Parse(raw, pricing.File)
	var inv *pricing.InvalidError
	if !errors.As(err, &inv) {
		return nil, err
	}
	out := make([]Problem, 0, len(inv.Problems))
	for _, p := range inv.Problems {
		msg := p.Msg
		if p.Path != "" {
			msg = p.Path + ": " + p.Msg
		}
		out = append(out, Problem{File: p.File, Msg: msg})
	}
	return out, nil
}
