package policy

import (
	"reflect"
	"strings"
	"testing"
)

// Every field of Input must reach the memo key: a field the key ignored
// would let two different requests share a decision.
func TestMemoKeyCoversEveryInputField(t *testing.T) {
	typ := reflect.TypeOf(Input{})
	var fields []string
	for i := range typ.NumField() {
		fields = append(fields, strings.Split(typ.Field(i).Tag.Get("json"), ",")[0])
	}
	m := &memo{fields: fields}
	base := Input{Findings: map[string]int{"A": 1}, Candidates: []Candidate{{Endpoint: "e"}}}
	variants := map[string]func(*Input){
		"request_id":       func(in *Input) { in.RequestID = "x" },
		"tenant":           func(in *Input) { in.Tenant = "x" },
		"app":              func(in *Input) { in.App = "x" },
		"purpose":          func(in *Input) { in.Purpose = "x" },
		"user":             func(in *Input) { in.User = "x" },
		"route":            func(in *Input) { in.Route = "x" },
		"model":            func(in *Input) { in.Model = "x" },
		"stream":           func(in *Input) { in.Stream = true },
		"estimated_tokens": func(in *Input) { in.EstimatedTokens = 9 },
		"uninspectable":    func(in *Input) { in.Uninspectable = 1 },
		"findings":         func(in *Input) { in.Findings = map[string]int{"A": 2} },
		"cost": func(in *Input) {
			left := int64(5)
			in.Cost = &CostInput{EstimatedMicros: 10, Currency: "USD", Billing: "prepaid", AvailableMicros: &left}
		},
		"candidates": func(in *Input) {
			in.Candidates = []Candidate{{Endpoint: "e", Attributes: map[string]bool{"baa": true}}}
		},
	}
	for _, f := range fields {
		vary, ok := variants[f]
		if !ok {
			t.Errorf("input field %q has no memo key test (and maybe no key encoding)", f)
			continue
		}
		changed := base
		changed.Findings = map[string]int{"A": 1}
		changed.Candidates = []Candidate{{Endpoint: "e"}}
		vary(&changed)
		if m.key(&base) == m.key(&changed) {
			t.Errorf("changing %s does not change the memo key", f)
		}
	}
	// Ambiguity: values that would run together must still differ.
	a := Input{Tenant: `a","b`}
	b := Input{Tenant: "a", App: "b"}
	if m.key(&a) == m.key(&b) {
		t.Error("memo key is ambiguous")
	}
	// Attributes: by value, in no map order, a key that looks like a pair
	// is its own.
	attrs := func(as map[string]bool) *Input {
		return &Input{Candidates: []Candidate{{Endpoint: "e", Attributes: as}}}
	}
	one, other := attrs(map[string]bool{"baa": true, "gdpr": false, "hds": true}), attrs(map[string]bool{"baa": false, "gdpr": true, "hds": true})
	for range 20 {
		if m.key(one) != m.key(attrs(map[string]bool{"hds": true, "gdpr": false, "baa": true})) {
			t.Fatal("the same attributes give different keys")
		}
	}
	if m.key(one) == m.key(other) || m.key(attrs(map[string]bool{"a=true,b": true})) == m.key(attrs(map[string]bool{"a": true, "b": true})) {
		t.Error("different attributes give one key")
	}
}
