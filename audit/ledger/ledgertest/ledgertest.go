// Package ledgertest checks that a ledger.Ledger implementation has the
// semantics the gateway relies on: atomic reservations that never overdraw,
// settlement once per request, TTLs, budgets over UTC calendar periods,
// postpaid caps and credits. Every backend runs the same suite.
//
// It holds no request content and never talks to anything but the ledger
// under test.
package ledgertest

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/custos-gateway/custos/audit"
	"github.com/custos-gateway/custos/audit/ledger"
)

// Fixture is a ledger under test.
type Fixture struct {
	Ledger ledger.Ledger
	// Flush makes every settlement so far durable and visible in Balance.
	Flush func() error
	// Records returns the audit records written so far (after Flush).
	Records func() []audit.Record
}

// New opens a fresh, empty ledger with opts (whose Now is the test's clock).
type New func(t *testing.T, opts ledger.Options) Fixture

// Clock is a settable test clock.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock starts a clock at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now reads the clock.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Set moves the clock.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// Advance moves the clock on by d.
func (c *Clock) Advance(d time.Duration) { c.Set(c.Now().Add(d)) }

// Start is the suite's starting time: late on the last day of a month.
var Start = time.Date(2026, 11, 30, 23, 0, 0, 0, time.UTC)

// Run runs the whole suite.
func Run(t *testing.T, open New) {
	t.Run("reservations", func(t *testing.T) { testReservations(t, open) })
	t.Run("settlement", func(t *testing.T) { testSettlement(t, open) })
	t.Run("ttl", func(t *testing.T) { testTTL(t, open) })
	t.Run("budgets", func(t *testing.T) { testBudgets(t, open) })
	t.Run("postpaid", func(t *testing.T) { testPostpaid(t, open) })
	t.Run("credits", func(t *testing.T) { testCredits(t, open) })
	t.Run("concurrency", func(t *testing.T) { testConcurrency(t, open) })
}

var ctx = context.Background()

func req(id string, micros int64) ledger.Request {
	return ledger.Request{RequestID: id, Tenant: "st-marys", App: "assistant", KeyID: "k1", Currency: "USD", MaxMicros: micros, MaxTokens: 100}
}

func topUp(t *testing.T, l ledger.Ledger, account string, micros int64) {
	t.Helper()
	if _, err := l.Credit(ctx, audit.Credit{Op: audit.CreditTopUp, Account: account, Micros: micros, Currency: "USD", Reference: "inv-1"}); err != nil {
		t.Fatal(err)
	}
}

func outcome(tokens int64) audit.Record {
	return audit.Record{Kind: audit.KindOutcome, Status: 200, Tokens: &audit.Tokens{Prompt: tokens / 2, Completion: tokens - tokens/2}}
}

func available(t *testing.T, f Fixture, account string) int64 {
	t.Helper()
	a, err := f.Ledger.Account(ctx, account)
	if err != nil {
		t.Fatal(err)
	}
	return a.Available
}

func testReservations(t *testing.T, open New) {
	clock := NewClock(Start)
	f := open(t, ledger.Options{Now: clock.Now})
	l := f.Ledger
	if _, err := l.Reserve(ctx, req("r0", 1)); !errors.Is(err, ledger.ErrInsufficientCredit) {
		t.Errorf("no account: %v", err)
	}
	topUp(t, l, "st-marys", 1000)
	steps := []struct {
		name      string
		r         ledger.Request
		err       error
		available int64
	}{
		{"fits", req("r1", 600), nil, 400},
		{"does not fit", req("r2", 401), ledger.ErrInsufficientCredit, 400},
		{"fits exactly", req("r3", 400), nil, 0},
		{"nothing left", req("r4", 1), ledger.ErrInsufficientCredit, 0},
		{"zero maximum", req("r5", 0), nil, 0},
		{"same request again", req("r1", 0), ledger.ErrDuplicate, 0},
		{"another currency", ledger.Request{RequestID: "r6", Tenant: "st-marys", Currency: "EUR"}, ledger.ErrCurrency, 0},
		{"bad request id", ledger.Request{Tenant: "st-marys", Currency: "USD"}, ledger.ErrInvalid, 0},
	}
	for _, s := range steps {
		_, err := l.Reserve(ctx, s.r)
		if !errors.Is(err, s.err) || (s.err == nil && err != nil) {
			t.Errorf("%s: %v, want %v", s.name, err, s.err)
		}
		if got := available(t, f, "st-marys"); got != s.available {
			t.Errorf("%s: available %d, want %d", s.name, got, s.available)
		}
	}
}

func testSettlement(t *testing.T, open New) {
	clock := NewClock(Start)
	f := open(t, ledger.Options{Now: clock.Now})
	l := f.Ledger
	topUp(t, l, "st-marys", 1000)
	h1, _ := l.Reserve(ctx, req("s1", 600))
	h2, _ := l.Reserve(ctx, req("s2", 300))
	cases := []struct {
		name               string
		do                 func() error
		err                error
		balance, available int64 // after Flush
	}{
		{"settle below the hold", func() error { return l.Settle(ctx, h1, ledger.Charge{Micros: 250, Currency: "USD"}, outcome(40)) }, nil, 750, 450},
		{"settle again", func() error { return l.Settle(ctx, h1, ledger.Charge{Micros: 250, Currency: "USD"}, outcome(40)) }, ledger.ErrSettled, 750, 450},
		{"release a settled hold", func() error { return l.Release(ctx, h1) }, ledger.ErrSettled, 750, 450},
		{"release", func() error { return l.Release(ctx, h2) }, nil, 750, 750},
		{"settle a released hold", func() error { return l.Settle(ctx, h2, ledger.Charge{Micros: 1, Currency: "USD"}, outcome(1)) }, ledger.ErrSettled, 750, 750},
		{"settle an unknown request", func() error {
			return l.Settle(ctx, ledger.Hold{RequestID: "nobody"}, ledger.Charge{Micros: 5, Currency: "USD"}, outcome(1))
		}, ledger.ErrUnknownHold, 750, 750},
	}
	for _, c := range cases {
		err := c.do()
		if !errors.Is(err, c.err) || (c.err == nil && err != nil) {
			t.Errorf("%s: %v, want %v", c.name, err, c.err)
		}
		if err := f.Flush(); err != nil {
			t.Fatal(err)
		}
		a, _ := l.Account(ctx, "st-marys")
		if a.Available != c.available || a.Balance != c.balance || a.Reserved != c.balance-c.available {
			t.Errorf("%s: %+v, want balance %d, %d available", c.name, a, c.balance, c.available)
		}
	}
	outcomes := map[string]int{}
	for _, r := range f.Records() {
		if r.Kind == audit.KindOutcome {
			outcomes[r.RequestID]++
			if r.RequestID == "s1" && (r.Cost == nil || r.Cost.Micros != 250 || r.Cost.Account != "st-marys") {
				t.Errorf("s1's outcome carries %+v", r.Cost)
			}
			if r.RequestID == "nobody" && (r.Cost == nil || r.Cost.Account != "") {
				t.Errorf("an unknown request's outcome was charged: %+v", r.Cost)
			}
		}
	}
	if outcomes["s1"] != 1 || outcomes["s2"] != 0 || outcomes["nobody"] != 1 {
		t.Errorf("outcome records per request: %v", outcomes)
	}
}

func testTTL(t *testing.T, open New) {
	clock := NewClock(Start)
	ttl := 10 * time.Minute
	f := open(t, ledger.Options{Now: clock.Now, HoldTTL: ttl})
	l := f.Ledger
	topUp(t, l, "st-marys", 1000)
	late, _ := l.Reserve(ctx, req("t1", 700))
	forgotten, _ := l.Reserve(ctx, req("t2", 200))
	if late.Expires != Start.Add(ttl) {
		t.Errorf("hold expires %v", late.Expires)
	}
	clock.Advance(ttl)
	if got := available(t, f, "st-marys"); got != 1000 {
		t.Fatalf("after the TTL: %d available, want every hold released", got)
	}
	// A late settlement is still charged: the provider produced the answer.
	if err := l.Settle(ctx, late, ledger.Charge{Micros: 300, Currency: "USD"}, outcome(10)); err != nil {
		t.Fatal(err)
	}
	if err := l.Release(ctx, forgotten); err != nil {
		t.Errorf("releasing an expired hold: %v", err)
	}
	clock.Advance(ttl)
	if err := l.Settle(ctx, forgotten, ledger.Charge{Micros: 1, Currency: "USD"}, outcome(1)); !errors.Is(err, ledger.ErrSettled) && !errors.Is(err, ledger.ErrUnknownHold) {
		t.Errorf("settling a released, forgotten hold: %v", err)
	}
	f.Flush()
	if a, _ := l.Account(ctx, "st-marys"); a.Balance != 700 || a.Available != 700 {
		t.Errorf("account %+v, want 700", a)
	}
}

func testBudgets(t *testing.T, open New) {
	clock := NewClock(Start) // 23:00 on the last day of a month
	f := open(t, ledger.Options{Now: clock.Now, Budgets: []ledger.Budget{
		{Scope: ledger.ScopeApp("st-marys", "assistant"), Period: ledger.Day, MaxMicros: 500, Currency: "USD"},
		{Scope: ledger.ScopeKey("k1"), Period: ledger.Month, MaxTokens: 250},
	}})
	l := f.Ledger
	topUp(t, l, "st-marys", 1_000_000)
	h, err := l.Reserve(ctx, req("b1", 400))
	if err != nil {
		t.Fatal(err)
	}
	var be *ledger.BudgetError
	if _, err := l.Reserve(ctx, req("b2", 200)); !errors.As(err, &be) || be.Scope != ledger.ScopeApp("st-marys", "assistant") ||
		be.Period != "2026-11-30" || be.Used != 400 || be.ResetAt != time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC) {
		t.Fatalf("over the day's budget: %v %+v", err, be)
	}
	if err := l.Settle(ctx, h, ledger.Charge{Micros: 350, Currency: "USD"}, outcome(120)); err != nil {
		t.Fatal(err)
	}
	f.Flush()
	if _, err := l.Reserve(ctx, req("b3", 151)); !errors.As(err, &be) || be.Used != 350 {
		t.Errorf("what was spent counts: %v", err)
	}
	h4, err := l.Reserve(ctx, req("b4", 150))
	if err != nil {
		t.Fatalf("the rest of the day's budget: %v", err)
	}
	l.Release(ctx, h4)
	clock.Set(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)) // a new day and a new month
	h5, err := l.Reserve(ctx, req("b5", 500))
	if err != nil {
		t.Fatalf("the day's budget resets at midnight UTC: %v", err)
	}
	l.Settle(ctx, h5, ledger.Charge{Micros: 10, Currency: "USD"}, outcome(240))
	f.Flush()
	// 240 tokens of the key's 250 this month: a request that may use 100 does not fit.
	if _, err := l.Reserve(ctx, req("b6", 1)); !errors.As(err, &be) || !be.Tokens || be.Used != 240 || be.Period != "2026-12" {
		t.Errorf("the key's token budget: %v %+v", err, be)
	}
}

func testPostpaid(t *testing.T, open New) {
	clock := NewClock(Start)
	f := open(t, ledger.Options{Now: clock.Now, Postpaid: []string{"northbank"},
		Budgets: []ledger.Budget{{Scope: ledger.ScopeTenant("northbank"), Period: ledger.Month, MaxMicros: 1000, Currency: "USD"}}})
	l := f.Ledger
	r := func(id string, m int64) ledger.Request {
		return ledger.Request{RequestID: id, Tenant: "northbank", App: "support", Currency: "USD", MaxMicros: m}
	}
	h, err := l.Reserve(ctx, r("p1", 800))
	if err != nil {
		t.Fatalf("a postpaid tenant needs no balance: %v", err)
	}
	if _, err := l.Reserve(ctx, r("p2", 300)); !errors.Is(err, ledger.ErrBudgetExceeded) {
		t.Errorf("past the spend cap: %v", err)
	}
	l.Settle(ctx, h, ledger.Charge{Micros: 700, Currency: "USD"}, outcome(5))
	f.Flush()
	if a, err := l.Account(ctx, "northbank"); err != nil || a.Balance != -700 || !a.Postpaid {
		t.Errorf("postpaid account %+v %v, want -700 owed", a, err)
	}
	if _, err := l.Reserve(ctx, r("p3", 300)); err != nil {
		t.Errorf("within the cap: %v", err)
	}
}

func testCredits(t *testing.T, open New) {
	clock := NewClock(Start)
	f := open(t, ledger.Options{Now: clock.Now})
	l := f.Ledger
	cases := []struct {
		c       audit.Credit
		err     error
		balance int64
	}{
		{audit.Credit{Op: audit.CreditRefund, Account: "st-marys", Micros: -1, Currency: "USD"}, ledger.ErrNoAccount, 0},
		{audit.Credit{Op: audit.CreditTopUp, Account: "st-marys", Micros: 5_000_000, Currency: "USD"}, nil, 5_000_000},
		{audit.Credit{Op: audit.CreditTopUp, Account: "st-marys", Micros: 1, Currency: "EUR"}, ledger.ErrCurrency, 5_000_000},
		{audit.Credit{Op: audit.CreditTopUp, Account: "st-marys", Micros: -1, Currency: "USD"}, ledger.ErrInvalid, 5_000_000},
		{audit.Credit{Op: audit.CreditAdjust, Account: "st-marys", Micros: -250_000, Currency: "USD"}, nil, 4_750_000},
		{audit.Credit{Op: audit.CreditRefund, Account: "st-marys", Micros: -4_750_001, Currency: "USD"}, ledger.ErrInsufficientCredit, 4_750_000},
		{audit.Credit{Op: audit.CreditRefund, Account: "st-marys", Micros: -1_000_000, Currency: "USD", Reference: "ticket#7"}, nil, 3_750_000},
		{audit.Credit{Op: audit.CreditExpire, Account: "st-marys", Micros: -750_000, Currency: "USD"}, nil, 3_000_000},
		{audit.Credit{Op: audit.CreditTopUp, Account: "st-marys/assistant", Micros: 42, Currency: "USD"}, nil, 3_000_000},
		{audit.Credit{Op: audit.CreditTopUp, Account: "st marys", Micros: 1, Currency: "USD"}, ledger.ErrInvalid, 3_000_000},
		{audit.Credit{Op: audit.CreditTopUp, Account: "st-marys", Micros: 1, Currency: "USD", Reference: "free text with spaces"}, ledger.ErrInvalid, 3_000_000},
		{audit.Credit{Op: "gift", Account: "st-marys", Micros: 1, Currency: "USD"}, ledger.ErrInvalid, 3_000_000},
	}
	for i, c := range cases {
		_, err := l.Credit(ctx, c.c)
		if !errors.Is(err, c.err) || (c.err == nil && err != nil) {
			t.Errorf("credit %d (%s %d): %v, want %v", i, c.c.Op, c.c.Micros, err, c.err)
		}
		if a, _ := l.Account(ctx, "st-marys"); a.Balance != c.balance {
			t.Errorf("credit %d: balance %d, want %d", i, a.Balance, c.balance)
		}
	}
	// An app account, once it exists, is charged instead of the tenant's.
	h, err := l.Reserve(ctx, req("c1", 42))
	if err != nil || h.Account != "st-marys/assistant" {
		t.Errorf("reserve: %+v %v", h, err)
	}
	cases2 := []struct {
		tenant, app, account string
		err                  error
	}{
		{"st-marys", "assistant", "st-marys/assistant", nil},
		{"st-marys", "other", "st-marys", nil},
		{"st-marys", "", "st-marys", nil},
		{"northbank", "support", "", ledger.ErrNoAccount},
	}
	for _, c := range cases2 {
		a, err := l.AccountFor(ctx, c.tenant, c.app)
		if a.Name != c.account || !errors.Is(err, c.err) || (c.err == nil && err != nil) {
			t.Errorf("AccountFor(%s, %s) = %+v, %v", c.tenant, c.app, a, err)
		}
	}
	if a, _ := l.AccountFor(ctx, "st-marys", "assistant"); a.Available != 0 || a.Reserved != 42 {
		t.Errorf("the app account with its reservation: %+v", a)
	}
}

// testConcurrency: 400 concurrent reservations against a balance good for
// 100 of them: exactly 100 succeed, nothing ever goes below zero, and
// after settling every balance reconciles.
func testConcurrency(t *testing.T, open New) {
	const n, fits, max = 400, 100, 10_000
	clock := NewClock(Start)
	f := open(t, ledger.Options{Now: clock.Now})
	l := f.Ledger
	topUp(t, l, "st-marys", fits*max)
	holds := make(chan ledger.Hold, n)
	var wg sync.WaitGroup
	var refused sync.Map
	startGun := make(chan struct{})
	stopWatch := watchNeverNegative(t, f, "st-marys")
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-startGun
			h, err := l.Reserve(ctx, req(fmt.Sprintf("c%03d", i), max))
			switch {
			case err == nil:
				holds <- h
			case errors.Is(err, ledger.ErrInsufficientCredit):
				refused.Store(i, true)
			default:
				t.Error(err)
			}
		}()
	}
	close(startGun)
	wg.Wait()
	close(holds)
	var got []ledger.Hold
	for h := range holds {
		got = append(got, h)
	}
	if len(got) != fits {
		t.Fatalf("%d reservations succeeded, want exactly %d", len(got), fits)
	}
	var charged int64
	var mu sync.Mutex
	for i, h := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := int64(1 + (i*7919)%max) // at most the hold
			if err := l.Settle(ctx, h, ledger.Charge{Micros: c, Currency: "USD"}, outcome(int64(i))); err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			charged += c
			mu.Unlock()
		}()
	}
	wg.Wait()
	stopWatch()
	f.Flush()
	a, _ := l.Account(ctx, "st-marys")
	var costs int64
	for _, r := range f.Records() {
		if r.Kind == audit.KindOutcome && r.Cost != nil && r.Cost.Account == "st-marys" {
			costs += r.Cost.Micros
		}
	}
	if a.Balance != fits*max-charged || costs != charged || a.Reserved != 0 {
		t.Errorf("balance %d, audit costs %d, charged %d, top-up %d: top-up − balance must equal both", a.Balance, costs, charged, fits*max)
	}
}

// watchNeverNegative polls the account until stopped and fails if what is
// available ever goes below zero.
func watchNeverNegative(t *testing.T, f Fixture, account string) func() {
	done, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		for {
			select {
			case <-done:
				return
			default:
			}
			if a, err := f.Ledger.Account(ctx, account); err == nil && (a.Available < 0 || a.Balance < 0) {
				t.Errorf("account went below zero: %+v", a)
				return
			}
			runtime.Gosched()
		}
	}()
	return func() { close(done); <-stopped }
}
