package ledger

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/custos-gateway/custos/audit"
)

// DefaultHoldTTL is how long a reservation lives unless settled or
// released: longer than any request may take (a long stream included).
// A hold past it is released; its late settlement is still charged.
const DefaultHoldTTL = 15 * time.Minute

// Options tune a ledger.
type Options struct {
	// HoldTTL (default DefaultHoldTTL).
	HoldTTL time.Duration
	// Budgets cap spend and tokens per scope and period.
	Budgets []Budget
	// Postpaid names the accounts ("tenant" or "tenant/app") invoiced
	// instead of prepaid: charged without a balance check (the balance
	// goes negative by what is owed); cap them with a Budget on
	// ScopeTenant.
	Postpaid []string
	// Now is the clock (tests); time.Now when nil.
	Now func() time.Time
}

// BoltLedger is the single-node ledger: reservations in memory, the journal
// in the audit log's bbolt file, written in the log's own commits.
type BoltLedger struct {
	opts  Options
	log   *audit.Log
	j     *journal
	seq   atomic.Uint64 // credit record ids
	stats stats

	mu   sync.Mutex
	book *book
}

type stats struct {
	reserved, refused, settled, released, overruns, unknown atomic.Uint64
}

// OpenBolt opens the audit log at path with the ledger's journal in it and
// returns both; close the log (not the ledger) when done.
func OpenBolt(path string, aopts audit.Options, opts Options) (*BoltLedger, *audit.Log, error) {
	if opts.HoldTTL <= 0 {
		opts.HoldTTL = DefaultHoldTTL
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	for _, b := range opts.Budgets {
		if (b.Period != Day && b.Period != Month) || b.MaxMicros < 0 || b.MaxTokens < 0 || (b.MaxMicros > 0 && !validCurrency(b.Currency)) {
			return nil, nil, fmt.Errorf("%w: budget for %s", ErrInvalid, b.Scope)
		}
	}
	led := &BoltLedger{opts: opts, book: newBook(opts)}
	led.j = newJournal(led)
	aopts.Journal = led.j
	log, err := audit.Open(path, aopts)
	if err != nil {
		return nil, nil, err
	}
	led.log = log
	return led, log, nil
}

// Log is the audit log the ledger writes into.
func (l *BoltLedger) Log() *audit.Log { return l.log }

func (l *BoltLedger) now() time.Time { return l.opts.Now().UTC() }

// Reserve holds r.MaxMicros against the account and r.MaxMicros and
// r.MaxTokens against every budget of the request's tenant, app and key.
func (l *BoltLedger) Reserve(_ context.Context, r Request) (Hold, error) {
	l.mu.Lock()
	h, err := l.book.reserve(r, l.now())
	l.mu.Unlock()
	if err != nil {
		l.stats.refused.Add(1)
		return Hold{}, err
	}
	l.stats.reserved.Add(1)
	return h, nil
}

// Release gives a hold back whole. Releasing an expired hold is a no-op.
func (l *BoltLedger) Release(_ context.Context, h Hold) error {
	l.mu.Lock()
	_, err := l.book.take(h.RequestID, holdReleased, l.now())
	l.mu.Unlock()
	if err == nil {
		l.stats.released.Add(1)
	}
	return err
}

// Settle charges c to the hold's account, gives the rest of the hold back,
// and appends outcome carrying the cost with AppendDeferred: the charge,
// its journal entry and the new balance are committed with the record.
// Until then the charge counts as reserved. A hold past its TTL is still
// charged. A request settled or released before gets ErrSettled and
// nothing is written; an unknown request (forgotten a TTL after it ended)
// gets its outcome written uncharged and ErrUnknownHold.
func (l *BoltLedger) Settle(_ context.Context, h Hold, c Charge, outcome audit.Record) error {
	if c.Micros < 0 {
		return fmt.Errorf("%w: negative charge", ErrInvalid)
	}
	if outcome.Time.IsZero() {
		outcome.Time = l.now()
	}
	l.mu.Lock()
	hd, err := l.book.take(h.RequestID, holdSettled, l.now())
	if err == nil && c.Currency != hd.Currency {
		err = fmt.Errorf("%w: charged in %s, reserved in %s", ErrCurrency, c.Currency, hd.Currency)
	} else if err == nil {
		l.await(hd, c.Micros, outcome)
	}
	l.mu.Unlock()
	if errors.Is(err, ErrSettled) {
		return err
	}
	outcome.RequestID = h.RequestID
	outcome.Cost = &audit.Cost{Micros: c.Micros, Currency: c.Currency, PriceVersion: c.PriceVersion, Estimated: c.Estimated}
	if err != nil { // unknown, or in another currency: recorded, not charged
		l.stats.unknown.Add(1)
		return errors.Join(err, l.log.AppendDeferred(outcome))
	}
	outcome.Cost.Account = hd.Account
	outcome.Tenant, outcome.App, outcome.KeyID = hd.Tenant, hd.App, hd.KeyID
	if err := l.log.AppendDeferred(outcome); err != nil {
		l.mu.Lock()
		l.book.unawait(h.RequestID)
		l.mu.Unlock()
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	l.stats.settled.Add(1)
	return nil
}

// await counts a settled charge as reserved until its commit. Runs under mu.
func (l *BoltLedger) await(hd *hold, micros int64, outcome audit.Record) {
	pc := pendingCharge{account: hd.Account, micros: micros, tenant: hd.Tenant, app: hd.App, key: hd.KeyID, at: outcome.Time.UTC()}
	if outcome.Tokens != nil {
		pc.tokens = outcome.Tokens.Prompt + outcome.Tokens.Completion
	}
	l.book.await(hd.RequestID, pc)
	if a := l.book.accounts[hd.Account]; a != nil && !a.postpaid && a.balance-a.held-a.pending < 0 {
		l.stats.overruns.Add(1)
	}
}

// Credit applies a top-up, adjustment, refund or expiry with a durable
// credit record. A debit (refund, expiry, negative adjustment) of a
// prepaid account may not exceed what is available.
func (l *BoltLedger) Credit(ctx context.Context, c audit.Credit) (Account, error) {
	if err := validateCredit(c); err != nil {
		return Account{}, err
	}
	id := fmt.Sprintf("credit_%d_%d", l.now().UnixNano(), l.seq.Add(1))
	if err := l.holdDebit(id, c); err != nil {
		return Account{}, err
	}
	tenant, app, _ := strings.Cut(c.Account, "/")
	rec := audit.Record{Kind: audit.KindCredit, RequestID: id, Tenant: tenant, App: app, Time: l.now(), Credit: &c}
	if _, err := l.log.Append(ctx, rec); err != nil {
		l.mu.Lock()
		l.book.unawait(id)
		l.mu.Unlock()
		return Account{}, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return l.Account(ctx, c.Account)
}

// holdDebit checks a credit against the account and counts a debit as
// reserved until its record is committed.
func (l *BoltLedger) holdDebit(id string, c audit.Credit) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	a := l.book.accounts[c.Account]
	switch {
	case a != nil && a.currency != c.Currency:
		return fmt.Errorf("%w: account %s is in %s", ErrCurrency, c.Account, a.currency)
	case a == nil && c.Micros > 0:
		// The first credit fixes the account's currency now, so that a
		// concurrent credit in another currency is refused here.
		l.book.accounts[c.Account] = &account{currency: c.Currency, postpaid: l.book.postpaid[c.Account]}
		return nil
	case c.Micros > 0:
		return nil
	case a == nil:
		return fmt.Errorf("%w: %s", ErrNoAccount, c.Account)
	case !a.postpaid && a.balance-a.held-a.pending+c.Micros < 0:
		return fmt.Errorf("%w: account %s has %s available", ErrInsufficientCredit, c.Account, FormatAmount(a.balance-a.held-a.pending))
	}
	l.book.await(id, pendingCharge{account: c.Account, micros: -c.Micros})
	return nil
}

// Account returns an account's state.
func (l *BoltLedger) Account(_ context.Context, name string) (Account, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.book.sweep(l.now())
	a := l.book.accounts[name]
	if a == nil {
		return Account{}, fmt.Errorf("%w: %s", ErrNoAccount, name)
	}
	return a.state(name), nil
}

// AccountFor returns the account tenant/app requests are charged to.
func (l *BoltLedger) AccountFor(_ context.Context, tenant, app string) (Account, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.book.sweep(l.now())
	name, a := l.book.resolve(tenant, app)
	if a == nil {
		return Account{}, fmt.Errorf("%w: %s", ErrNoAccount, name)
	}
	return a.state(name), nil
}

// Accounts lists every account, by name.
func (l *BoltLedger) Accounts() []Account {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.book.sweep(l.now())
	out := make([]Account, 0, len(l.book.accounts))
	for name, a := range l.book.accounts {
		out = append(out, a.state(name))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Stats counts the ledger's decisions, for metrics.
type Stats struct {
	Reserved, Refused, Settled, Released uint64
	Overruns                             uint64 // settlements that left a prepaid account below zero available
	Unknown                              uint64 // settlements of unknown requests, recorded uncharged
	Holds                                int    // reservations held now
}

// Stats returns the counters.
func (l *BoltLedger) Stats() Stats {
	l.mu.Lock()
	l.book.sweep(l.now())
	holds := 0
	for _, h := range l.book.holds {
		if h.state == holdActive {
			holds++
		}
	}
	l.mu.Unlock()
	s := &l.stats
	return Stats{Reserved: s.reserved.Load(), Refused: s.refused.Load(), Settled: s.settled.Load(), Released: s.released.Load(),
		Overruns: s.overruns.Load(), Unknown: s.unknown.Load(), Holds: holds}
}

// committed is the journal telling the book a commit's outcome.
func (l *BoltLedger) committed(cs []appliedEntry, ok bool) {
	l.mu.Lock()
	l.book.committed(cs, ok)
	l.mu.Unlock()
}

func (l *BoltLedger) loaded(balances map[string]int64, currencies map[string]string, spend map[string]spent) {
	l.mu.Lock()
	l.book.load(balances, currencies, spend, l.now())
	l.mu.Unlock()
}

var _ Ledger = (*BoltLedger)(nil)
