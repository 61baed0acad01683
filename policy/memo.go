package policy

import (
	"maps"
	"slices"
	"strconv"
	"sync"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/bundle"
)

// A decision is a pure function of the policy set and the input fields the
// set reads, as long as the set calls no nondeterministic builtin (time,
// randomness, network). For such sets the engine memoizes decisions per
// revision, keyed by exactly the input fields the set references, so that a
// repeated request shape skips evaluation. A set that is not pure, or reads
// the input dynamically (input[x], the whole input), is never memoized.

// maxMemo bounds the memo; when full it is cleared and refills.
const maxMemo = 8192

type memo struct {
	fields []string // top-level input fields the policy reads, sorted
	mu     sync.RWMutex
	m      map[string]memoEntry
}

type memoEntry struct {
	d Decision
}

// newMemo returns a memo for the set, or nil if its decisions cannot be
// memoized.
func newMemo(b *bundle.Bundle) *memo {
	fields, pure := inputFieldsRead(b)
	if !pure {
		return nil
	}
	return &memo{fields: fields, m: make(map[string]memoEntry)}
}

// inputFieldsRead reports the top-level input fields the set references and
// whether its decisions are pure functions of them.
func inputFieldsRead(b *bundle.Bundle) ([]string, bool) {
	fields := map[string]bool{}
	pure := true
	for _, mf := range b.Modules {
		ast.WalkRefs(mf.Parsed, func(r ast.Ref) bool {
			if !r[0].Equal(ast.InputRootDocument) {
				return false
			}
			if len(r) < 2 {
				pure = false // the whole input
				return false
			}
			s, ok := r[1].Value.(ast.String)
			if !ok {
				pure = false // input[x]
				return false
			}
			fields[string(s)] = true
			return false
		})
		ast.WalkExprs(mf.Parsed, func(e *ast.Expr) bool {
			if e.IsCall() && nondeterministic(e.Operator().String()) {
				pure = false
			}
			return false
		})
		ast.WalkTerms(mf.Parsed, func(t *ast.Term) bool {
			if c, ok := t.Value.(ast.Call); ok && len(c) > 0 && nondeterministic(c[0].String()) {
				pure = false
			}
			return false
		})
	}
	return slices.Sorted(maps.Keys(fields)), pure
}

func nondeterministic(name string) bool {
	b, ok := ast.BuiltinMap[name]
	return ok && b.Nondeterministic
}

// key encodes the referenced input fields unambiguously.
func (m *memo) key(in *Input) string {
	b := make([]byte, 0, 256)
	str := func(s string) { b = strconv.AppendQuote(b, s) }
	for _, f := range m.fields {
		b = append(append(b, f...), '=')
		switch f {
		case "request_id":
			str(in.RequestID)
		case "tenant":
			str(in.Tenant)
		case "app":
			str(in.App)
		case "purpose":
			str(in.Purpose)
		case "user":
			str(in.User)
		case "route":
			str(in.Route)
		case "model":
			str(in.Model)
		case "stream":
			b = strconv.AppendBool(b, in.Stream)
		case "estimated_tokens":
			b = strconv.AppendInt(b, in.EstimatedTokens, 10)
		case "uninspectable":
			b = strconv.AppendInt(b, int64(in.Uninspectable), 10)
		case "findings":
			for _, c := range slices.Sorted(maps.Keys(in.Findings)) {
				str(c)
				b = append(strconv.AppendInt(append(b, ':'), int64(in.Findings[c]), 10), ',')
			}
		case "cost":
			b = appendCostKey(b, in.Cost)
		case "candidates":
			for _, c := range in.Candidates {
				str(c.Endpoint)
				str(c.Provider)
				str(c.Region)
				str(c.Jurisdiction)
				for _, k := range slices.Sorted(maps.Keys(c.Attributes)) {
					str(k)
					b = append(strconv.AppendBool(append(b, '='), c.Attributes[k]), ',')
				}
				b = append(b, ';')
			}
		default:
			// A field the Input type does not carry is absent for every
			// request: it cannot vary the decision.
			b = append(b, "absent"...)
		}
		b = append(b, '\n')
	}
	return string(b)
}

func appendCostKey(b []byte, c *CostInput) []byte {
	if c == nil {
		return b
	}
	b = strconv.AppendInt(b, c.EstimatedMicros, 10)
	b = strconv.AppendQuote(strconv.AppendQuote(b, c.Currency), c.Billing)
	if c.AvailableMicros != nil {
		b = strconv.AppendInt(append(b, '/'), *c.AvailableMicros, 10)
	}
	return b
}

func (m *memo) get(k string) (memoEntry, bool) {
	m.mu.RLock()
	e, ok := m.m[k]
	m.mu.RUnlock()
	if ok {
		e.d = e.d.clone()
	}
	return e, ok
}

func (m *memo) put(k string, e memoEntry) {
	e.d = e.d.clone()
	m.mu.Lock()
	if len(m.m) >= maxMemo {
		clear(m.m)
	}
	m.m[k] = e
	m.mu.Unlock()
}

// clone copies a decision so that callers never share its slices or map.
func (d Decision) clone() Decision {
	d.Deny = slices.Clone(d.Deny)
	d.AllowedJurisdictions = slices.Clone(d.AllowedJurisdictions)
	d.AllowedRegions = slices.Clone(d.AllowedRegions)
	d.AllowedProviders = slices.Clone(d.AllowedProviders)
	d.AllowedEndpoints = slices.Clone(d.AllowedEndpoints)
	d.AllowedModels = slices.Clone(d.AllowedModels)
	d.Actions = maps.Clone(d.Actions)
	return d
}
