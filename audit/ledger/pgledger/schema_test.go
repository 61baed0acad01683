package pgledger_test

import (
	"errors"
	"path/filepath"
	"sync"
	"testing"

	"github.com/custos-gateway/custos/audit"
	"github.com/custos-gateway/custos/audit/ledger/pgledger"
	"github.com/custos-gateway/custos/audit/ledger/pgledger/migrate"
	"github.com/custos-gateway/custos/audit/ledger/pgledger/pgtest"
)

// Migrations run at every start, once: replicas starting together apply
// them once, a second run changes nothing, and a database migrated by a
// newer binary (or whose applied migrations differ) is refused.
func TestMigrations(t *testing.T) {
	dsn := pgtest.Shared(t).Database(t)
	pool := connect(t, dsn, 4)
	var wg sync.WaitGroup
	versions := make([]int, 3)
	errs := make([]error, 3)
	for i := range 3 { // three replicas starting at once
		wg.Add(1)
		go func() { defer wg.Done(); versions[i], errs[i] = pgledger.Migrate(ctx, pool) }()
	}
	wg.Wait()
	for i := range 3 {
		if errs[i] != nil || versions[i] != 1 {
			t.Fatalf("replica %d: version %d, %v", i, versions[i], errs[i])
		}
	}
	var tables, history int
	count := `SELECT (SELECT count(*) FROM pg_tables WHERE schemaname = 'public'), (SELECT count(*) FROM custos_schema_history)`
	if err := pool.QueryRow(ctx, count).Scan(&tables, &history); err != nil || history != 1 {
		t.Fatalf("%d tables, %d migrations recorded, %v", tables, history, err)
	}
	if v, err := pgledger.Migrate(ctx, pool); err != nil || v != 1 {
		t.Fatalf("second run: %d %v", v, err)
	}
	var tables2, history2 int
	pool.QueryRow(ctx, count).Scan(&tables2, &history2)
	if tables2 != tables || history2 != history {
		t.Errorf("a second run changed the schema: %d → %d tables, %d → %d migrations", tables, tables2, history, history2)
	}
	cases := []struct {
		name, tamper, undo string
		want               error
	}{
		{"newer schema", `UPDATE custos_schema SET version = 2 WHERE component = 'ledger'`,
			`UPDATE custos_schema SET version = 1 WHERE component = 'ledger'`, migrate.ErrNewerSchema},
		{"different migration applied", `UPDATE custos_schema_history SET sha256 = '\x00' WHERE component = 'ledger'`, "", migrate.ErrMismatch},
	}
	log, err := audit.Open(filepath.Join(t.TempDir(), "a.db"), audit.Options{Instance: "gw-1"})
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	for _, c := range cases {
		if _, err := pool.Exec(ctx, c.tamper); err != nil {
			t.Fatal(err)
		}
		l, err := pgledger.Open(ctx, pool, log, pgledger.Options{Replica: "gw-1"})
		if !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
		if l != nil {
			l.Close()
		}
		if c.undo != "" {
			pool.Exec(ctx, c.undo)
		}
	}
	var v int
	if err := pool.QueryRow(ctx, `SELECT version FROM custos_schema WHERE component = 'ledger'`).Scan(&v); err != nil || v != 1 {
		t.Errorf("a refused start changed the version: %d %v", v, err)
	}
}
