package policy_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/custos-gateway/custos/policy"
)

func TestShippedSetIsMemoizedByTheFieldsItReads(t *testing.T) {
	e, err := policy.New(context.Background(), shipped, policy.Options{Timeout: testTimeout})
	if err != nil {
		t.Fatal(err)
	}
	ok, fields := e.Memoized()
	if !ok {
		t.Fatal("the shipped set is pure but not memoized")
	}
	for _, f := range []string{"request_id", "user", "estimated_tokens"} {
		if slices.Contains(fields, f) {
			t.Errorf("memo key includes %s, which the shipped policies do not read", f)
		}
	}
	for _, f := range []string{"tenant", "purpose", "model", "candidates", "findings", "uninspectable"} {
		if !slices.Contains(fields, f) {
			t.Errorf("memo key lacks %s, which the shipped policies read", f)
		}
	}
}

func TestImpureOrDynamicSetsAreNotMemoized(t *testing.T) {
	for name, rule := range map[string]string{
		"clock":         "package custos\n\nnow_ns := time.now_ns()\n",
		"dynamic input": "package custos\n\nfield_value(f) := input[f]\n",
		"whole input":   "package custos\n\neverything := input\n",
	} {
		t.Run(name, func(t *testing.T) {
			dir := copyShipped(t)
			writeFile(t, filepath.Join(dir, "extra.rego"), rule)
			e, err := policy.New(context.Background(), policy.FromDir(dir), policy.Options{Timeout: testTimeout})
			if err != nil {
				t.Fatal(err)
			}
			if ok, _ := e.Memoized(); ok {
				t.Error("memoized a set whose decisions may not be a pure function of the fields it reads")
			}
		})
	}
}

// The budget is enforced per request even when the decision is memoized.
func TestBudgetEnforcedOnMemoizedDecisions(t *testing.T) {
	ctx := context.Background()
	e, err := policy.New(ctx, shipped, policy.Options{Timeout: testTimeout})
	if err != nil {
		t.Fatal(err)
	}
	in := hospitalInput
	in.Model = "gpt-4o"
	for i, tc := range []struct {
		tokens int64
		code   string
	}{{100, ""}, {70000, "token_budget_exceeded"}, {100, ""}, {64000, ""}, {64001, "token_budget_exceeded"}} {
		in.EstimatedTokens = tc.tokens
		_, err := e.Decide(ctx, in)
		if got := policy.Code(err); (err == nil) != (tc.code == "") || (err != nil && got != tc.code) {
			t.Errorf("step %d (%d tokens): err = %v, want %q", i, tc.tokens, err, tc.code)
		}
	}
}

// Callers may change the decision they get; the memo must not see it.
func TestMemoizedDecisionsAreCopies(t *testing.T) {
	ctx := context.Background()
	e, _ := policy.New(ctx, shipped, policy.Options{Timeout: testTimeout})
	in := hospitalInput
	in.Model = "gpt-4o"
	d1, _ := e.Decide(ctx, in)
	d1.AllowedEndpoints[0] = "tampered"
	d1.Actions["X"] = policy.ActionAllow
	d2, _ := e.Decide(ctx, in)
	if d2.AllowedEndpoints[0] == "tampered" || len(d2.Actions) != 0 {
		t.Errorf("memoized decision was changed through a returned copy: %+v", d2)
	}
}

// Memoized and fresh evaluation agree on every golden case, twice over.
func TestMemoAgreesWithEvaluation(t *testing.T) {
	ctx := context.Background()
	memoized, _ := policy.New(ctx, shipped, policy.Options{Timeout: testTimeout})
	fresh, _ := policy.New(ctx, shipped, policy.Options{NoMemo: true, Timeout: testTimeout})
	inputs := goldenInputs(t)
	for round := range 2 {
		for i, in := range inputs {
			a, aerr := memoized.Decide(ctx, in)
			b, berr := fresh.Decide(ctx, in)
			if policy.Code(aerr) != policy.Code(berr) || !reflect.DeepEqual(a, b) {
				t.Errorf("round %d input %d: memoized and fresh decisions differ (%v / %v)", round, i, aerr, berr)
			}
		}
	}
}

func goldenInputs(t testing.TB) []policy.Input {
	files, _ := filepath.Glob("testdata/decisions/*.json")
	var out []policy.Input
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		cases := decodeCases(t, b)
		for _, c := range cases {
			if len(c.Edits) == 0 {
				out = append(out, c.Input)
			}
		}
	}
	if len(out) < 20 {
		t.Fatalf("only %d golden inputs", len(out))
	}
	return out
}

// BenchmarkDecide reports one decision's latency (p50 and mean) on a typical
// hospital input: evaluated afresh, memoized, and on a mixed workload of
// request shapes where the memo hits only part of the time.
func BenchmarkDecide(b *testing.B) {
	ctx := context.Background()
	typical := hospitalInput
	typical.Model = "gpt-4o"
	typical.Findings = map[string]int{"PERSON": 2, "EMAIL": 1, "MEDICAL_RECORD_NUMBER": 1}
	typical.Candidates = []policy.Candidate{
		{Endpoint: "azure-openai-eu", Provider: "azure", Region: "eu-west", Jurisdiction: "eu"},
		{Endpoint: "azure-openai-uk", Provider: "azure", Region: "uk-south", Jurisdiction: "uk"},
		{Endpoint: "openai-us", Provider: "openai", Region: "us-east", Jurisdiction: "us"},
	}
	// 256 request shapes: findings counts vary as they do between prompts.
	var mixed []policy.Input
	for i := range 256 {
		in := typical
		in.RequestID = fmt.Sprintf("req_%d", i)
		in.EstimatedTokens = int64(200 + i*37)
		in.Findings = map[string]int{"PERSON": i % 4, "EMAIL": (i / 4) % 4, "MEDICAL_RECORD_NUMBER": (i / 16) % 4, "PHONE": (i / 64) % 4}
		mixed = append(mixed, in)
	}
	run := func(b *testing.B, opts policy.Options, inputs []policy.Input) {
		e, err := policy.New(ctx, shipped, opts)
		if err != nil {
			b.Fatal(err)
		}
		samples := make([]time.Duration, 0, 1<<16)
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			in := inputs[i%len(inputs)]
			i++
			start := time.Now()
			if _, err := e.Decide(ctx, in); err != nil {
				b.Fatal(err)
			}
			if len(samples) < cap(samples) {
				samples = append(samples, time.Since(start))
			}
		}
		sort.Slice(samples, func(i, j int) bool { return samples[i] < samples[j] })
		b.ReportMetric(float64(samples[len(samples)/2].Nanoseconds())/1e3, "p50-µs")
		b.ReportMetric(float64(samples[len(samples)*99/100].Nanoseconds())/1e3, "p99-µs")
	}
	b.Run("evaluated", func(b *testing.B) {
		run(b, policy.Options{NoMemo: true, Timeout: testTimeout}, []policy.Input{typical})
	})
	b.Run("memoized", func(b *testing.B) { run(b, policy.Options{Timeout: testTimeout}, []policy.Input{typical}) })
	b.Run("mixed-256-shapes", func(b *testing.B) { run(b, policy.Options{Timeout: testTimeout}, mixed) })
}
