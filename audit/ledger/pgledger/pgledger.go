package pgledger

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/custos-gateway/custos/audit"
	"github.com/custos-gateway/custos/audit/ledger"
	"github.com/custos-gateway/custos/audit/ledger/pgledger/migrate"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Component names the ledger's schema in custos_schema.
const Component = "ledger"

// Defaults.
const (
	DefaultTimeout    = 2 * time.Second
	DefaultRetryEvery = 5 * time.Second
	DefaultMaxQueued  = 100_000
)

// Options tune a Ledger. The embedded ledger.Options (HoldTTL, Budgets,
// Postpaid, Now) mean what they mean for the bbolt ledger and must be the
// same on every replica.
type Options struct {
	ledger.Options
	// Replica names this replica in holds and journal entries: the audit
	// log's Instance, so that Reconcile can pair them. Required.
	Replica string
	// Timeout bounds each call, connection included (DefaultTimeout).
	Timeout time.Duration
	// Retention is how long a hold is remembered after it was made (at
	// least, and by default, twice HoldTTL, as the bbolt ledger does):
	// within it a Settle after a Release is ErrSettled, a late Settle is
	// charged, and the request id cannot reserve again. A request charged
	// is ErrSettled for ever (the journal keeps it).
	Retention time.Duration
	// DurableHolds commits reservations and releases synchronously. By
	// default they commit asynchronously (no disk flush waited for): a
	// PostgreSQL crash may lose the last fraction of a second of them,
	// which gives their credit back, as a restart does for the bbolt
	// ledger; a lost hold's Settle still charges (see Settle). Charges and
	// credits are always durable before they return.
	DurableHolds bool
	// RetryEvery is how often settlements PostgreSQL could not take are
	// retried (DefaultRetryEvery); MaxQueued bounds them (DefaultMaxQueued;
	// beyond it they wait for Resettle).
	RetryEvery time.Duration
	MaxQueued  int
	// NoLog opens the ledger for tools (Resettle from the command line):
	// no audit log is needed, and Settle and Credit are refused.
	NoLog bool
}

// Ledger is the PostgreSQL ledger of one replica. Safe for concurrent use.
type Ledger struct {
	pool     *pgxpool.Pool
	log      *audit.Log
	opts     Options
	postpaid map[string]bool
	budgets  map[string][]ledger.Budget
	seq      atomic.Uint64
	stats    stats

	retry     retryQueue
	syncs     chan chan error // callers of sync waiting for a synchronous write
	stop      chan struct{}
	done      chan struct{} // retryLoop ended
	syncDone  chan struct{} // syncLoop ended
	closeOnce sync.Once
}

type stats struct {
	reserved, refused, settled, released, unknown, queued, unavailable atomic.Uint64
}

// Migrate applies the ledger's migrations and returns the schema version;
// a database with a newer schema is refused (migrate.ErrNewerSchema).
func Migrate(ctx context.Context, pool *pgxpool.Pool) (int, error) {
	files, err := migrate.Load(migrationFS, "migrations")
	if err != nil {
		return 0, err
	}
	return migrate.Run(ctx, pool, Component, files)
}

// Open migrates the database and returns the ledger of one replica, which
// writes outcome and credit records to log (the replica's own audit log).
// Close it before closing the pool and the log.
func Open(ctx context.Context, pool *pgxpool.Pool, log *audit.Log, opts Options) (*Ledger, error) {
	if err := defaults(&opts); err != nil {
		return nil, err
	}
	if log == nil && !opts.NoLog {
		return nil, fmt.Errorf("%w: an audit log is required", ledger.ErrInvalid)
	}
	mctx, cancel := context.WithTimeout(ctx, 4*opts.Timeout)
	defer cancel()
	if _, err := Migrate(mctx, pool); err != nil {
		if errors.Is(err, migrate.ErrNewerSchema) || errors.Is(err, migrate.ErrMismatch) {
			return nil, err
		}
		return nil, fmt.Errorf("%w: %w", ledger.ErrUnavailable, err)
	}
	l := &Ledger{pool: pool, log: log, opts: opts, postpaid: map[string]bool{}, budgets: map[string][]ledger.Budget{},
		syncs: make(chan chan error, 1024), stop: make(chan struct{}), done: make(chan struct{}), syncDone: make(chan struct{})}
	for _, p := range opts.Postpaid {
		l.postpaid[p] = true
	}
	for _, b := range opts.Budgets {
		l.budgets[b.Scope] = append(l.budgets[b.Scope], b)
	}
	l.retry.init(opts.MaxQueued)
	go l.retryLoop()
	go l.syncLoop()
	return l, nil
}

func defaults(opts *Options) error {
	if opts.HoldTTL <= 0 {
		opts.HoldTTL = ledger.DefaultHoldTTL
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	opts.Retention = max(opts.Retention, 2*opts.HoldTTL)
	if opts.RetryEvery <= 0 {
		opts.RetryEvery = DefaultRetryEvery
	}
	if opts.MaxQueued <= 0 {
		opts.MaxQueued = DefaultMaxQueued
	}
	if opts.Replica == "" || !refPattern.MatchString(opts.Replica) {
		return fmt.Errorf("%w: replica name %q", ledger.ErrInvalid, opts.Replica)
	}
	for _, b := range opts.Budgets {
		if (b.Period != ledger.Day && b.Period != ledger.Month) || b.MaxMicros < 0 || b.MaxTokens < 0 || (b.MaxMicros > 0 && !validCurrency(b.Currency)) {
			return fmt.Errorf("%w: budget for %s", ledger.ErrInvalid, b.Scope)
		}
	}
	return nil
}

// Close stops retrying queued settlements (they stay in the audit log for
// Resettle) and returns how many were left. It does not close the pool.
func (l *Ledger) Close() int {
	l.closeOnce.Do(func() { close(l.stop) })
	<-l.done
	<-l.syncDone
	return l.retry.len()
}

// now is the ledger's clock, to the microsecond PostgreSQL keeps.
func (l *Ledger) now() time.Time { return l.opts.Now().UTC().Truncate(time.Microsecond) }

// call bounds one operation by Options.Timeout.
func (l *Ledger) call(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, l.opts.Timeout)
}

// Stats counts the ledger's decisions, for metrics.
type Stats struct {
	Reserved, Refused, Settled, Released uint64
	Unknown                              uint64 // settlements of unknown requests, recorded uncharged
	Unavailable                          uint64 // calls that failed because PostgreSQL did not answer
	Queued                               uint64 // settlements queued for retry, ever
	Waiting                              int    // settlements waiting for a retry now
}

// Stats returns the counters.
func (l *Ledger) Stats() Stats {
	s := &l.stats
	return Stats{Reserved: s.reserved.Load(), Refused: s.refused.Load(), Settled: s.settled.Load(), Released: s.released.Load(),
		Unknown: s.unknown.Load(), Unavailable: s.unavailable.Load(), Queued: s.queued.Load(), Waiting: l.retry.len()}
}

var _ ledger.Ledger = (*Ledger)(nil)
