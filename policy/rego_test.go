package policy_test

import (
	"context"
	"testing"

	"github.com/custos-gateway/custos/policies"
	"github.com/custos-gateway/custos/policy"
)

var shipped = policy.FromFS(policies.FS, "policies")

// TestRegoUnitTests runs the shipped policies' own Rego tests.
func TestRegoUnitTests(t *testing.T) {
	results, err := policy.RunTests(context.Background(), shipped)
	if err != nil {
		t.Fatal(err)
	}
	if len(results) < 20 {
		t.Fatalf("only %d Rego tests found", len(results))
	}
	for _, r := range results {
		if !r.Pass {
			t.Errorf("%s (%s): %s", r.Name, r.File, r.Detail)
		}
	}
	t.Logf("%d Rego unit tests", len(results))
}

// TestShippedPoliciesCheck: strict compile, formatting and deny METADATA.
func TestShippedPoliciesCheck(t *testing.T) {
	problems, err := policy.Check(shipped)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Error(p)
	}
}
