package pricing_test

import (
	"encoding/json"
	"io/fs"
	"testing"

	"github.com/custos-gateway/custos/policies"
	"github.com/custos-gateway/custos/policy/pricing"
)

// notPriced are catalog models with no public list price: the operator
// prices them (a prepaid tenant is refused them until then).
var notPriced = map[string]string{"llama-3.1-70b": "served by a self-hosted endpoint"}

func shipped(t *testing.T) *pricing.Table {
	t.Helper()
	b, err := fs.ReadFile(policies.FS, pricing.File)
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := pricing.Parse(b, pricing.File)
	if err != nil {
		t.Fatal(err)
	}
	return tbl
}

// The shipped table prices every model a shipped tenant may use, the dev
// echo model included, and every model the starter catalog and tests name.
func TestShippedTablePricesTheStarterModels(t *testing.T) {
	tbl := shipped(t)
	now := at("2026-12-01T00:00:00Z")
	models := map[string]bool{}
	for _, m := range []string{"echo", "gpt-4o", "gpt-4o-mini", "gpt-4.1", "gpt-3.5-turbo", "gpt-5", "o3",
		"text-embedding-3-small", "claude-sonnet-4-5", "gemini-2.5-flash", "gemini-2.5-pro", "mistral-large",
		"deepseek-chat", "deepseek-reasoner", "qwen-plus", "qwen-max"} {
		models[m] = true
	}
	b, _ := fs.ReadFile(policies.FS, "tenants/data.json")
	var tenants map[string]struct{ Models []string }
	if err := json.Unmarshal(b, &tenants); err != nil {
		t.Fatal(err)
	}
	for _, tn := range tenants {
		for _, m := range tn.Models {
			models[m] = true
		}
	}
	for m := range models {
		p, err := tbl.Lookup(m, "", now)
		if _, skip := notPriced[m]; skip {
			if err == nil {
				t.Errorf("%s is priced; drop it from notPriced", m)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", m, err)
			continue
		}
		if p.Input <= 0 || (p.MaxOutputTokens > 0 && p.Output <= 0) || p.Currency != "USD" {
			t.Errorf("%s: implausible price %+v", m, *p)
		}
	}
}

// Worked examples from the providers' published rates.
func TestShippedTableCosts(t *testing.T) {
	tbl := shipped(t)
	for _, tc := range []struct {
		model, endpoint, start string
		u                      pricing.Usage
		amount                 int64
	}{
		// $2.50 and $10 per 1M: 1000 × 2.5 + 500 × 10 micro-units
		{"gpt-4o", "", "2026-12-01T00:00:00Z", pricing.Usage{Input: 1000, Output: 500}, 7500},
		{"gpt-4o-2024-11-20", "azure-openai-eu", "2026-12-01T00:00:00Z", pricing.Usage{Input: 1000, Output: 500}, 8250},
		// o3 before and after the 2025-06-10 price cut
		{"o3", "", "2025-06-09T23:59:59Z", pricing.Usage{Input: 1000, Reasoning: 2000, Output: 100}, 10000 + 80000 + 4000},
		{"o3", "", "2025-06-10T00:00:00Z", pricing.Usage{Input: 1000, Reasoning: 2000, Output: 100}, 2000 + 16000 + 800},
		// Anthropic cache read and write at their own rates
		{"claude-sonnet-4-5", "", "2026-12-01T00:00:00Z", pricing.Usage{Input: 100, CachedInput: 10000, CacheWrite: 2000, Output: 300}, 300 + 3000 + 7500 + 4500},
		{"deepseek-chat", "", "2025-09-29T23:59:59Z", pricing.Usage{Input: 1000, Output: 1000}, 560 + 1680},
		{"deepseek-chat", "", "2025-09-30T00:00:00Z", pricing.Usage{Input: 1000, Output: 1000}, 280 + 420},
		{"echo", "", "2026-12-01T00:00:00Z", pricing.Usage{Input: 7, Output: 7}, 21},
	} {
		c, err := tbl.Cost(tc.u, tc.model, tc.endpoint, at(tc.start))
		if err != nil || c.Amount != tc.amount || c.Currency != "USD" {
			t.Errorf("%s@%s at %s: %+v, %v; want %d", tc.model, tc.endpoint, tc.start, c, err, tc.amount)
		}
	}
}

// Every provider row says where its figures come from and when they were
// taken.
func TestShippedRowsNameTheirSource(t *testing.T) {
	b, _ := fs.ReadFile(policies.FS, pricing.File)
	var doc struct {
		Models map[string]struct {
			Effective []struct{ Source, Taken string }
			Endpoints map[string]struct {
				Effective []struct{ Source, Taken string }
			}
		}
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	for name, m := range doc.Models {
		rows := m.Effective
		for _, ep := range m.Endpoints {
			rows = append(rows, ep.Effective...)
		}
		for i, r := range rows {
			if name != "echo" && (r.Source == "" || r.Taken == "") {
				t.Errorf("%s row %d has no source or taken date", name, i)
			}
		}
	}
}
