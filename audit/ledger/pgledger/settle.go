package pgledger

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/custos-gateway/custos/audit"
	"github.com/custos-gateway/custos/audit/ledger"
)

// settlement is one charge, as ledger_settle takes it.
type settlement struct {
	id, account, tenant, app, key, currency string
	replica                                 string // "": this replica
	micros, tokens                          int64
	priceVersion                            string
	estimated                               bool
	at                                      time.Time // the outcome's time: the budget period it counts in
	fallback                                bool      // charge the account even without a hold row
}

type settleResult struct {
	status, account, tenant, app, key string
}

// Settle charges c to the hold's account, gives the rest of the hold back
// and journals the charge (durably, in PostgreSQL), then appends outcome
// carrying the cost to the local audit log. A hold past its TTL is still
// charged. A request settled or released before gets ErrSettled and
// nothing is written; an unknown request gets its outcome written
// uncharged and ErrUnknownHold. A hold whose row is gone though Reserve
// returned it within Options.Retention (asynchronous holds lost in a
// PostgreSQL crash) is charged all the same: a request served is paid for.
//
// When PostgreSQL does not answer, the outcome is written with the account
// to charge, the settlement is queued and retried (Retry), and the error
// wraps ledger.ErrUnavailable; Resettle re-applies it from the log if the
// replica stops first. The journal's unique request id keeps every path
// to one charge.
func (l *Ledger) Settle(ctx context.Context, h ledger.Hold, c ledger.Charge, outcome audit.Record) error {
	if c.Micros < 0 || l.log == nil {
		return fmt.Errorf("%w: negative charge, or a ledger opened without an audit log", ledger.ErrInvalid)
	}
	ctx, cancel := l.call(ctx)
	defer cancel()
	now := l.now()
	if outcome.Time.IsZero() {
		outcome.Time = now
	}
	outcome.Time = outcome.Time.UTC().Truncate(time.Microsecond)
	s := settlement{id: h.RequestID, account: h.Account, tenant: h.Tenant, app: h.App, key: h.KeyID, currency: c.Currency,
		micros: c.Micros, tokens: c.Tokens, priceVersion: c.PriceVersion, estimated: c.Estimated, at: outcome.Time,
		fallback: h.Account != "" && h.Expires.Add(-l.opts.HoldTTL).After(now.Add(-l.opts.Retention))}
	if outcome.Tokens != nil {
		s.tokens = outcome.Tokens.Prompt + outcome.Tokens.Completion
	}
	outcome.RequestID = h.RequestID
	outcome.Cost = &audit.Cost{Micros: c.Micros, Currency: c.Currency, PriceVersion: c.PriceVersion, Estimated: c.Estimated}
	res, err := l.charge(ctx, s, now)
	switch {
	case err != nil:
		return l.unsettled(s, outcome, err)
	case res.status == "settled":
		return ledger.ErrSettled
	case res.status == "unknown" || res.status == "currency":
		l.stats.unknown.Add(1)
		cause := ledger.ErrUnknownHold
		if res.status == "currency" {
			cause = fmt.Errorf("%w: charged in %s, reserved in another currency", ledger.ErrCurrency, c.Currency)
		}
		return errors.Join(cause, l.log.AppendDeferred(outcome))
	}
	l.stats.settled.Add(1)
	outcome.Cost.Account = res.account
	outcome.Tenant, outcome.App, outcome.KeyID = res.tenant, res.app, res.key
	if err := l.log.AppendDeferred(outcome); err != nil {
		return fmt.Errorf("%w: request %s: %w", ErrUnrecorded, h.RequestID, err)
	}
	return nil
}

// charge runs ledger_settle and waits until the charge is durable.
func (l *Ledger) charge(ctx context.Context, s settlement, now time.Time) (settleResult, error) {
	var res settleResult
	for attempt := 0; attempt < 2; attempt++ {
		_, keys := l.budgetKeys(s.tenant, s.app, s.key, s.at)
		replica := s.replica
		if replica == "" {
			replica = l.opts.Replica
		}
		err := l.run(ctx, func(ctx context.Context) error {
			return l.pool.QueryRow(ctx, `SELECT status, coalesce(account, ''), coalesce(tenant, ''), coalesce(app, ''), coalesce(key_id, '')
				FROM ledger_settle($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, true)`,
				s.id, s.account, s.tenant, s.app, s.key, s.currency, s.micros, s.tokens, s.priceVersion, s.estimated,
				replica, s.at, now, now.Add(-l.opts.Retention), keys, s.fallback,
			).Scan(&res.status, &res.account, &res.tenant, &res.app, &res.key)
		})
		if err != nil {
			return res, err
		}
		if res.status != "mismatch" {
			break
		}
		// The caller's hold named another tenant, app or key than the
		// reservation: settle it as reserved.
		s.tenant, s.app, s.key = res.tenant, res.app, res.key
	}
	switch res.status {
	case "ok":
		return res, l.sync(ctx)
	case "settled", "unknown", "currency":
		return res, nil
	}
	return res, fmt.Errorf("%w: ledger_settle answered %q", ledger.ErrUnavailable, res.status)
}

// unsettled writes the outcome of a settlement PostgreSQL did not take
// (with the account it is to be charged to) and queues it for a retry.
func (l *Ledger) unsettled(s settlement, outcome audit.Record, cause error) error {
	if s.account == "" { // not a hold Reserve returned: nothing to charge later
		return errors.Join(cause, l.log.AppendDeferred(outcome))
	}
	outcome.Cost.Account = s.account
	outcome.Tenant, outcome.App, outcome.KeyID = s.tenant, s.app, s.key
	if err := l.log.AppendDeferred(outcome); err != nil {
		return errors.Join(cause, fmt.Errorf("%w: request %s: %w", ErrUnrecorded, s.id, err))
	}
	s.fallback = true
	if l.retry.add(s) {
		l.stats.queued.Add(1)
	}
	return fmt.Errorf("settlement of %s queued for retry: %w", s.id, cause)
}
