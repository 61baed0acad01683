package main

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/custos-gateway/custos/audit"
	"github.com/custos-gateway/custos/audit/ledger"
)

// TestCreditCommands tops up offline, lets requests be charged, and reads
// balances, history, verification and the usage report back.
func TestCreditCommands(t *testing.T) {
	bin := buildCustos(t)
	dir := t.TempDir()
	db, key := filepath.Join(dir, "audit.db"), filepath.Join(dir, "signing.pem")
	if out, code := run(t, bin, "audit", "keygen", "--out", key); code != 0 {
		t.Fatal(out)
	}
	if out, code := run(t, bin, "credit", "topup", "--db", db, "--account", "st-marys", "--amount", "12.5", "--reference", "inv-2026-001", "--signing-key", key); code != 0 || !strings.Contains(out, "st-marys: balance 12.500000 USD") {
		t.Fatalf("topup: %d %s", code, out)
	}
	if out, code := run(t, bin, "credit", "topup", "--db", db, "--account", "st-marys", "--amount", "0.1234567", "--signing-key", key); code == 0 {
		t.Errorf("an amount finer than a micro-unit was accepted: %s", out)
	}
	charged := chargeRequests(t, db, key, 5)

	cases := []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"balance", []string{"credit", "balance", "--db", db}, 0, []string{"st-marys", ledger.FormatAmount(12_500_000 - charged), "USD"}},
		{"history", []string{"credit", "history", "--db", db, "--account", "st-marys"}, 0, []string{"topup", "charge", "req-4"}},
		{"verify", []string{"credit", "verify", "--db", db, "--pubkey", key + ".pub"}, 0, []string{"audit log: intact", "journal reconciles", ledger.FormatAmount(charged)}},
		{"usage report", []string{"usage", "report", "--db", db, "--format", "csv"}, 0, []string{"cost_micros", "st-marys,assistant,gpt-4o,USD,5"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, code := run(t, bin, tc.args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d:\n%s", code, tc.code, out)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}

	out, _ := run(t, bin, "usage", "report", "--db", db, "--format", "json")
	var rows []ledger.UsageRow
	if err := json.Unmarshal([]byte(out), &rows); err != nil || len(rows) != 1 || rows[0].CostMicros != charged || rows[0].ChargedMicros != charged {
		t.Errorf("usage report %+v (%v) does not reconcile with %d charged", rows, err, charged)
	}

	// A balance raised behind the journal's back is found.
	bdb, err := bolt.Open(db, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	bdb.Update(func(tx *bolt.Tx) error {
		v := append([]byte{}, tx.Bucket([]byte("accounts")).Get([]byte("st-marys"))...)
		v[4] ^= 0x40
		return tx.Bucket([]byte("accounts")).Put([]byte("st-marys"), v)
	})
	bdb.Close()
	if out, code := run(t, bin, "credit", "verify", "--db", db, "--pubkey", key+".pub"); code != 1 || !strings.Contains(out, "JOURNAL DOES NOT RECONCILE") {
		t.Errorf("tampered balance: exit %d\n%s", code, out)
	}
}

// chargeRequests settles n requests in the file, as the gateway would, and
// returns what they were charged.
func chargeRequests(t *testing.T, db, key string, n int) int64 {
	t.Helper()
	signer, err := audit.LoadSigner(key)
	if err != nil {
		t.Fatal(err)
	}
	led, log, err := ledger.OpenBolt(db, audit.Options{Signer: signer}, ledger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	ctx := context.Background()
	var total int64
	for i := range n {
		id := fmt.Sprint("req-", i)
		h, err := led.Reserve(ctx, ledger.Request{RequestID: id, Tenant: "st-marys", App: "assistant", Currency: "USD", MaxMicros: 100_000})
		if err != nil {
			t.Fatal(err)
		}
		rc, err := log.Append(ctx, audit.Record{Kind: audit.KindIntent, RequestID: id, Tenant: "st-marys", App: "assistant"})
		if err != nil {
			t.Fatal(err)
		}
		cost := int64(12_345 * (i + 1))
		out := audit.Record{Kind: audit.KindOutcome, IntentSeq: rc.Seq, ModelServed: "gpt-4o", Tokens: &audit.Tokens{Prompt: 100, Completion: 20}}
		if err := led.Settle(ctx, h, ledger.Charge{Micros: cost, Currency: "USD", PriceVersion: "p1"}, out); err != nil {
			t.Fatal(err)
		}
		total += cost
	}
	return total
}

// A log a server holds cannot be topped up offline.
func TestCreditTopupRefusesAHeldFile(t *testing.T) {
	bin := buildCustos(t)
	dir := t.TempDir()
	db, key := filepath.Join(dir, "audit.db"), filepath.Join(dir, "signing.pem")
	run(t, bin, "audit", "keygen", "--out", key)
	log, err := audit.Open(db, audit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	out, code := run(t, bin, "credit", "topup", "--db", db, "--account", "st-marys", "--amount", "1", "--signing-key", key)
	if code == 0 || !strings.Contains(out, "a running gateway holds the file") {
		t.Errorf("exit %d: %s", code, out)
	}
}

// A file monthly rotation continued cannot be topped up: the record would
// fork the chain and the balances. The newest file can.
func TestCreditTopupRefusesARotatedFile(t *testing.T) {
	bin := buildCustos(t)
	dir := t.TempDir()
	db, key := filepath.Join(dir, "audit.db"), filepath.Join(dir, "signing.pem")
	run(t, bin, "audit", "keygen", "--out", key)
	now := time.Date(2026, 11, 30, 23, 59, 0, 0, time.UTC)
	log, err := audit.Open(db, audit.Options{RotateMonthly: true, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	now = now.Add(2 * time.Minute)
	if _, err := log.Append(context.Background(), audit.Record{Kind: audit.KindIntent, RequestID: "r1"}); err != nil {
		t.Fatal(err)
	}
	if err := log.Close(); err != nil {
		t.Fatal(err)
	}
	december := filepath.Join(dir, "audit-2026-12.db")
	out, code := run(t, bin, "credit", "topup", "--db", db, "--account", "st-marys", "--amount", "1", "--signing-key", key)
	if code == 0 || !strings.Contains(out, "continued in "+december) {
		t.Errorf("base file: exit %d: %s", code, out)
	}
	now = now.AddDate(0, 1, 0) // January: December is continued too
	log, err = audit.Open(db, audit.Options{RotateMonthly: true, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := log.Append(context.Background(), audit.Record{Kind: audit.KindIntent, RequestID: "r2"}); err != nil {
		t.Fatal(err)
	}
	if err := log.Close(); err != nil {
		t.Fatal(err)
	}
	january := filepath.Join(dir, "audit-2027-01.db")
	out, code = run(t, bin, "credit", "topup", "--db", december, "--account", "st-marys", "--amount", "1", "--signing-key", key)
	if code == 0 || !strings.Contains(out, "continued in "+january) {
		t.Errorf("a middle file: exit %d: %s", code, out)
	}
	out, code = run(t, bin, "credit", "topup", "--db", january, "--account", "st-marys", "--amount", "1", "--signing-key", key)
	if code != 0 || !strings.Contains(out, "st-marys: balance 1.000000 USD") {
		t.Errorf("newest file: exit %d: %s", code, out)
	}
}
