package migrate

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

var (
	// ErrNewerSchema: the database was migrated by a newer binary.
	ErrNewerSchema = errors.New("migrate: the database schema is newer than this binary")
	// ErrMismatch: a migration applied to the database is not the one
	// this binary carries under that version.
	ErrMismatch = errors.New("migrate: applied migration differs from this binary's")
	// ErrFiles: the embedded migrations are misnamed or not numbered 1..n.
	ErrFiles = errors.New("migrate: bad migration files")
)

// Beginner starts transactions (*pgxpool.Pool, *pgx.Conn).
type Beginner interface {
	Begin(ctx context.Context) (pgx.Tx, error)
}

// File is one migration.
type File struct {
	Version int
	Name    string
	SQL     string
	Sum     [32]byte
}

// Load reads the *.sql files of dir in fsys, numbered 1..n without gaps.
func Load(fsys fs.FS, dir string) ([]File, error) {
	names, err := fs.Glob(fsys, path.Join(dir, "*.sql"))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFiles, err)
	}
	var files []File
	for _, name := range names {
		base := path.Base(name)
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("%w: %s is not NNNN_description.sql", ErrFiles, base)
		}
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrFiles, err)
		}
		files = append(files, File{Version: v, Name: base, SQL: string(b), Sum: sha256.Sum256(b)})
	}
	sort.Slice(files, func(i, j int) bool { return files[i].Version < files[j].Version })
	for i, f := range files {
		if f.Version != i+1 {
			return nil, fmt.Errorf("%w: expected version %d, found %s", ErrFiles, i+1, f.Name)
		}
	}
	return files, nil
}

const bootstrap = `
CREATE TABLE IF NOT EXISTS custos_schema (
	component text PRIMARY KEY,
	version   integer NOT NULL
);
CREATE TABLE IF NOT EXISTS custos_schema_history (
	component  text NOT NULL,
	version    integer NOT NULL,
	name       text NOT NULL,
	sha256     bytea NOT NULL,
	applied_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (component, version)
)`

// Run brings component's schema up to the last of files and returns the
// version the database is at. It refuses a newer schema (ErrNewerSchema)
// and applied migrations that differ from files (ErrMismatch), changing
// nothing.
func Run(ctx context.Context, db Beginner, component string, files []File) (int, error) {
	tx, err := db.Begin(ctx)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback(ctx)
	h := fnv.New64a()
	h.Write([]byte("custos_schema:" + component))
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", int64(h.Sum64())); err != nil {
		return 0, err
	}
	if _, err := tx.Exec(ctx, bootstrap); err != nil {
		return 0, err
	}
	current, err := check(ctx, tx, component, files)
	if err != nil {
		return current, err
	}
	for _, f := range files[current:] {
		if _, err := tx.Exec(ctx, f.SQL); err != nil {
			return current, fmt.Errorf("migrate: %s %s: %w", component, f.Name, err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO custos_schema_history (component, version, name, sha256) VALUES ($1, $2, $3, $4)`,
			component, f.Version, f.Name, f.Sum[:]); err != nil {
			return current, err
		}
	}
	if _, err := tx.Exec(ctx, `INSERT INTO custos_schema (component, version) VALUES ($1, $2)
		ON CONFLICT (component) DO UPDATE SET version = EXCLUDED.version`, component, len(files)); err != nil {
		return current, err
	}
	if err := tx.Commit(ctx); err != nil {
		return current, err
	}
	return len(files), nil
}

// check reads the version the database is at and compares what it applied
// with files.
func check(ctx context.Context, tx pgx.Tx, component string, files []File) (int, error) {
	var current int
	err := tx.QueryRow(ctx, `SELECT version FROM custos_schema WHERE component = $1`, component).Scan(&current)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return 0, err
	}
	if current > len(files) {
		return current, fmt.Errorf("%w: %s is at version %d, this binary knows %d: upgrade the binary", ErrNewerSchema, component, current, len(files))
	}
	rows, err := tx.Query(ctx, `SELECT version, sha256 FROM custos_schema_history WHERE component = $1 ORDER BY version`, component)
	if err != nil {
		return current, err
	}
	applied := map[int][]byte{}
	var v int
	var sum []byte
	_, err = pgx.ForEachRow(rows, []any{&v, &sum}, func() error { applied[v] = sum; return nil })
	if err != nil {
		return current, err
	}
	for _, f := range files[:current] {
		if got, ok := applied[f.Version]; !ok || string(got) != string(f.Sum[:]) {
			return current, fmt.Errorf("%w: %s version %d (%s)", ErrMismatch, component, f.Version, f.Name)
		}
	}
	return current, nil
}

// Version reads the version component's schema is at (0: none).
func Version(ctx context.Context, db interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}, component string) (int, error) {
	var v int
	err := db.QueryRow(ctx, `SELECT version FROM custos_schema WHERE component = $1`, component).Scan(&v)
	var pe interface{ SQLState() string }
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return 0, nil
	case errors.As(err, &pe) && pe.SQLState() == "42P01": // no custos_schema table yet
		return 0, nil
	}
	return v, err
}
