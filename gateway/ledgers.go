package gateway

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/custos-gateway/custos/audit"
	"github.com/custos-gateway/custos/audit/ledger"
	"github.com/custos-gateway/custos/audit/ledger/pgledger"
	"github.com/custos-gateway/custos/gateway/config"
	"github.com/custos-gateway/custos/gateway/keysource"
	"github.com/custos-gateway/custos/gateway/limits"
	"github.com/custos-gateway/custos/gateway/limits/shared"
)

// RateLimiter takes a request's allowance from its key's rate: the
// limiter of one gateway, or the one several replicas share.
type RateLimiter interface {
	Reserve(ctx context.Context, key string, lim limits.Limit, tokens int64) (RateReservation, limits.Status, error)
}

// RateReservation is a request's allowance, corrected to what it used
// when it ends.
type RateReservation interface{ Settle(actual int64) }

// localLimiter is one gateway's own limiter.
type localLimiter struct{ l *limits.Limiter }

func (l localLimiter) Reserve(_ context.Context, key string, lim limits.Limit, tokens int64) (RateReservation, limits.Status, error) {
	r, st, err := l.l.Reserve(key, lim, tokens)
	if r == nil {
		return nil, st, err
	}
	return r, st, err
}

// sharedLimiter is the limiter the replicas share through PostgreSQL.
type sharedLimiter struct{ l *shared.Limiter }

func (l sharedLimiter) Reserve(ctx context.Context, key string, lim limits.Limit, tokens int64) (RateReservation, limits.Status, error) {
	r, st, err := l.l.Reserve(ctx, key, lim, tokens)
	if r == nil {
		return nil, st, err
	}
	return r, st, err
}

// accounting is the ledger and limiter a gateway runs with, and how to
// stop them.
type accounting struct {
	ledger  Ledger
	limiter RateLimiter // nil: the gateway's own
	close   func()
}

// openAccounting opens the ledger the configuration names: the bbolt
// journal in the audit log (bolt), or the PostgreSQL ledger and shared
// rate limits, with the loops that reclaim expired holds and idle keys.
func openAccounting(ctx context.Context, cfg *config.Config, log *slog.Logger, auditLog *audit.Log, bolt *ledger.BoltLedger) (*accounting, error) {
	if cfg.Accounting.Ledger != "postgres" {
		return &accounting{ledger: bolt, close: func() {}}, nil
	}
	pc := cfg.Accounting.Postgres
	password, err := ledgerPassword(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	pool, err := pgledger.ConnectWithPassword(ctx, pc.DSN, password, int32(pc.MaxConns), pc.Timeout.Std())
	if err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	led, err := pgledger.Open(ctx, pool, auditLog, pgledger.Options{Options: LedgerOptions(cfg), Replica: auditInstance(cfg), Timeout: pc.Timeout.Std()})
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("ledger: %w", err)
	}
	lim, err := shared.New(ctx, pool, shared.Options{Replicas: max(cfg.Accounting.Replicas, 1), Timeout: pc.Timeout.Std()})
	if err != nil {
		led.Close()
		pool.Close()
		return nil, fmt.Errorf("shared rate limits: %w", err)
	}
	bg, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); maintain(bg, led, lim, cfg.Accounting.HoldTTL.Std(), log) }()
	log.Info("ledger: PostgreSQL", "replica", auditInstance(cfg), "replicas", max(cfg.Accounting.Replicas, 1))
	return &accounting{ledger: led, limiter: sharedLimiter{lim}, close: func() {
		stop()
		<-done
		if n := led.Close(); n > 0 {
			log.Warn("ledger: settlements still queued at shutdown; custos credit reconcile re-applies them", "count", n)
		}
		pool.Close()
	}}, nil
}

// maintain reclaims holds that outlived their TTL (a replica killed with
// requests in flight) and forgets idle rate-limit keys, until ctx ends.
func maintain(ctx context.Context, led *pgledger.Ledger, lim *shared.Limiter, ttl time.Duration, log *slog.Logger) {
	if ttl <= 0 {
		ttl = ledger.DefaultHoldTTL
	}
	reclaim := time.NewTicker(min(time.Minute, max(ttl/4, time.Second)))
	sweep := time.NewTicker(5 * time.Second)
	defer reclaim.Stop()
	defer sweep.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-reclaim.C:
			if n, err := led.Reclaim(ctx); err != nil && ctx.Err() == nil {
				log.Warn("ledger: reclaiming expired holds failed", "error", err.Error())
			} else if n > 0 {
				log.Info("ledger: expired holds released", "count", n)
			}
		case <-sweep.C:
			_, _ = lim.Sweep(ctx)
		}
	}
}

// ledgerPassword reads the ledger database's password from Vault, when the
// configuration names one.
func ledgerPassword(ctx context.Context, cfg *config.Config, log *slog.Logger) (string, error) {
	ref := cfg.Accounting.Postgres.Password
	if ref == nil {
		return "", nil
	}
	src, err := keysource.New(ctx, VaultOptions(cfg, log), map[string]keysource.Ref{"ledger": {Mount: ref.Mount, Path: ref.Path, Field: ref.Field}})
	if err != nil {
		return "", fmt.Errorf("ledger password: %w", err)
	}
	defer src.Close()
	return src.Key(ctx, "ledger")
}
