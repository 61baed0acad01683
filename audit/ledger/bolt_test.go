package ledger_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/custos-gateway/custos/audit"
	"github.com/custos-gateway/custos/audit/ledger"
	"github.com/custos-gateway/custos/audit/ledger/ledgertest"
)

func topUp(t testing.TB, led *ledger.BoltLedger, account string, micros int64) {
	t.Helper()
	if _, err := led.Credit(ctx, audit.Credit{Op: audit.CreditTopUp, Account: account, Micros: micros, Currency: "USD"}); err != nil {
		t.Fatal(err)
	}
}

// spend reserves and settles one request of tenant/app.
func spend(t testing.TB, led *ledger.BoltLedger, id, tenant, app, model string, hold, cost int64) {
	t.Helper()
	h, err := led.Reserve(ctx, ledger.Request{RequestID: id, Tenant: tenant, App: app, KeyID: "key-" + app, Currency: "USD", MaxMicros: hold, MaxTokens: 1000})
	if err != nil {
		t.Fatal(err)
	}
	rec := audit.Record{Kind: audit.KindOutcome, ModelServed: model, Status: 200, Tokens: &audit.Tokens{Prompt: 30, Completion: 12}}
	if err := led.Settle(ctx, h, ledger.Charge{Micros: cost, Currency: "USD", PriceVersion: "p1"}, rec); err != nil {
		t.Fatal(err)
	}
}

func verifyOK(t *testing.T, files ...string) *ledger.Report {
	t.Helper()
	rep, err := ledger.VerifyFiles(files)
	if err != nil || !rep.OK() {
		t.Fatalf("ledger verify: %+v %v", rep.Problem, err)
	}
	arep, err := audit.VerifyFiles(files, audit.VerifyOptions{})
	if err != nil || !arep.Intact() {
		t.Fatalf("audit verify: %+v %v", arep.Problem, err)
	}
	return rep
}

func TestMonthlyRotationCarriesBalances(t *testing.T) {
	clock := ledgertest.NewClock(time.Date(2026, 11, 30, 23, 58, 0, 0, time.UTC))
	dir := t.TempDir()
	base := filepath.Join(dir, "audit.db")
	led, log, err := ledger.OpenBolt(base, audit.Options{RotateMonthly: true, Now: clock.Now}, ledger.Options{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	topUp(t, led, "st-marys", 1_000_000)
	spend(t, led, "n1", "st-marys", "assistant", "gpt-4o", 5000, 1234)
	log.Flush()
	clock.Set(time.Date(2026, 12, 1, 0, 1, 0, 0, time.UTC))
	spend(t, led, "d1", "st-marys", "assistant", "gpt-4o", 5000, 766)
	topUp(t, led, "northbank", 50)
	if err := log.Close(); err != nil {
		t.Fatal(err)
	}
	december := filepath.Join(dir, "audit-2026-12.db")
	rep := verifyOK(t, base, december)
	want := map[string]ledger.Totals{
		"st-marys":  {TopUps: 1_000_000, Charges: 2000, AuditCosts: 2000, Requests: 2, Balance: 998_000, Stored: 998_000},
		"northbank": {TopUps: 50, Charges: 0, Balance: 50, Stored: 50},
	}
	for _, a := range rep.Accounts {
		w := want[a.Account]
		if a.TopUps != w.TopUps || a.Charges != w.Charges || a.AuditCosts != w.AuditCosts || a.Balance != w.Balance || a.Stored != w.Stored {
			t.Errorf("%s: %+v", a.Account, a)
		}
	}
	bal, err := ledger.Balances(december)
	if err != nil || len(bal) != 2 || bal[1].Micros != 998_000 {
		t.Errorf("December's balances %+v %v", bal, err)
	}
	// December alone starts from its opening record.
	alone := verifyOK(t, december)
	if a := alone.Accounts[1]; a.Account != "st-marys" || a.Opening != 998_766 || a.Balance != 998_000 {
		t.Errorf("December alone: %+v", a)
	}
	// A restart, configured with the base path as always, goes on in
	// December's file with December's balances.
	led, log, err = ledger.OpenBolt(base, audit.Options{RotateMonthly: true, Now: clock.Now}, ledger.Options{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	if a, err := led.Account(ctx, "st-marys"); err != nil || a.Balance != 998_000 {
		t.Errorf("after a restart: %+v %v", a, err)
	}
	spend(t, led, "d2", "st-marys", "assistant", "gpt-4o", 5000, 500)
	if err := log.Close(); err != nil {
		t.Fatal(err)
	}
	rep = verifyOK(t, base, december)
	if a := rep.Accounts[1]; a.Account != "st-marys" || a.Balance != 997_500 || a.Stored != 997_500 || a.Requests != 3 {
		t.Errorf("after a restart and a charge: %+v", a)
	}
}

// A restart leaves no reservation behind and rebuilds what budgets have
// spent this period from the journal (and, after a rotation within the
// period, from the opening record).
func TestRestartKeepsBalancesAndSpendButNoHolds(t *testing.T) {
	clock := ledgertest.NewClock(time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC))
	budget := ledger.Budget{Scope: ledger.ScopeApp("st-marys", "assistant"), Period: ledger.Day, MaxMicros: 10_000, Currency: "USD"}
	opts := ledger.Options{Now: clock.Now, Budgets: []ledger.Budget{budget}}
	dir := t.TempDir()
	path, next := filepath.Join(dir, "a.db"), filepath.Join(dir, "b.db")
	led, log, err := ledger.OpenBolt(path, audit.Options{Now: clock.Now}, opts)
	if err != nil {
		t.Fatal(err)
	}
	topUp(t, led, "st-marys", 100_000)
	spend(t, led, "r1", "st-marys", "assistant", "m", 5000, 4000)
	for i := range 3 { // left open by the "crash"
		if _, err := led.Reserve(ctx, ledger.Request{RequestID: fmt.Sprint("open", i), Tenant: "st-marys", App: "assistant", Currency: "USD", MaxMicros: 1000}); err != nil {
			t.Fatal(err)
		}
	}
	if err := log.Rotate(next); err != nil { // within the day: spend is carried
		t.Fatal(err)
	}
	spend(t, led, "r2", "st-marys", "assistant", "m", 2000, 1000)
	log.Close()
	led2, log2, err := ledger.OpenBolt(next, audit.Options{Now: clock.Now}, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer log2.Close()
	a, _ := led2.Account(ctx, "st-marys")
	if a.Balance != 95_000 || a.Reserved != 0 || led2.Stats().Holds != 0 {
		t.Errorf("after restart: %+v, %d holds", a, led2.Stats().Holds)
	}
	var be *ledger.BudgetError
	_, err = led2.Reserve(ctx, ledger.Request{RequestID: "r3", Tenant: "st-marys", App: "assistant", Currency: "USD", MaxMicros: 5001})
	if !errors.As(err, &be) || be.Used != 5000 {
		t.Errorf("the day's spend after restart: %v", err)
	}
	clock.Advance(24 * time.Hour)
	if _, err := led2.Reserve(ctx, ledger.Request{RequestID: "r4", Tenant: "st-marys", App: "assistant", Currency: "USD", MaxMicros: 10_000}); err != nil {
		t.Errorf("next day: %v", err)
	}
	log2.Close()
	verifyOK(t, path, next)
}

// The usage report reconciles with the journal and the audit costs to the
// micro-unit.
func TestUsageReportReconciles(t *testing.T) {
	clock := ledgertest.NewClock(time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC))
	led, log, path := openBolt(t, ledger.Options{Now: clock.Now})
	topUp(t, led, "st-marys", 10_000_000)
	topUp(t, led, "northbank", 10_000_000)
	var total int64
	for i := range 40 {
		tenant, model := []string{"st-marys", "northbank"}[i%2], []string{"gpt-4o", "claude"}[i%3%2]
		cost := int64(1000 + 37*i)
		spend(t, led, fmt.Sprint("u", i), tenant, "app", model, 10_000, cost)
		total += cost
		if i == 19 {
			clock.Advance(24 * time.Hour)
		}
	}
	log.Close()
	rows, err := ledger.UsageReport([]string{path}, audit.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	var cost, charged, requests int64
	for _, r := range rows {
		cost, charged, requests = cost+r.CostMicros, charged+r.ChargedMicros, requests+r.Requests
		if r.PromptTokens != 30*r.Requests || r.CompletionTokens != 12*r.Requests {
			t.Errorf("tokens in %+v", r)
		}
	}
	rep := verifyOK(t, path)
	var journal int64
	for _, a := range rep.Accounts {
		journal += a.Charges
	}
	if len(rows) != 8 || requests != 40 || cost != total || charged != total || journal != total {
		t.Errorf("%d rows, %d requests: report %d, charged %d, journal %d, settled %d", len(rows), requests, cost, charged, journal, total)
	}
	var csvOut, jsonOut bytes.Buffer
	if err := ledger.WriteUsageCSV(&csvOut, rows); err != nil {
		t.Fatal(err)
	}
	lines, err := csv.NewReader(&csvOut).ReadAll()
	if err != nil || len(lines) != 9 || lines[0][11] != "cost_micros" {
		t.Errorf("csv: %d lines, %v", len(lines), err)
	}
	ledger.WriteUsageJSON(&jsonOut, rows)
	var back []ledger.UsageRow
	if err := json.Unmarshal(jsonOut.Bytes(), &back); err != nil || len(back) != 8 || back[0] != rows[0] {
		t.Errorf("json: %v", err)
	}
}

func TestAmounts(t *testing.T) {
	cases := []struct {
		in   string
		want int64
		ok   bool
		out  string
	}{
		{"12", 12_000_000, true, "12.000000"},
		{"12.5", 12_500_000, true, "12.500000"},
		{"0.000001", 1, true, "0.000001"},
		{"-3.25", -3_250_000, true, "-3.250000"},
		{".5", 500_000, true, "0.500000"},
		{"1.0000001", 0, false, ""},
		{"1e3", 0, false, ""},
		{"", 0, false, ""},
		{"--1", 0, false, ""},
		{"1.-5", 0, false, ""},
		{"9223372036854", 0, false, ""},
	}
	for _, c := range cases {
		got, err := ledger.ParseAmount(c.in)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("ParseAmount(%q) = %d, %v", c.in, got, err)
		}
		if c.ok && ledger.FormatAmount(got) != c.out {
			t.Errorf("FormatAmount(%d) = %s, want %s", got, ledger.FormatAmount(got), c.out)
		}
	}
}
