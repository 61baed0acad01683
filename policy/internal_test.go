package policy

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/open-policy-agent/opa/v1/rego"
)

// The decision query has no variables, so OPA cannot give it two results;
// a query that does must still fail closed.
func TestMoreThanOneResultFailsClosed(t *testing.T) {
	ctx := context.Background()
	pq, err := rego.New(rego.Query("x := [1, 2][_]")).PrepareForEval(ctx)
	if err != nil {
		t.Fatal(err)
	}
	e := &Engine{timeout: time.Second}
	_, err = e.eval(ctx, &snapshot{query: pq}, Input{})
	if !errors.Is(err, ErrAmbiguous) || Code(err) != "policy_ambiguous" {
		t.Fatalf("err = %v, want ErrAmbiguous", err)
	}
}

func TestDecodeRejectsWrongShapes(t *testing.T) {
	good := func() map[string]any {
		return map[string]any{
			"allow": true, "deny": []any{}, "dry_run": false, "restore_pseudonyms": false,
			"allowed_jurisdictions": []any{}, "allowed_regions": []any{}, "allowed_providers": []any{},
			"allowed_endpoints": []any{}, "allowed_models": []any{}, "actions": map[string]any{},
			"max_estimated_tokens": nil,
		}
	}
	if _, err := decode(good()); err != nil {
		t.Fatalf("good document rejected: %v", err)
	}
	cases := map[string]func(map[string]any){
		"allow missing":          func(m map[string]any) { delete(m, "allow") },
		"allow a string":         func(m map[string]any) { m["allow"] = "true" },
		"deny not a list":        func(m map[string]any) { m["deny"] = "none" },
		"reason without code":    func(m map[string]any) { m["allow"] = false; m["deny"] = []any{map[string]any{"message": "m"}} },
		"regions not strings":    func(m map[string]any) { m["allowed_regions"] = []any{1} },
		"actions a list":         func(m map[string]any) { m["actions"] = []any{} },
		"unknown action":         func(m map[string]any) { m["actions"] = map[string]any{"EMAIL": "shred"} },
		"action not a string":    func(m map[string]any) { m["actions"] = map[string]any{"EMAIL": true} },
		"allow with reasons":     func(m map[string]any) { m["deny"] = []any{map[string]any{"code": "c", "message": "m"}} },
		"deny without reasons":   func(m map[string]any) { m["allow"] = false },
		"dry_run missing":        func(m map[string]any) { delete(m, "dry_run") },
		"allowed_models missing": func(m map[string]any) { delete(m, "allowed_models") },
		"budget missing":         func(m map[string]any) { delete(m, "max_estimated_tokens") },
		"budget a string":        func(m map[string]any) { m["max_estimated_tokens"] = "lots" },
	}
	for name, mutate := range cases {
		doc := good()
		mutate(doc)
		if _, err := decode(doc); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := decode([]any{}); err == nil {
		t.Error("non-object accepted")
	}
}
