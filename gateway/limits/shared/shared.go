package shared

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/custos-gateway/custos/audit/ledger/pgledger/migrate"
	"github.com/custos-gateway/custos/gateway/limits"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Component names the limiter's schema in custos_schema.
const Component = "ratelimit"

// Defaults.
const (
	DefaultLeaseDivisor = 16
	DefaultLeaseTTL     = time.Second
	DefaultTimeout      = 500 * time.Millisecond
	DefaultRetryEvery   = time.Second
)

// ErrTooManyKeys: MaxKeys keys are active on this replica at once.
var ErrTooManyKeys = limits.ErrTooManyKeys

// Options tune a Limiter; Replicas, LeaseDivisor and LeaseTTL should be
// the same on every replica.
type Options struct {
	Now          func() time.Time // the clock; time.Now when nil
	Replicas     int              // how many replicas share the limits (default 1)
	LeaseDivisor int              // a lease is at most limit/(LeaseDivisor·Replicas) (DefaultLeaseDivisor)
	LeaseTTL     time.Duration    // a lease is used no longer than this (DefaultLeaseTTL)
	Timeout      time.Duration    // bound on each PostgreSQL call (DefaultTimeout)
	RetryEvery   time.Duration    // after a failed call, how long to use the fallback (DefaultRetryEvery)
	MaxKeys      int              // keys tracked at most (limits.DefaultMaxKeys)
}

// Limiter is one replica's view of the shared limits. Safe for concurrent
// use.
type Limiter struct {
	pool  *pgxpool.Pool
	opts  Options
	local *limits.Limiter // the fallback while PostgreSQL does not answer

	mu       sync.Mutex
	keys     map[string]*keyState
	downTill atomic.Int64 // Unix ns until which the fallback serves without asking
	stats    struct{ leases, fallbacks, returns atomic.Uint64 }
}

// keyState is what this replica holds of one key's bucket.
type keyState struct {
	mu       sync.Mutex // serializes the leases of one key
	lim      limits.Limit
	req, tok int64     // units of the lease left (tok below 0: a debt)
	expires  time.Time // the lease is not used from then on
	left     [2]int64  // the bucket's levels after the last lease, for the headers
	owed     int64     // token corrections settled after the lease went back (below 0: a debt)
	open     int       // reservations not settled
	returned bool      // no lease held: leftovers given back
	dead     bool      // forgotten by Sweep: look the key up again
}

// New migrates the database (refusing a newer schema) and returns a
// limiter over pool.
func New(ctx context.Context, pool *pgxpool.Pool, opts Options) (*Limiter, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	opts.Replicas = max(opts.Replicas, 1)
	if opts.LeaseDivisor <= 0 {
		opts.LeaseDivisor = DefaultLeaseDivisor
	}
	if opts.LeaseTTL <= 0 {
		opts.LeaseTTL = DefaultLeaseTTL
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.RetryEvery <= 0 {
		opts.RetryEvery = DefaultRetryEvery
	}
	if opts.MaxKeys <= 0 {
		opts.MaxKeys = limits.DefaultMaxKeys
	}
	files, err := migrate.Load(migrationFS, "migrations")
	if err != nil {
		return nil, err
	}
	if _, err := migrate.Run(ctx, pool, Component, files); err != nil {
		return nil, fmt.Errorf("shared limits: %w", err)
	}
	return &Limiter{pool: pool, opts: opts, keys: map[string]*keyState{},
		local: limits.New(limits.Options{Now: opts.Now, MaxKeys: opts.MaxKeys})}, nil
}

// LeaseSize is the most a lease of a limit holds (L in the package
// documentation).
func (l *Limiter) LeaseSize(limit int64) int64 {
	if limit <= 0 {
		return 0
	}
	d := int64(l.opts.LeaseDivisor * l.opts.Replicas)
	return max(1, (limit+d-1)/d)
}

// share is what one replica allows while PostgreSQL does not answer.
func (l *Limiter) share(lim limits.Limit) limits.Limit {
	n := int64(l.opts.Replicas)
	part := func(v int64) int64 {
		if v == 0 {
			return 0
		}
		return (v + n - 1) / n
	}
	return limits.Limit{RequestsPerMinute: part(lim.RequestsPerMinute), TokensPerMinute: part(lim.TokensPerMinute)}
}

func (l *Limiter) state(key string) (*keyState, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	ks := l.keys[key]
	if ks == nil {
		if len(l.keys) >= l.opts.MaxKeys {
			return nil, ErrTooManyKeys
		}
		ks = &keyState{returned: true}
		l.keys[key] = ks
	}
	return ks, nil
}

// Stats counts leases taken, requests served by the fallback, and
// leftovers given back.
type Stats struct{ Leases, Fallbacks, Returns uint64 }

// Stats returns the counters.
func (l *Limiter) Stats() Stats {
	return Stats{Leases: l.stats.leases.Load(), Fallbacks: l.stats.fallbacks.Load(), Returns: l.stats.returns.Load()}
}

var errDown = errors.New("shared limits: PostgreSQL unavailable")
