package pgledger

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/custos-gateway/custos/audit/ledger"
)

// ErrUnrecorded: the ledger committed a change in PostgreSQL but the
// audit record that goes with it could not be written to the local log
// (Reconcile lists it). The change stands: do not repeat it.
var ErrUnrecorded = errors.New("pgledger: committed in the ledger, not recorded in the audit log")

// Connect opens a pool for the ledger: at most maxConns connections
// (0: 8), each dial bounded by timeout (0: DefaultTimeout). A small pool
// is faster on a hot account than a large one: requests queue in the
// replica rather than on the account's row lock.
func Connect(ctx context.Context, dsn string, maxConns int32, timeout time.Duration) (*pgxpool.Pool, error) {
	return ConnectWithPassword(ctx, dsn, "", maxConns, timeout)
}

// ConnectWithPassword is Connect with the password kept out of the
// connection string (it comes from a secret store); "" uses the string's.
func ConnectWithPassword(ctx context.Context, dsn, password string, maxConns int32, timeout time.Duration) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx's message may quote the string: say only that it is invalid.
		return nil, fmt.Errorf("%w: the connection string does not parse", ledger.ErrInvalid)
	}
	if password != "" {
		cfg.ConnConfig.Password = password
	}
	if maxConns <= 0 {
		maxConns = 8
	}
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	cfg.MaxConns = maxConns
	cfg.ConnConfig.ConnectTimeout = timeout
	cfg.HealthCheckPeriod = 5 * time.Second
	cfg.PingTimeout = timeout
	cfg.ConnConfig.RuntimeParams["application_name"] = "custos"
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ledger.ErrUnavailable, err)
	}
	return pool, nil
}

// Ping reports whether PostgreSQL answers, within the call timeout.
func (l *Ledger) Ping(ctx context.Context) error {
	ctx, cancel := l.call(ctx)
	defer cancel()
	if err := l.pool.Ping(ctx); err != nil {
		return fmt.Errorf("%w: %w", ledger.ErrUnavailable, err)
	}
	return nil
}

// retryable reports whether a failed call changed nothing and may run
// again: it never reached the server, or the server rolled it back as a
// deadlock victim or for a serialization failure.
func retryable(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "40P01" || pe.Code == "40001"
	}
	return pgconn.SafeToRetry(err)
}

// run calls f until it succeeds, fails for good, or ctx ends; a failure is
// ledger.ErrUnavailable (PostgreSQL did not answer, or answered an error:
// either way nothing is granted).
func (l *Ledger) run(ctx context.Context, f func(ctx context.Context) error) error {
	for attempt := 0; ; attempt++ {
		err := f(ctx)
		if err == nil {
			return nil
		}
		if attempt < 3 && retryable(err) && ctx.Err() == nil {
			continue
		}
		l.stats.unavailable.Add(1)
		return fmt.Errorf("%w: %w", ledger.ErrUnavailable, err)
	}
}

// sync makes every transaction committed so far durable: a write committed
// synchronously flushes the WAL up to it, and the WAL is written in order.
// Charges commit asynchronously (releasing the account's row lock without
// waiting for the disk) and then wait here, so that concurrent charges to
// one account share flushes instead of queueing for one each. Callers
// waiting at once share one such write (syncLoop).
func (l *Ledger) sync(ctx context.Context) error {
	w := make(chan error, 1)
	select {
	case l.syncs <- w:
	case <-l.stop:
		return fmt.Errorf("%w: ledger closed", ledger.ErrUnavailable)
	case <-ctx.Done():
		return fmt.Errorf("%w: %w", ledger.ErrUnavailable, ctx.Err())
	}
	select {
	case err := <-w:
		return err
	case <-ctx.Done():
		return fmt.Errorf("%w: %w", ledger.ErrUnavailable, ctx.Err())
	}
}

// syncLoop runs one synchronous write for every group of callers waiting
// in sync: each joined after its own commit, so the write, which starts
// after it took them, covers them all.
func (l *Ledger) syncLoop() {
	defer close(l.syncDone)
	var batch []chan error
	for {
		select {
		case <-l.stop:
			return
		case w := <-l.syncs:
			batch = append(batch[:0], w)
		}
		for more := true; more; {
			select {
			case w := <-l.syncs:
				batch = append(batch, w)
			default:
				more = false
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), l.opts.Timeout)
		err := l.run(ctx, func(ctx context.Context) error {
			_, err := l.pool.Exec(ctx, `INSERT INTO ledger_sync (pid) VALUES (pg_backend_pid())
				ON CONFLICT (pid) DO UPDATE SET n = ledger_sync.n + 1`)
			return err
		})
		cancel()
		for _, w := range batch {
			w <- err
		}
	}
}

// Reclaim expires the holds past their TTL on the ledger's clock (any
// replica's holds: a replica that died leaves its holds to the others) and
// forgets ended holds older than Options.Retention. It is idempotent and
// safe to run from every replica at once; Reserve, Credit and Account run
// it when a hold is due, and a replica may also run it on a timer.
func (l *Ledger) Reclaim(ctx context.Context) (int, error) {
	ctx, cancel := l.call(ctx)
	defer cancel()
	return l.reclaim(ctx, l.now())
}

func (l *Ledger) reclaim(ctx context.Context, now time.Time) (int, error) {
	var n int
	err := l.run(ctx, func(ctx context.Context) error {
		return l.pool.QueryRow(ctx, `SELECT ledger_reclaim($1, $2)`, now, now.Add(-l.opts.Retention)).Scan(&n)
	})
	return n, err
}
