package pgledger_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/custos-gateway/custos/audit"
	"github.com/custos-gateway/custos/audit/ledger"
	"github.com/custos-gateway/custos/audit/ledger/ledgertest"
	"github.com/custos-gateway/custos/audit/ledger/pgledger"
	"github.com/custos-gateway/custos/audit/ledger/pgledger/pgtest"
)

var budgets = []ledger.Budget{
	{Scope: ledger.ScopeApp("st-marys", "assistant"), Period: ledger.Day, MaxMicros: 1_000_000, Currency: "USD"},
	{Scope: ledger.ScopeKey("k1"), Period: ledger.Month, MaxTokens: 1_000_000},
}

// history writes a little of everything: credits to two tenants, charges
// (one request id not ASCII), a release, and a hold left open.
func history(t *testing.T) (string, *replica) {
	clock := ledgertest.NewClock(ledgertest.Start)
	dsn := pgtest.Shared(t).Database(t)
	r := openReplica(t, dsn, "gw-1", pgledger.Options{Options: ledger.Options{Now: clock.Now, Budgets: budgets}})
	topUp(t, r.led, "st-marys", 100_000)
	topUp(t, r.led, "northbank", 5_000)
	for i, rid := range []string{"r1", "r2", "réq-ü-3"} {
		h, err := r.led.Reserve(ctx, request(rid, 10_000))
		if err != nil {
			t.Fatal(err)
		}
		if err := r.led.Settle(ctx, h, ledger.Charge{Micros: int64(1000 * (i + 1)), Currency: "USD", PriceVersion: "p1", Estimated: i == 1}, outcome(40)); err != nil {
			t.Fatal(err)
		}
	}
	h, _ := r.led.Reserve(ctx, request("released", 500))
	r.led.Release(ctx, h)
	if _, err := r.led.Reserve(ctx, request("open", 700)); err != nil {
		t.Fatal(err)
	}
	if _, err := r.led.Credit(ctx, audit.Credit{Op: audit.CreditRefund, Account: "northbank", Micros: -1000, Currency: "USD", Reference: "ticket#7", Actor: "finance"}); err != nil {
		t.Fatal(err)
	}
	return dsn, r
}

// Verify finds every kind of tampering an owner of the database could do
// past the append-only trigger.
func TestVerifyFindsTampering(t *testing.T) {
	cases := []struct {
		name, sql string
		kind      string
	}{
		{"a charge's amount changed, balance kept consistent",
			`UPDATE ledger_journal SET micros = micros + 1, balance = balance + 1 WHERE request_id = 'r2'`, pgledger.ProblemChain},
		{"an entry's replica changed", `UPDATE ledger_journal SET replica = 'gw-9' WHERE request_id = 'r1'`, pgledger.ProblemChain},
		{"the last entry deleted", `DELETE FROM ledger_journal WHERE tenant = 'st-marys' AND seq = (SELECT max(seq) FROM ledger_journal WHERE tenant = 'st-marys')`, pgledger.ProblemChain},
		{"an entry deleted and the head rewound with it",
			`DELETE FROM ledger_journal WHERE tenant = 'st-marys' AND seq = (SELECT max(seq) FROM ledger_journal WHERE tenant = 'st-marys');
			 UPDATE ledger_chains c SET seq = j.seq, head = j.hash FROM ledger_journal j
			 WHERE c.tenant = 'st-marys' AND j.tenant = 'st-marys' AND j.seq = (SELECT max(seq) FROM ledger_journal WHERE tenant = 'st-marys')`, pgledger.ProblemBalance},
		{"a stored balance changed", `UPDATE ledger_accounts SET balance = balance + 1 WHERE name = 'northbank'`, pgledger.ProblemBalance},
		{"a reservation dropped from the total", `UPDATE ledger_accounts SET reserved = reserved - 700 WHERE name = 'st-marys'`, pgledger.ProblemReserved},
		{"budget spend lowered", `UPDATE ledger_spend SET micros = micros - 1 WHERE key LIKE 'app:%'`, pgledger.ProblemSpend},
		{"budget hold dropped", `UPDATE ledger_spend SET held_tokens = 0 WHERE key LIKE 'key:%'`, pgledger.ProblemSpend},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, r := history(t)
			verifyOK(t, r.pool)
			sql := `ALTER TABLE ledger_journal DISABLE TRIGGER USER; ` + c.sql + `; ALTER TABLE ledger_journal ENABLE TRIGGER USER`
			if _, err := r.pool.Exec(ctx, sql); err != nil {
				t.Fatal(err)
			}
			rep, err := pgledger.Verify(ctx, r.pool)
			if err != nil || rep.OK() || rep.Problem.Kind != c.kind {
				t.Errorf("Verify after tampering: %+v %v, want a %s problem", rep.Problem, err, c.kind)
			}
		})
	}
}

// The journal refuses updates, deletes and truncation.
func TestJournalIsAppendOnly(t *testing.T) {
	_, r := history(t)
	for _, sql := range []string{
		`UPDATE ledger_journal SET micros = 0`,
		`DELETE FROM ledger_journal WHERE request_id = 'r1'`,
		`TRUNCATE ledger_journal`,
	} {
		if _, err := r.pool.Exec(ctx, sql); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: %v", sql, err)
		}
	}
	verifyOK(t, r.pool)
}

// An exported journal verifies offline, to the same chain heads; an edited
// export does not.
func TestJournalVerifiesOffline(t *testing.T) {
	_, r := history(t)
	online := verifyOK(t, r.pool)
	var buf bytes.Buffer
	n, err := pgledger.ExportJournal(ctx, r.pool, &buf)
	if err != nil || int64(n) != online.Entries {
		t.Fatalf("exported %d of %d entries: %v", n, online.Entries, err)
	}
	drop := func(i int) func(string) string {
		return func(s string) string {
			lines := strings.SplitAfter(s, "\n")
			return strings.Join(append(lines[:i:i], lines[i+1:]...), "")
		}
	}
	cases := []struct {
		name      string
		edit      func(string) string
		ok, heads bool // verifies; ends at the database's heads
	}{
		{"as exported", func(s string) string { return s }, true, true},
		{"an amount edited", func(s string) string { return strings.Replace(s, `"micros":-2000,`, `"micros":-20,`, 1) }, false, false},
		{"an entry inside a chain dropped", drop(3), false, false},
		{"the last entry of a chain dropped: only the heads tell", drop(1), true, false},
	}
	for _, c := range cases {
		edited := c.edit(buf.String())
		if c.name != "as exported" && edited == buf.String() {
			t.Fatalf("%s: the edit changed nothing", c.name)
		}
		rep, err := pgledger.VerifyJournal(strings.NewReader(edited))
		if err != nil || rep.OK() != c.ok {
			t.Errorf("%s: %+v %v", c.name, rep.Problem, err)
			continue
		}
		same := len(rep.Heads) == len(online.Heads)
		for i := 0; same && i < len(rep.Heads); i++ {
			same = rep.Heads[i] == online.Heads[i]
		}
		if c.ok && same != c.heads {
			t.Errorf("%s: offline heads %+v, online %+v", c.name, rep.Heads, online.Heads)
		}
	}
}

// A hold lost with a PostgreSQL crash (an asynchronous reservation the
// crash undid) is still charged when its request settles: a request served
// is paid for. A hold the ledger never issued is not.
func TestLostHoldIsCharged(t *testing.T) {
	_, r := history(t)
	h, err := r.led.Reserve(ctx, request("lost", 9000))
	if err != nil {
		t.Fatal(err)
	}
	before, _ := r.led.Account(ctx, "st-marys")
	// What crash recovery leaves when the reservation's commit was lost.
	_, err = r.pool.Exec(ctx, `DELETE FROM ledger_holds WHERE request_id = 'lost';
		UPDATE ledger_accounts SET reserved = reserved - 9000 WHERE name = 'st-marys';
		UPDATE ledger_spend SET held_micros = held_micros - 9000, held_tokens = held_tokens - 100 WHERE key LIKE 'app:%' OR key LIKE 'key:%'`)
	if err != nil {
		t.Fatal(err)
	}
	verifyOK(t, r.pool)
	if err := r.led.Settle(ctx, h, ledger.Charge{Micros: 4321, Currency: "USD"}, outcome(10)); err != nil {
		t.Fatalf("settling a lost hold: %v", err)
	}
	after, _ := r.led.Account(ctx, "st-marys")
	if after.Balance != before.Balance-4321 || after.Reserved != before.Reserved-9000 {
		t.Errorf("before %+v, after %+v", before, after)
	}
	if err := r.led.Settle(ctx, h, ledger.Charge{Micros: 4321, Currency: "USD"}, outcome(10)); !errors.Is(err, ledger.ErrSettled) {
		t.Errorf("second settlement of the lost hold: %v", err)
	}
	forged := h
	forged.RequestID, forged.Account = "never-reserved", ""
	if err := r.led.Settle(ctx, forged, ledger.Charge{Micros: 1, Currency: "USD"}, outcome(1)); !errors.Is(err, ledger.ErrUnknownHold) {
		t.Errorf("a hold never issued: %v", err)
	}
	r.close()
	verifyOK(t, r.pool, r.path)
}

// A crash between the two writes of a settlement is found: a charge whose
// outcome record never reached the disk is listed as missing its outcome;
// an outcome whose charge PostgreSQL never took (it was unreachable) is
// listed as uncharged, and Resettle charges it, once.
func TestReconcileFindsEitherHalf(t *testing.T) {
	clock := ledgertest.NewClock(ledgertest.Start)
	dsn := pgtest.Shared(t).Database(t)
	opts := pgledger.Options{Options: ledger.Options{Now: clock.Now}}
	a := openReplica(t, dsn, "gw-a", opts)
	b := openReplica(t, dsn, "gw-b", opts)
	topUp(t, a.led, "st-marys", 100_000)
	settleOne(t, a, "charged-then-crashed", 1111)
	snapshot := filepath.Join(t.TempDir(), "gw-a-at-the-crash.db")
	copyFile(t, a.path, snapshot) // what the disk held: the outcome is still queued
	h, err := b.led.Reserve(ctx, request("charge-lost", 5000))
	if err != nil {
		t.Fatal(err)
	}
	b.pool.Close() // PostgreSQL unreachable from gw-b
	if err := b.led.Settle(ctx, h, ledger.Charge{Micros: 2222, Currency: "USD"}, outcome(5)); !errors.Is(err, ledger.ErrUnavailable) {
		t.Fatalf("settling without PostgreSQL: %v", err)
	}
	if left := b.led.Close(); left != 1 { // gw-b stops before it can retry
		t.Fatalf("%d settlements left queued, want 1", left)
	}
	b.log.Close()
	rec, err := pgledger.Reconcile(ctx, a.pool, []string{snapshot, b.path}, pgledger.ReconcileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rec.OK() || len(rec.MissingOutcome) != 1 || rec.MissingOutcome[0].RequestID != "charged-then-crashed" ||
		len(rec.Uncharged) != 1 || rec.Uncharged[0].RequestID != "charge-lost" || len(rec.Different) != 0 {
		t.Fatalf("reconciliation: %+v", rec)
	}
	for i, want := range []pgledger.Resettled{{Charged: 1}, {Already: 1}} {
		got, err := a.led.Resettle(ctx, rec.Uncharged)
		if err != nil || got != want {
			t.Errorf("resettle %d: %+v %v, want %+v", i, got, err, want)
		}
	}
	a.close()
	verifyOK(t, a.pool, a.path, b.path)
}

func settleOne(t *testing.T, r *replica, rid string, cost int64) {
	t.Helper()
	h, err := r.led.Reserve(ctx, request(rid, 5000))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.log.Append(ctx, audit.Record{Kind: audit.KindIntent, RequestID: rid, Tenant: "st-marys"}); err != nil {
		t.Fatal(err)
	}
	if err := r.led.Settle(ctx, h, ledger.Charge{Micros: cost, Currency: "USD"}, outcome(5)); err != nil {
		t.Fatal(err)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	src, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := os.Create(to)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
}
