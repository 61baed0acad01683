package ledger_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/custos-gateway/custos/audit"
	"github.com/custos-gateway/custos/audit/ledger"
	"github.com/custos-gateway/custos/audit/ledger/ledgertest"
)

var ctx = context.Background()

// openBolt opens a BoltLedger in a fresh file; the log shares the clock.
func openBolt(t testing.TB, opts ledger.Options) (*ledger.BoltLedger, *audit.Log, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "audit.db")
	led, log, err := ledger.OpenBolt(path, audit.Options{Instance: "gw-1", Now: opts.Now}, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { log.Close() })
	return led, log, path
}

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

// The bbolt ledger has the semantics every backend must have, and after
// each part of the suite its file verifies and reconciles.
func TestBoltLedgerSemantics(t *testing.T) {
	ledgertest.Run(t, func(t *testing.T, opts ledger.Options) ledgertest.Fixture {
		led, log, path := openBolt(t, opts)
		t.Cleanup(func() {
			if err := log.Close(); err != nil {
				t.Error(err)
			}
			rep, err := ledger.VerifyFiles([]string{path})
			if err != nil || !rep.OK() {
				t.Errorf("journal after the test: %+v %v", rep.Problem, err)
			}
			for _, a := range rep.Accounts {
				if a.Charges != a.AuditCosts || a.Opening+a.Credits-a.Charges != a.Balance || a.Balance != a.Stored {
					t.Errorf("account does not reconcile: %+v", a)
				}
			}
		})
		return ledgertest.Fixture{Ledger: led, Flush: log.Flush, Records: func() []audit.Record { return records(t, log) }}
	})
}
