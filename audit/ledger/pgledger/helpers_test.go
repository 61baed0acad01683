package pgledger_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/custos-gateway/custos/audit"
	"github.com/custos-gateway/custos/audit/ledger"
	"github.com/custos-gateway/custos/audit/ledger/pgledger"
	"github.com/custos-gateway/custos/audit/ledger/pgledger/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

var ctx = context.Background()

// replica is one gateway replica's accounting: its pool, its own audit
// log, and the ledger over both.
type replica struct {
	name string
	pool *pgxpool.Pool
	log  *audit.Log
	path string
	led  *pgledger.Ledger
}

func connect(t testing.TB, dsn string, conns int32) *pgxpool.Pool {
	t.Helper()
	pool, err := pgledger.Connect(ctx, dsn, conns, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// openReplica opens a replica on the database dsn; its ledger and log are
// closed when t ends (unless the test closes or kills it first), its pool
// after that.
func openReplica(t testing.TB, dsn, name string, opts pgledger.Options) *replica {
	t.Helper()
	r := &replica{name: name, pool: connect(t, dsn, 8), path: filepath.Join(t.TempDir(), name+".db")}
	var err error
	r.log, err = audit.Open(r.path, audit.Options{Instance: name, Now: opts.Now})
	if err != nil {
		t.Fatal(err)
	}
	opts.Replica = name
	if r.led, err = pgledger.Open(ctx, r.pool, r.log, opts); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.close)
	return r
}

func (r *replica) close() {
	if r.led == nil {
		return
	}
	r.led.Close()
	r.log.Close()
	r.led = nil
}

// records reads back what a live log holds.
func records(t testing.TB, log *audit.Log) []audit.Record {
	t.Helper()
	var buf bytes.Buffer
	if _, err := log.Export(&buf, audit.Filter{}, audit.FormatJSONL); err != nil {
		t.Fatal(err)
	}
	var out []audit.Record
	sc := bufio.NewScanner(&buf)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r audit.Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

// verifyOK checks the database's journal and the replicas' logs: chains
// intact, every balance, hold total and budget spend recomputed, and each
// charge paired with an outcome record of the same cost.
func verifyOK(t testing.TB, pool *pgxpool.Pool, files ...string) *pgledger.Report {
	t.Helper()
	rep, err := pgledger.Verify(ctx, pool)
	if err != nil || !rep.OK() {
		t.Fatalf("ledger verify: %+v %v", rep.Problem, err)
	}
	for _, a := range rep.Accounts {
		if a.Credits-a.Charges != a.Balance || a.Balance != a.Stored {
			t.Errorf("account does not reconcile: %+v", a)
		}
	}
	if len(files) == 0 {
		return rep
	}
	rec, err := pgledger.Reconcile(ctx, pool, files, pgledger.ReconcileOptions{})
	if err != nil || !rec.OK() {
		t.Fatalf("reconcile: %+v %v", rec, err)
	}
	arep, err := audit.VerifyFiles(files, audit.VerifyOptions{})
	if err != nil || arep.Problem != nil {
		for _, f := range files {
			one, err := audit.Verify(f, audit.VerifyOptions{})
			if err != nil || !one.Intact() {
				t.Fatalf("audit verify %s: %+v %v", f, one.Problem, err)
			}
		}
	}
	return rep
}

func topUp(t testing.TB, l ledger.Ledger, account string, micros int64) {
	t.Helper()
	if _, err := l.Credit(ctx, audit.Credit{Op: audit.CreditTopUp, Account: account, Micros: micros, Currency: "USD", Reference: "inv-1"}); err != nil {
		t.Fatal(err)
	}
}

func request(id string, micros int64) ledger.Request {
	return ledger.Request{RequestID: id, Tenant: "st-marys", App: "assistant", KeyID: "k1", Currency: "USD", MaxMicros: micros, MaxTokens: 100}
}

func outcome(tokens int64) audit.Record {
	return audit.Record{Kind: audit.KindOutcome, Status: 200, Tokens: &audit.Tokens{Prompt: tokens / 2, Completion: tokens - tokens/2}}
}

func id(prefix string, i int) string { return fmt.Sprintf("%s%04d", prefix, i) }
