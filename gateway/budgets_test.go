package gateway_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/custos-gateway/custos/audit"
	"github.com/custos-gateway/custos/gateway/auth"
	"github.com/custos-gateway/custos/gateway/config"
	"github.com/custos-gateway/custos/gateway/providertest"
	"github.com/custos-gateway/custos/policies"
	"github.com/custos-gateway/custos/policy"
)

// A key over its rate: the x-ratelimit-* headers on every answer, 429
// rate_limited with Retry-After in both dialects, refilled as the clock
// moves; a failover takes from the allowance once.
func TestRateLimitHeadersAndRefill(t *testing.T) {
	clock := newTestClock(time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC))
	second := providertest.NewOpenAI(t)
	h := startGatewayOpts(t, harnessOptions{now: clock.Now, edit: func(c *config.Config) {
		c.Tenants[0].Apps[0].RateLimit = &config.RateLimit{RequestsPerMinute: 3, TokensPerMinute: 100_000}
		ep := c.Endpoints[0]
		ep.Name, ep.BaseURL, ep.Priority = "azure-openai-eu-2", second.URL, 1
		c.Endpoints = append(c.Endpoints, ep)
	}})
	h.Sim.Script(providertest.Behaviour{Status: 503}) // the first request fails over to the second endpoint
	for i, want := range []string{"2", "1", "0"} {
		resp, body := call(t, h, "/v1/chat/completions", okBody, nil)
		if resp.StatusCode != 200 || resp.Header.Get("x-ratelimit-limit-requests") != "3" ||
			resp.Header.Get("x-ratelimit-remaining-requests") != want || resp.Header.Get("x-ratelimit-limit-tokens") != "100000" {
			t.Fatalf("request %d: %d %v %s", i, resp.StatusCode, resp.Header, body)
		}
	}
	if second.Requests() != 1 || h.Sim.Requests() != 3 {
		t.Errorf("attempts %d + %d, want the failover's two and two more", h.Sim.Requests(), second.Requests())
	}
	for _, r := range []struct{ path, body, shape string }{
		{"/v1/chat/completions", okBody, `"code":"rate_limited"`},
		{"/v1/messages", `{"model":"gpt-4o-mini","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}`, `"type":"rate_limit_error"`},
	} {
		resp, body := call(t, h, r.path, r.body, map[string]string{"anthropic-version": "2023-06-01"})
		if resp.StatusCode != 429 || !strings.Contains(body, r.shape) || resp.Header.Get("Retry-After") != "20" ||
			resp.Header.Get("x-ratelimit-remaining-requests") != "0" || resp.Header.Get("x-ratelimit-reset-requests") != "1m0s" {
			t.Errorf("%s over the rate: %d %v %s", r.path, resp.StatusCode, resp.Header, body)
		}
	}
	if n := h.Sim.Requests() + second.Requests(); n != 4 {
		t.Errorf("a refused request reached a provider: %d attempts", n)
	}
	clock.Add(20 * time.Second) // one request's worth refilled
	if resp, body := call(t, h, "/v1/chat/completions", okBody, nil); resp.StatusCode != 200 || resp.Header.Get("x-ratelimit-remaining-requests") != "0" {
		t.Errorf("after 20s: %d %s %v", resp.StatusCode, body, resp.Header)
	}
}

// A postpaid tenant's daily token budget: refused with 429 budget_exceeded
// and a Retry-After until 00:00 UTC, served again after it; its balance
// goes negative by what it owes.
func TestBudgetResetsAtUTCMidnight(t *testing.T) {
	clock := newTestClock(time.Date(2026, 12, 1, 23, 59, 30, 0, time.UTC))
	h := startGatewayOpts(t, harnessOptions{now: clock.Now, edit: func(c *config.Config) {
		c.Tenants[0].Billing = "postpaid"
		c.Accounting.Budgets = []config.Budget{{Tenant: hospital, App: "clinical-assistant", Period: "day", MaxTokens: 1000}}
	}})
	h.Sim.SetDefault(providertest.Behaviour{Reply: strings.Repeat("word ", 200)}) // 17 + 200 tokens each
	body := `{"model":"gpt-4o-mini","max_tokens":250,"messages":[{"role":"user","content":"Write the discharge letter."}]}`
	served := 0
	var resp *http.Response
	var text string
	for served < 10 {
		if resp, text = call(t, h, "/v1/chat/completions", body, nil); resp.StatusCode != 200 {
			break
		}
		served++
	}
	if served != 3 || resp.StatusCode != 429 || !strings.Contains(text, `"code":"budget_exceeded"`) || resp.Header.Get("Retry-After") != "30" {
		t.Fatalf("after %d served: %d %s Retry-After %q", served, resp.StatusCode, text, resp.Header.Get("Retry-After"))
	}
	clock.Set(time.Date(2026, 12, 2, 0, 0, 1, 0, time.UTC))
	if resp, text := call(t, h, "/v1/chat/completions", body, nil); resp.StatusCode != 200 {
		t.Errorf("a new UTC day: %d %s", resp.StatusCode, text)
	}
	recs := h.records(t) // every charge committed
	a, err := h.Ledger.Account(context.Background(), hospital)
	if err != nil || !a.Postpaid || a.Balance >= 0 {
		t.Errorf("postpaid account %+v %v: want a negative balance (owed)", a, err)
	}
	if owed := reconcile(t, h.AuditPath, hospital, recs); owed != -a.Balance {
		t.Errorf("owed %d, balance %d", owed, a.Balance)
	}
}

// Prices through the gateway: the row in force when the request starts
// (a change at 00:00 UTC), cached and reasoning tokens at their own rates,
// and a model without a price refused for a paying tenant before any
// provider call.
func TestPricesThroughTheGateway(t *testing.T) {
	dir := t.TempDir()
	if err := os.CopyFS(dir, policies.FS); err != nil {
		t.Fatal(err)
	}
	table := `{"version":"t1","currency":"USD","price_unit":"micros_per_million_tokens","models":{
	  "gpt-4o-mini":{"max_output_tokens":1000,"effective":[
	    {"from":"2026-01-01","input":1000000,"cached_input":100000,"output":2000000,"reasoning":3000000},
	    {"from":"2027-01-01","input":5000000,"cached_input":500000,"output":6000000,"reasoning":7000000}]}}}`
	if err := os.WriteFile(filepath.Join(dir, "pricing", "data.json"), []byte(table), 0o600); err != nil {
		t.Fatal(err)
	}
	src := policy.FromDir(dir)
	clock := newTestClock(time.Date(2026, 12, 31, 23, 59, 59, 0, time.UTC))
	h := startGatewayOpts(t, harnessOptions{now: clock.Now, src: &src, edit: func(c *config.Config) {
		prepaid(c)
		c.Endpoints[0].Models = append(c.Endpoints[0].Models, "gpt-4o")
	}})
	topUp(t, h, hospital, 10_000_000)
	// gpt-4o has no price in this table. 17 prompt tokens, 5 of them cached; 3 reply tokens and 10 reasoning.
	h.Sim.SetDefault(providertest.Behaviour{Reply: "all is well", Cached: 5, Reasoning: 10})
	costs := []string{}
	for _, at := range []time.Time{clock.Now(), time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)} {
		clock.Set(at)
		resp, body := call(t, h, "/v1/chat/completions", okBody, nil)
		var out struct{ Usage struct{ Cost json.Number } }
		if resp.StatusCode != 200 || json.Unmarshal([]byte(body), &out) != nil {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
		if out.Usage.Cost.String() != strings.TrimSuffix(resp.Header.Get("x-custos-cost"), " USD") {
			t.Errorf("usage.cost %s, header %q", out.Usage.Cost, resp.Header.Get("x-custos-cost"))
		}
		costs = append(costs, resp.Header.Get("x-custos-cost"))
	}
	// (12×1 + 5×0.1 + 3×2 + 10×3) micro-units, then (12×5 + 5×0.5 + 3×6 + 10×7), rounded up.
	if costs[0] != "0.000049 USD" || costs[1] != "0.000151 USD" {
		t.Errorf("costs %v, want 0.000049 then 0.000151 USD", costs)
	}
	resp, body := call(t, h, "/v1/chat/completions", `{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}`, nil)
	if resp.StatusCode != 403 || !strings.Contains(body, `"code":"price_unavailable"`) || h.Sim.Requests() != 2 {
		t.Errorf("unpriced model: %d %s, provider saw %d", resp.StatusCode, body, h.Sim.Requests())
	}
}

// The credit routes: an app reads its balance; finance tops up, reads an
// account and is refused bad amounts, unknown accounts and models; an app
// key cannot top up.
func TestCreditRoutes(t *testing.T) {
	const financeKey = "cst_test_finance_key_0123456789"
	hash, _ := auth.HashKey(financeKey)
	h := startGateway(t, func(c *config.Config) {
		prepaid(c)
		c.Accounting.Finance = []config.Auditor{{ID: "finance-team", Keys: []config.AppKey{{ID: "k_finance", SHA256: hash}}}}
	})
	do := func(method, path, key, body string) (int, string) {
		req, _ := http.NewRequest(method, strings.TrimSuffix(h.URL, "/v1")+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	cases := []struct {
		name, method, path, key, body string
		status                        int
		want                          string
	}{
		{"app reads an empty balance", "GET", "/v1/credits", appKey, "", 200, `"available_micros":0`},
		{"app cannot top up", "POST", "/admin/credits", appKey, `{"account":"st-marys","amount":"5","currency":"USD"}`, 403, "wrong_key_role"},
		{"finance tops up", "POST", "/admin/credits", financeKey, `{"account":"st-marys","amount":"12.50","currency":"USD","reference":"INV-2026-001"}`, 200, `"balance":"12.500000"`},
		{"app sees it", "GET", "/v1/credits", appKey, "", 200, `"available":"12.500000"`},
		{"finance reads the account", "GET", "/admin/credits?account=st-marys", financeKey, "", 200, `"balance_micros":12500000`},
		{"refund beyond the balance", "POST", "/admin/credits", financeKey, `{"op":"refund","account":"st-marys","amount":"-20","currency":"USD"}`, 400, "insufficient credit"},
		{"a fraction of a micro-unit", "POST", "/admin/credits", financeKey, `{"account":"st-marys","amount":"1.0000001","currency":"USD"}`, 400, `"param":"amount"`},
		{"an unknown account", "POST", "/admin/credits", financeKey, `{"account":"elsewhere","amount":"1","currency":"USD"}`, 400, "unknown_account"},
		{"an unknown field", "POST", "/admin/credits", financeKey, `{"account":"st-marys","amount":"1","currency":"USD","note":"x"}`, 400, "invalid_request"},
		{"finance calls no model", "POST", "/v1/chat/completions", financeKey, okBody, 403, "wrong_key_role"},
	}
	for _, c := range cases {
		status, body := do(c.method, c.path, c.key, c.body)
		if status != c.status || !strings.Contains(body, c.want) {
			t.Errorf("%s: %d %s, want %d with %s", c.name, status, body, c.status, c.want)
		}
	}
	recs := h.records(t)
	var credits []audit.Credit
	for _, r := range recs {
		if r.Kind == audit.KindCredit {
			credits = append(credits, *r.Credit)
		}
	}
	if len(credits) != 1 || credits[0].Micros != 12_500_000 || credits[0].Actor != "k_finance" || credits[0].Reference != "INV-2026-001" {
		t.Errorf("credit records %+v", credits)
	}
}

// An endpoint whose own rate-limit headers say it is spent is tried after
// the others until its reset, so traffic moves before it answers 429.
func TestProviderThrottleSteersTraffic(t *testing.T) {
	clock := newTestClock(time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC))
	second := providertest.NewOpenAI(t)
	h := startGatewayOpts(t, harnessOptions{now: clock.Now, edit: func(c *config.Config) {
		ep := c.Endpoints[0]
		ep.Name, ep.BaseURL, ep.Priority = "azure-openai-eu-2", second.URL, 1
		c.Endpoints = append(c.Endpoints, ep)
	}})
	h.Sim.Script(providertest.Behaviour{Header: map[string]string{
		"x-ratelimit-limit-requests": "500", "x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "30s"}})
	for range 3 {
		if resp, body := call(t, h, "/v1/chat/completions", okBody, nil); resp.StatusCode != 200 {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
	}
	if h.Sim.Requests() != 1 || second.Requests() != 2 {
		t.Errorf("while the first endpoint is spent: %d + %d requests, want 1 + 2", h.Sim.Requests(), second.Requests())
	}
	clock.Add(31 * time.Second)
	if resp, _ := call(t, h, "/v1/chat/completions", okBody, nil); resp.StatusCode != 200 || h.Sim.Requests() != 2 {
		t.Errorf("after its reset the first endpoint is preferred again: %d + %d", h.Sim.Requests(), second.Requests())
	}
}
