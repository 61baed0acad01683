package ledger

import (
	"fmt"
	"strings"
	"time"
)

// book is the in-memory side of a ledger: committed balances and budgeted
// spend, what reservations hold, and what settled charges and debits await
// their commit. It does no I/O; its owner guards it with a mutex.
type book struct {
	ttl      time.Duration
	accounts map[string]*account
	holds    map[string]*hold
	order    []*hold // by creation, hence by expiry
	expired  int     // order[:expired] are past their TTL
	spend    map[string]*usage
	budgets  map[string][]Budget // by scope
	postpaid map[string]bool
	day      string // the UTC day of the last sweep
	// pendingByID: changes settled (or debited) and not yet committed, by
	// the request id (or credit id) of the record that carries them.
	pendingByID map[string]pendingCharge
	cache       periodCache
}

type account struct {
	currency string
	balance  int64 // committed
	held     int64 // active reservations
	pending  int64 // charges and debits awaiting their commit
	postpaid bool
}

func (a *account) state(name string) Account {
	r := a.held + a.pending
	return Account{Name: name, Currency: a.currency, Balance: a.balance, Reserved: r, Available: a.balance - r, Postpaid: a.postpaid}
}

// usage is one budgeted scope's spend in one period.
type usage struct {
	spent, held, pending          int64
	tokSpent, tokHeld, tokPending int64
}

const (
	holdActive = iota
	holdSettled
	holdReleased
	holdExpired
)

type hold struct {
	Hold
	state   int
	created time.Time
	keys    []string // the spend keys the hold counts against
}

func newBook(opts Options) *book {
	b := &book{ttl: opts.HoldTTL, accounts: map[string]*account{}, holds: map[string]*hold{},
		spend: map[string]*usage{}, budgets: map[string][]Budget{}, postpaid: map[string]bool{}, pendingByID: map[string]pendingCharge{}}
	for _, bu := range opts.Budgets {
		b.budgets[bu.Scope] = append(b.budgets[bu.Scope], bu)
	}
	for _, p := range opts.Postpaid {
		b.postpaid[p] = true
	}
	return b
}

func spendKey(scope, period string) string { return scope + "|" + period }

// budgetKeys lists, for the scopes of a request at t, each budget with the
// spend key it counts against.
func (b *book) budgetKeys(scs []string, t time.Time) ([]Budget, []string) {
	if len(b.budgets) == 0 {
		return nil, nil
	}
	day, month := b.cache.get(t)
	var bs []Budget
	for _, sc := range scs {
		bs = append(bs, b.budgets[sc]...)
	}
	return bs, keysFor(b.budgets, scs, day, month)
}

// keysFor lists the spend key of every budget of the scopes, in order.
func keysFor(budgets map[string][]Budget, scs []string, day, month string) []string {
	var keys []string
	for _, sc := range scs {
		for _, bu := range budgets[sc] {
			p := month
			if bu.Period == Day {
				p = day
			}
			keys = append(keys, spendKey(sc, p))
		}
	}
	return keys
}

func (b *book) usage(key string) *usage {
	u := b.spend[key]
	if u == nil {
		u = &usage{}
		b.spend[key] = u
	}
	return u
}

// resolve names the account a request is charged to: tenant/app when that
// account exists (or is postpaid), else the tenant's.
func (b *book) resolve(tenant, app string) (string, *account) {
	if app != "" {
		name := tenant + "/" + app
		if a := b.accounts[name]; a != nil {
			return name, a
		}
		if b.postpaid[name] {
			return name, nil
		}
	}
	return tenant, b.accounts[tenant]
}

func (b *book) reserve(r Request, now time.Time) (Hold, error) {
	b.sweep(now)
	if err := validRequest(r); err != nil {
		return Hold{}, err
	}
	if b.holds[r.RequestID] != nil {
		return Hold{}, ErrDuplicate
	}
	name, acct := b.resolve(r.Tenant, r.App)
	if acct == nil && b.postpaid[name] {
		acct = &account{currency: r.Currency, postpaid: true}
		b.accounts[name] = acct
	}
	switch {
	case acct == nil:
		return Hold{}, fmt.Errorf("%w: no prepaid account for tenant %s", ErrInsufficientCredit, r.Tenant)
	case acct.currency != r.Currency:
		return Hold{}, fmt.Errorf("%w: account %s is in %s, the request priced in %s", ErrCurrency, name, acct.currency, r.Currency)
	case !acct.postpaid && acct.balance-acct.held-acct.pending < r.MaxMicros:
		return Hold{}, fmt.Errorf("%w: account %s", ErrInsufficientCredit, name)
	}
	bs, keys := b.budgetKeys(scopes(r.Tenant, r.App, r.KeyID), now)
	if err := b.checkBudgets(bs, keys, r); err != nil {
		return Hold{}, err
	}
	h := &hold{Hold: Hold{RequestID: r.RequestID, Account: name, Tenant: r.Tenant, App: r.App, KeyID: r.KeyID,
		Currency: r.Currency, Micros: r.MaxMicros, Tokens: r.MaxTokens, Expires: now.Add(b.ttl)}, created: now, keys: keys}
	acct.held += r.MaxMicros
	for _, k := range keys {
		u := b.usage(k)
		u.held += r.MaxMicros
		u.tokHeld += r.MaxTokens
	}
	b.holds[r.RequestID] = h
	b.order = append(b.order, h)
	return h.Hold, nil
}

func validRequest(r Request) error {
	switch {
	case r.RequestID == "" || len(r.RequestID) > 128:
		return fmt.Errorf("%w: request id", ErrInvalid)
	case !validName(r.Tenant) || (r.App != "" && !validName(r.App)):
		return fmt.Errorf("%w: tenant or app name", ErrInvalid)
	case len(r.KeyID) > 128:
		return fmt.Errorf("%w: key id", ErrInvalid)
	case r.MaxMicros < 0 || r.MaxTokens < 0:
		return fmt.Errorf("%w: negative maximum", ErrInvalid)
	case !validCurrency(r.Currency):
		return fmt.Errorf("%w: currency %q", ErrInvalid, r.Currency)
	}
	return nil
}

func (b *book) checkBudgets(bs []Budget, keys []string, r Request) error {
	for i, bu := range bs {
		u := b.spend[keys[i]]
		if u == nil {
			u = &usage{}
		}
		period := keyPeriod(keys[i])
		if bu.MaxMicros > 0 {
			if bu.Currency != r.Currency {
				return fmt.Errorf("%w: budget of %s is in %s", ErrCurrency, bu.Scope, bu.Currency)
			}
			if used := u.spent + u.held + u.pending; used+r.MaxMicros > bu.MaxMicros {
				return &BudgetError{Scope: bu.Scope, Period: period, Limit: bu.MaxMicros, Used: used, Asked: r.MaxMicros, ResetAt: periodEnd(period)}
			}
		}
		if bu.MaxTokens > 0 {
			if used := u.tokSpent + u.tokHeld + u.tokPending; used+r.MaxTokens > bu.MaxTokens {
				return &BudgetError{Scope: bu.Scope, Period: period, Tokens: true, Limit: bu.MaxTokens, Used: used, Asked: r.MaxTokens, ResetAt: periodEnd(period)}
			}
		}
	}
	return nil
}

// unhold gives back what an active hold holds.
func (b *book) unhold(h *hold) {
	if a := b.accounts[h.Account]; a != nil {
		a.held -= h.Micros
	}
	for _, k := range h.keys {
		if u := b.spend[k]; u != nil {
			u.held -= h.Micros
			u.tokHeld -= h.Tokens
		}
	}
}

// take ends a hold for settlement or release: ErrUnknownHold, ErrSettled,
// or the hold (its amounts given back if it was still active).
func (b *book) take(id string, state int, now time.Time) (*hold, error) {
	b.sweep(now)
	h := b.holds[id]
	switch {
	case h == nil:
		return nil, ErrUnknownHold
	case h.state == holdSettled || h.state == holdReleased:
		return nil, ErrSettled
	case h.state == holdActive:
		b.unhold(h)
	}
	h.state = state
	return h, nil
}

// pend counts a charge (or a debit) from settlement to its commit.
func (b *book) pend(c pendingCharge, sign int64) {
	if a := b.accounts[c.account]; a != nil {
		a.pending += sign * c.micros
	}
	for _, k := range c.keys {
		u := b.usage(k)
		u.pending += sign * c.micros
		u.tokPending += sign * c.tokens
	}
}

// pendingCharge is a change awaiting its commit: a charge (tenant set) or a
// debit of credit.
type pendingCharge struct {
	account          string
	micros, tokens   int64
	tenant, app, key string
	at               time.Time
	keys             []string // the budgeted spend keys it counts against
}

// await counts a change from its settlement (or debit) to its commit.
func (b *book) await(id string, c pendingCharge) {
	if c.tenant != "" {
		_, c.keys = b.budgetKeys(scopes(c.tenant, c.app, c.key), c.at)
	}
	b.pend(c, +1)
	b.pendingByID[id] = c
}

// unawait forgets a change whose record was not queued, or was committed
// (or lost with its commit); it returns the change.
func (b *book) unawait(id string) (pendingCharge, bool) {
	c, ok := b.pendingByID[id]
	if ok {
		b.pend(c, -1)
		delete(b.pendingByID, id)
	}
	return c, ok
}

// committed applies the outcome of a commit to the changes it carried.
func (b *book) committed(cs []appliedEntry, ok bool) {
	for _, c := range cs {
		pc, found := b.unawait(c.requestID)
		if !ok {
			continue
		}
		a := b.accounts[c.account]
		if a == nil {
			a = &account{currency: c.currency, postpaid: b.postpaid[c.account]}
			b.accounts[c.account] = a
		}
		a.balance = c.balance
		if c.tenant == "" {
			continue
		}
		keys := pc.keys
		if !found {
			_, keys = b.budgetKeys(scopes(c.tenant, c.app, c.key), c.at)
		}
		for _, k := range keys {
			u := b.usage(k)
			u.spent += c.micros
			u.tokSpent += c.tokens
		}
	}
}

// sweep expires holds past their TTL and forgets settled, released and
// expired ones a TTL later (until then a second Settle is recognised).
func (b *book) sweep(now time.Time) {
	for b.expired < len(b.order) && !now.Before(b.order[b.expired].created.Add(b.ttl)) {
		if h := b.order[b.expired]; h.state == holdActive {
			b.unhold(h)
			h.state = holdExpired
		}
		b.expired++
	}
	n := 0
	for n < b.expired && !now.Before(b.order[n].created.Add(2*b.ttl)) {
		delete(b.holds, b.order[n].RequestID)
		n++
	}
	if n > 0 {
		b.order = append(b.order[:0:0], b.order[n:]...)
		b.expired -= n
	}
	if day, _ := periodKeys(now); day != b.day {
		b.day = day
		b.dropOldPeriods(now)
	}
}

// dropOldPeriods forgets the spend of periods that ended, once nothing is
// held or pending against them.
func (b *book) dropOldPeriods(now time.Time) {
	day, month := periodKeys(now)
	for k, u := range b.spend {
		if p := keyPeriod(k); p == day || p == month {
			continue
		}
		if u.held == 0 && u.pending == 0 && u.tokHeld == 0 && u.tokPending == 0 {
			delete(b.spend, k)
		}
	}
}

// keyPeriod is the period of a spend key (scope|period).
func keyPeriod(k string) string { return k[strings.LastIndexByte(k, '|')+1:] }

// load sets the committed state read from a file at startup: balances, and
// the budgeted spend of the current periods.
func (b *book) load(balances map[string]int64, currencies map[string]string, spend map[string]spent, now time.Time) {
	for name, bal := range balances {
		a := b.accounts[name]
		if a == nil {
			a = &account{postpaid: b.postpaid[name]}
			b.accounts[name] = a
		}
		a.balance, a.currency = bal, currencies[name]
	}
	day, month := periodKeys(now)
	for k, s := range spend {
		if p := keyPeriod(k); p == day || p == month {
			u := b.usage(k)
			u.spent, u.tokSpent = s.micros, s.tokens
		}
	}
}
