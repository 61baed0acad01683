package pgledger

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/custos-gateway/custos/audit"
	"github.com/custos-gateway/custos/audit/ledger"
)

// Credit applies a top-up, adjustment, refund or expiry durably in
// PostgreSQL (a journal entry in the tenant's chain), then writes the
// credit record to the local audit log. A debit (refund, expiry, negative
// adjustment) of a prepaid account may not exceed what is available. When
// the record cannot be written the credit stands: the account is returned
// with an error wrapping ErrUnrecorded (do not repeat the credit).
func (l *Ledger) Credit(ctx context.Context, c audit.Credit) (ledger.Account, error) {
	if err := validateCredit(c); err != nil {
		return ledger.Account{}, err
	}
	if l.log == nil {
		return ledger.Account{}, fmt.Errorf("%w: a ledger opened without an audit log records no credit", ledger.ErrInvalid)
	}
	ctx, cancel := l.call(ctx)
	defer cancel()
	now := l.now()
	id := fmt.Sprintf("credit_%d_%s_%d", now.UnixNano(), l.opts.Replica, l.seq.Add(1))
	tenant, app, _ := strings.Cut(c.Account, "/")
	var status string
	var balance, reserved *int64
	for attempt := 0; attempt < 3; attempt++ {
		err := l.run(ctx, func(ctx context.Context) error {
			return l.pool.QueryRow(ctx, `SELECT status, balance, reserved FROM ledger_credit($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
				id, c.Op, c.Account, tenant, app, c.Currency, c.Micros, c.Reference, c.Actor, l.opts.Replica, now,
				l.postpaid[c.Account], attempt < 2).Scan(&status, &balance, &reserved)
		})
		if err != nil {
			return ledger.Account{}, err
		}
		if status != "reclaim" {
			break
		}
		if _, err := l.reclaim(ctx, now); err != nil {
			return ledger.Account{}, err
		}
	}
	switch status {
	case "ok":
	case "no_account":
		return ledger.Account{}, fmt.Errorf("%w: %s", ledger.ErrNoAccount, c.Account)
	case "currency":
		return ledger.Account{}, fmt.Errorf("%w: account %s is not in %s", ledger.ErrCurrency, c.Account, c.Currency)
	case "insufficient":
		return ledger.Account{}, fmt.Errorf("%w: account %s has less available", ledger.ErrInsufficientCredit, c.Account)
	default:
		return ledger.Account{}, fmt.Errorf("%w: ledger_credit answered %q", ledger.ErrUnavailable, status)
	}
	a := l.state(c.Account, c.Currency, *balance, *reserved)
	rec := audit.Record{Kind: audit.KindCredit, RequestID: id, Tenant: tenant, App: app, Time: now, Credit: &c}
	if _, err := l.log.Append(ctx, rec); err != nil {
		return a, fmt.Errorf("%w: credit %s: %w", ErrUnrecorded, id, err)
	}
	return a, nil
}

func (l *Ledger) state(name, currency string, balance, reserved int64) ledger.Account {
	return ledger.Account{Name: name, Currency: currency, Balance: balance, Reserved: reserved, Available: balance - reserved, Postpaid: l.postpaid[name]}
}

// accounts reads the named accounts that exist, after reclaiming due
// holds so that what is available counts no expired hold.
func (l *Ledger) accounts(ctx context.Context, names ...string) (map[string]ledger.Account, error) {
	ctx, cancel := l.call(ctx)
	defer cancel()
	now := l.now()
	for attempt := 0; ; attempt++ {
		out := map[string]ledger.Account{}
		due := false
		err := l.run(ctx, func(ctx context.Context) error {
			clear(out)
			rows, err := l.pool.Query(ctx, `SELECT ledger_due($2), a.name, a.currency, a.balance, a.reserved
				FROM (VALUES (1)) v LEFT JOIN ledger_accounts a ON a.name = ANY ($1)`, names, now)
			if err != nil {
				return err
			}
			var name, cur *string
			var bal, res *int64
			_, err = pgx.ForEachRow(rows, []any{&due, &name, &cur, &bal, &res}, func() error {
				if name != nil {
					out[*name] = l.state(*name, *cur, *bal, *res)
				}
				return nil
			})
			return err
		})
		if err != nil || !due || attempt == 2 {
			return out, err
		}
		if _, err := l.reclaim(ctx, now); err != nil {
			return nil, err
		}
	}
}

// Account returns an account's state.
func (l *Ledger) Account(ctx context.Context, name string) (ledger.Account, error) {
	as, err := l.accounts(ctx, name)
	if err != nil {
		return ledger.Account{}, err
	}
	a, ok := as[name]
	if !ok {
		return ledger.Account{}, fmt.Errorf("%w: %s", ledger.ErrNoAccount, name)
	}
	return a, nil
}

// AccountFor returns the account tenant/app requests are charged to:
// tenant/app when that account exists (or is postpaid), else the
// tenant's.
func (l *Ledger) AccountFor(ctx context.Context, tenant, app string) (ledger.Account, error) {
	names := []string{tenant}
	if app != "" {
		names = append(names, tenant+"/"+app)
	}
	as, err := l.accounts(ctx, names...)
	if err != nil {
		return ledger.Account{}, err
	}
	name := tenant
	if app != "" {
		if _, ok := as[tenant+"/"+app]; ok || l.postpaid[tenant+"/"+app] {
			name = tenant + "/" + app
		}
	}
	a, ok := as[name]
	if !ok {
		return ledger.Account{}, fmt.Errorf("%w: %s", ledger.ErrNoAccount, name)
	}
	return a, nil
}
