package pgtest

import (
	"context"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) { Main(m) }

func query(t *testing.T, dsn, sql string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return "", err
	}
	defer conn.Close(ctx)
	var s string
	err = conn.QueryRow(ctx, sql).Scan(&s)
	return s, err
}

// Each test gets its own empty database on the shared cluster, on
// loopback, with fsync on and a server that does not run as root.
func TestDatabases(t *testing.T) {
	c := Shared(t)
	a, b := c.Database(t), c.Database(t)
	if a == b {
		t.Fatal("two tests share a database")
	}
	cases := []struct{ sql, want string }{
		{"SHOW fsync", "on"},
		{"SHOW listen_addresses", "127.0.0.1"},
		{"SELECT count(*)::text FROM pg_tables WHERE schemaname = 'public'", "0"},
		{"SELECT (NOT rolsuper OR current_user = 'postgres')::text FROM pg_roles WHERE rolname = current_user", "true"},
	}
	for _, k := range cases {
		got, err := query(t, a, k.sql)
		if err != nil || got != k.want {
			t.Errorf("%s: %q %v, want %q", k.sql, got, err, k.want)
		}
	}
	if _, err := query(t, b, "CREATE TABLE only_in_b (x int) "); err == nil || err.Error() != "no rows in result set" {
		t.Fatalf("create: %v", err)
	}
	if got, _ := query(t, a, "SELECT count(*)::text FROM pg_tables WHERE tablename = 'only_in_b'"); got != "0" {
		t.Error("a table of one database is visible in another")
	}
	if os.Geteuid() == 0 { // the server runs as nobody, never as root
		st, err := os.Stat(c.dir + "/data")
		if err != nil {
			t.Fatal(err)
		}
		if owner := st.Sys().(*syscall.Stat_t).Uid; owner == 0 || owner != c.cred.Uid {
			t.Errorf("data directory owned by uid %d, want %d", owner, c.cred.Uid)
		}
	}
}

// Stop refuses connections until Resume; the data survives.
func TestStopResume(t *testing.T) {
	c, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	dsn := c.DSN("postgres")
	if _, err := query(t, dsn, "CREATE TABLE kept (x int) "); err == nil || err.Error() != "no rows in result set" {
		t.Fatal(err)
	}
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := query(t, dsn, "SELECT 'up'"); err == nil {
		t.Fatal("a stopped server answered")
	}
	if err := c.Resume(); err != nil {
		t.Fatal(err)
	}
	if got, err := query(t, dsn, "SELECT count(*)::text FROM pg_tables WHERE tablename = 'kept'"); err != nil || got != "1" {
		t.Errorf("after restart: %q %v", got, err)
	}
}
