package pgledger

import (
	"context"
	"fmt"
	"time"

	"github.com/custos-gateway/custos/audit/ledger"
)

// reserveResult is what ledger_reserve answers.
type reserveResult struct {
	status, account    string
	index              *int32
	usedMicros, usedTk *int64
}

// Reserve holds r.MaxMicros against the account and r.MaxMicros and
// r.MaxTokens against every budget of the request's tenant, app and key,
// in one statement, all or nothing.
func (l *Ledger) Reserve(ctx context.Context, r ledger.Request) (ledger.Hold, error) {
	if err := validRequest(r); err != nil {
		l.stats.refused.Add(1)
		return ledger.Hold{}, err
	}
	ctx, cancel := l.call(ctx)
	defer cancel()
	now := l.now()
	bs, keys := l.budgetKeys(r.Tenant, r.App, r.KeyID, now)
	res, err := l.reserve(ctx, r, now, bs, keys)
	if err != nil {
		return ledger.Hold{}, err
	}
	if err := refusal(res, r, bs, keys); err != nil {
		l.stats.refused.Add(1)
		return ledger.Hold{}, err
	}
	l.stats.reserved.Add(1)
	return ledger.Hold{RequestID: r.RequestID, Account: res.account, Tenant: r.Tenant, App: r.App, KeyID: r.KeyID,
		Currency: r.Currency, Micros: r.MaxMicros, Tokens: r.MaxTokens, Expires: now.Add(l.opts.HoldTTL)}, nil
}

// reserve calls ledger_reserve, first reclaiming due holds or creating
// the period's budget rows when it asks for that (each in a transaction
// of its own, so that the reservation takes its locks in the one order).
func (l *Ledger) reserve(ctx context.Context, r ledger.Request, now time.Time, bs []ledger.Budget, keys []string) (reserveResult, error) {
	maxM, maxT, cur := make([]int64, len(bs)), make([]int64, len(bs)), make([]string, len(bs))
	for i, b := range bs {
		maxM[i], maxT[i], cur[i] = b.MaxMicros, b.MaxTokens, b.Currency
	}
	tenantPost, appPost := l.postpaid[r.Tenant], r.App != "" && l.postpaid[r.Tenant+"/"+r.App]
	seen := map[string]bool{}
	for _, k := range keys {
		seen[k] = true
	}
	distinct := len(seen)
	var res reserveResult
	for attempt := 0; attempt < 5; attempt++ {
		err := l.run(ctx, func(ctx context.Context) error {
			return l.pool.QueryRow(ctx, `SELECT status, account, budget_index, used_micros, used_tokens
				FROM ledger_reserve($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)`,
				r.RequestID, r.Tenant, r.App, r.KeyID, r.Currency, r.MaxMicros, r.MaxTokens, l.opts.Replica,
				now, now.Add(l.opts.HoldTTL), now.Add(-l.opts.Retention), tenantPost, appPost, keys, distinct, maxM, maxT, cur, attempt < 2, !l.opts.DurableHolds,
			).Scan(&res.status, &res.account, &res.index, &res.usedMicros, &res.usedTk)
		})
		if err != nil {
			return res, err
		}
		switch res.status {
		case "reclaim":
			_, err = l.reclaim(ctx, now)
		case "spend_rows":
			err = l.run(ctx, func(ctx context.Context) error {
				_, err := l.pool.Exec(ctx, `SELECT ledger_spend_create($1)`, keys)
				return err
			})
		default:
			return res, nil
		}
		if err != nil {
			return res, err
		}
	}
	return res, fmt.Errorf("%w: ledger_reserve kept asking for %s", ledger.ErrUnavailable, res.status)
}

// refusal turns ledger_reserve's status into the bbolt ledger's errors.
func refusal(res reserveResult, r ledger.Request, bs []ledger.Budget, keys []string) error {
	switch res.status {
	case "ok":
		return nil
	case "duplicate":
		return ledger.ErrDuplicate
	case "no_account":
		return fmt.Errorf("%w: no prepaid account for tenant %s", ledger.ErrInsufficientCredit, r.Tenant)
	case "currency":
		return fmt.Errorf("%w: account %s is not in %s, the currency the request is priced in", ledger.ErrCurrency, res.account, r.Currency)
	case "insufficient":
		return fmt.Errorf("%w: account %s", ledger.ErrInsufficientCredit, res.account)
	case "budget", "budget_currency":
		if res.index == nil || int(*res.index) < 1 || int(*res.index) > len(bs) {
			return fmt.Errorf("%w: ledger_reserve named no budget", ledger.ErrUnavailable)
		}
		i := int(*res.index) - 1
		b, period := bs[i], keyPeriod(keys[i])
		if res.status == "budget_currency" {
			return fmt.Errorf("%w: budget of %s is in %s", ledger.ErrCurrency, b.Scope, b.Currency)
		}
		usedM, usedT := deref(res.usedMicros), deref(res.usedTk)
		if b.MaxMicros > 0 && usedM+r.MaxMicros > b.MaxMicros {
			return &ledger.BudgetError{Scope: b.Scope, Period: period, Limit: b.MaxMicros, Used: usedM, Asked: r.MaxMicros, ResetAt: periodEnd(period)}
		}
		return &ledger.BudgetError{Scope: b.Scope, Period: period, Tokens: true, Limit: b.MaxTokens, Used: usedT, Asked: r.MaxTokens, ResetAt: periodEnd(period)}
	}
	return fmt.Errorf("%w: ledger_reserve answered %q", ledger.ErrUnavailable, res.status)
}

func deref(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

// Release gives a hold back whole. Releasing an expired hold is a no-op.
func (l *Ledger) Release(ctx context.Context, h ledger.Hold) error {
	ctx, cancel := l.call(ctx)
	defer cancel()
	var status string
	now := l.now()
	err := l.run(ctx, func(ctx context.Context) error {
		return l.pool.QueryRow(ctx, `SELECT ledger_release($1, $2, $3, $4)`, h.RequestID, now, now.Add(-l.opts.Retention),
			!l.opts.DurableHolds).Scan(&status)
	})
	switch {
	case err != nil:
		return err
	case status == "settled":
		return ledger.ErrSettled
	case status == "unknown":
		return ledger.ErrUnknownHold
	}
	l.stats.released.Add(1)
	return nil
}
