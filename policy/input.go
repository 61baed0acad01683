package policy

import (
	"sort"

	"github.com/open-policy-agent/opa/v1/ast"
)

// value converts the input to an OPA value directly, skipping the JSON round
// trip OPA would otherwise make of a Go struct on every request.
func (in *Input) value() ast.Value {
	str := ast.StringTerm
	obj := ast.NewObject(
		ast.Item(str("request_id"), str(in.RequestID)),
		ast.Item(str("tenant"), str(in.Tenant)),
		ast.Item(str("app"), str(in.App)),
		ast.Item(str("purpose"), str(in.Purpose)),
		ast.Item(str("route"), str(in.Route)),
		ast.Item(str("model"), str(in.Model)),
		ast.Item(str("stream"), ast.BooleanTerm(in.Stream)),
		ast.Item(str("estimated_tokens"), ast.IntNumberTerm(int(in.EstimatedTokens))),
		ast.Item(str("uninspectable"), ast.IntNumberTerm(in.Uninspectable)),
	)
	if in.User != "" {
		obj.Insert(str("user"), str(in.User))
	}
	cands := make([]*ast.Term, 0, len(in.Candidates))
	for _, c := range in.Candidates {
		attrs := ast.NewObject()
		keys := make([]string, 0, len(c.Attributes))
		for k := range c.Attributes {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			attrs.Insert(str(k), ast.BooleanTerm(c.Attributes[k]))
		}
		cands = append(cands, ast.ObjectTerm(
			ast.Item(str("endpoint"), str(c.Endpoint)),
			ast.Item(str("provider"), str(c.Provider)),
			ast.Item(str("region"), str(c.Region)),
			ast.Item(str("jurisdiction"), str(c.Jurisdiction)),
			ast.Item(str("attributes"), ast.NewTerm(attrs)),
		))
	}
	obj.Insert(str("candidates"), ast.ArrayTerm(cands...))
	findings := ast.NewObject()
	for class, n := range in.Findings {
		findings.Insert(str(class), ast.IntNumberTerm(n))
	}
	obj.Insert(str("findings"), ast.NewTerm(findings))
	if c := in.Cost; c != nil {
		cost := ast.NewObject(
			ast.Item(str("estimated_micros"), ast.IntNumberTerm(int(c.EstimatedMicros))),
			ast.Item(str("currency"), str(c.Currency)),
			ast.Item(str("billing"), str(c.Billing)),
		)
		if c.AvailableMicros != nil {
			cost.Insert(str("available_micros"), ast.IntNumberTerm(int(*c.AvailableMicros)))
		}
		obj.Insert(str("cost"), ast.NewTerm(cost))
	}
	return obj
}
