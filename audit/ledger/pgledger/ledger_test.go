package pgledger_test

import (
	"testing"

	"github.com/custos-gateway/custos/audit"
	"github.com/custos-gateway/custos/audit/ledger"
	"github.com/custos-gateway/custos/audit/ledger/ledgertest"
	"github.com/custos-gateway/custos/audit/ledger/pgledger"
	"github.com/custos-gateway/custos/audit/ledger/pgledger/pgtest"
)

// The PostgreSQL ledger has the semantics every backend must have, and
// after each part of the suite the journal verifies and reconciles with
// the audit log.
func TestPostgresLedgerSemantics(t *testing.T) {
	ledgertest.Run(t, func(t *testing.T, opts ledger.Options) ledgertest.Fixture {
		dsn := pgtest.Shared(t).Database(t)
		r := openReplica(t, dsn, "gw-1", pgledger.Options{Options: opts})
		t.Cleanup(func() {
			r.close()
			verifyOK(t, r.pool, r.path)
		})
		return ledgertest.Fixture{Ledger: r.led, Flush: r.log.Flush, Records: func() []audit.Record { return records(t, r.log) }}
	})
}
