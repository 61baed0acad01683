package policy_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/custos-gateway/custos/policy"
	"github.com/custos-gateway/custos/policy/pricing"
)

var priceTime = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)

func gpt4oInput(t *testing.T, e *policy.Engine) int64 {
	t.Helper()
	tbl, _ := e.Prices()
	c, err := tbl.Cost(pricing.Usage{Input: 1_000_000}, "gpt-4o", "", priceTime)
	if err != nil {
		t.Fatal(err)
	}
	return c.Amount
}

func editPrices(t *testing.T, dir, from, to string) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(pricing.File))
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	s := strings.Replace(string(b), from, to, 1)
	if s == string(b) {
		t.Fatalf("%s has changed shape; update the test edit %q", pricing.File, from)
	}
	writeFile(t, p, s)
}

func TestShippedSetServesItsPrices(t *testing.T) {
	e, err := policy.New(context.Background(), shipped, policy.Options{})
	if err != nil {
		t.Fatal(err)
	}
	tbl, rev := e.Prices()
	if tbl == nil || tbl.Version() == "" || rev != e.Revision() {
		t.Fatalf("Prices() = %v, %s; revision now %s", tbl, rev, e.Revision())
	}
	if got := gpt4oInput(t, e); got != 2_500_000 {
		t.Errorf("gpt-4o input per 1M = %d micro-units", got)
	}
}

// Prices and policy reload as one pair: a good price edit is a new
// revision; a broken price table, or a broken policy beside a good price
// edit, is refused and the last good pair keeps serving.
func TestPricesReloadWithThePolicySet(t *testing.T) {
	ctx := context.Background()
	dir := copyShipped(t)
	e, err := policy.New(ctx, policy.FromDir(dir), policy.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rev0 := e.Revision()
	const row = "\"from\": \"2024-10-02\",\n          "
	editPrices(t, dir, row+`"input": 2500000,`, row+`"input": 3000000,`)
	if changed, err := e.Reload(ctx); err != nil || !changed {
		t.Fatalf("good price edit: changed=%v err=%v", changed, err)
	}
	tbl1, rev1 := e.Prices()
	if rev1 == rev0 || rev1 != e.Revision() || gpt4oInput(t, e) != 3_000_000 {
		t.Fatalf("after the edit: revision %s (was %s), price %d", rev1, rev0, gpt4oInput(t, e))
	}

	editPrices(t, dir, row+`"input": 3000000,`, row+`"input": 3.5,`)
	_, err = e.Reload(ctx)
	if !errors.Is(err, pricing.ErrInvalid) || !strings.Contains(err.Error(), `models["gpt-4o"].effective[0].input`) {
		t.Fatalf("broken price table: %v; want a refusal naming the field", err)
	}
	if tbl, rev := e.Prices(); tbl != tbl1 || rev != rev1 || e.Revision() != rev1 {
		t.Fatal("a refused price table replaced the serving pair")
	}

	editPrices(t, dir, row+`"input": 3.5,`, row+`"input": 4000000,`)
	writeFile(t, filepath.Join(dir, "pii.rego"), "package custos\n\nactions := {\n")
	if changed, err := e.Reload(ctx); err == nil || changed {
		t.Fatalf("broken policy beside good prices: changed=%v err=%v", changed, err)
	}
	if tbl, rev := e.Prices(); tbl != tbl1 || rev != rev1 || gpt4oInput(t, e) != 3_000_000 {
		t.Fatal("prices of a refused policy set were served")
	}
}

func TestBrokenPricesAreRefusedAtStart(t *testing.T) {
	dir := copyShipped(t)
	editPrices(t, dir, `"currency": "USD"`, `"currency": "dollars"`)
	_, err := policy.New(context.Background(), policy.FromDir(dir), policy.Options{})
	if !errors.Is(err, pricing.ErrInvalid) || !strings.Contains(err.Error(), "pricing/data.json: currency:") {
		t.Fatalf("New with a broken price table: %v", err)
	}
	problems, err := policy.Check(policy.FromDir(dir))
	if err != nil {
		t.Fatal(err)
	}
	if len(problems) != 1 || problems[0].String() != `pricing/data.json: currency: must be an ISO 4217 currency code such as "USD"` {
		t.Errorf("Check: %v", problems)
	}
}

// A set without a price table decides as before and prices nothing.
func TestSetWithoutPricesHasNoPrices(t *testing.T) {
	ctx := context.Background()
	dir := copyShipped(t)
	if err := os.RemoveAll(filepath.Join(dir, "pricing")); err != nil {
		t.Fatal(err)
	}
	e, err := policy.New(ctx, policy.FromDir(dir), policy.Options{})
	if err != nil {
		t.Fatal(err)
	}
	tbl, rev := e.Prices()
	if tbl != nil || rev != e.Revision() {
		t.Fatalf("Prices() = %v, %s", tbl, rev)
	}
	if _, err := tbl.Cost(pricing.Usage{Input: 1}, "echo", "", priceTime); !errors.Is(err, pricing.ErrNoPrice) {
		t.Errorf("cost without a table: %v", err)
	}
	if problems, err := policy.Check(policy.FromDir(dir)); err != nil || len(problems) != 0 {
		t.Errorf("Check: %v %v", problems, err)
	}
	var zero policy.Engine
	if tbl, _ := zero.Prices(); tbl != nil {
		t.Error("an engine with no set has prices")
	}
}

// The table is policy data too: officers' rules can read data.pricing.
func TestPricesAreVisibleToRego(t *testing.T) {
	dir := copyShipped(t)
	writeFile(t, filepath.Join(dir, "spend_test.rego"), `package spend_test

test_premium_models_are_labelled if {
	data.pricing.models.o3.labels.tier == "premium"
	data.pricing.models.echo.effective[0].input > 0
}
`)
	results, err := policy.RunTests(context.Background(), policy.FromDir(dir))
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, r := range results {
		if r.Name == "data.spend_test.test_premium_models_are_labelled" {
			found = true
			if !r.Pass {
				t.Errorf("%s: %s", r.Name, r.Detail)
			}
		}
	}
	if !found {
		t.Errorf("the test did not run: %v", results)
	}
}
