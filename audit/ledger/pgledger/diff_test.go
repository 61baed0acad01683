package pgledger_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/custos-gateway/custos/audit"
	"github.com/custos-gateway/custos/audit/ledger"
	"github.com/custos-gateway/custos/audit/ledger/ledgertest"
	"github.com/custos-gateway/custos/audit/ledger/pgledger"
	"github.com/custos-gateway/custos/audit/ledger/pgledger/pgtest"
)

// class names what a call answered, as far as the semantics go (messages
// may differ between backends).
func class(err error) string {
	var be *ledger.BudgetError
	switch {
	case err == nil:
		return "ok"
	case errors.As(err, &be):
		return fmt.Sprintf("budget %s %s tokens=%v limit=%d used=%d asked=%d reset=%s", be.Scope, be.Period, be.Tokens, be.Limit, be.Used, be.Asked, be.ResetAt)
	}
	for _, s := range []error{ledger.ErrInsufficientCredit, ledger.ErrDuplicate, ledger.ErrSettled, ledger.ErrUnknownHold,
		ledger.ErrCurrency, ledger.ErrNoAccount, ledger.ErrInvalid} {
		if errors.Is(err, s) {
			return s.Error()
		}
	}
	return "other: " + err.Error()
}

// pair is the same hold as each backend returned it.
type pair struct {
	pg, bolt ledger.Hold
	created  time.Time
	ended    bool
}

// diffRun drives both backends with the same random operations.
type diffRun struct {
	t     *testing.T
	rng   *rand.Rand
	clock *ledgertest.Clock
	ttl   time.Duration
	pg    ledger.Ledger
	bolt  *ledger.BoltLedger
	blog  *audit.Log
	holds []*pair
	n     int
	seen  map[string]int // answers, by kind
}

// Given the same operations on the same clock (reservations that fit or
// not, over budgets, in the wrong currency, twice; settlements above and
// below the hold, late, after a release; credits; holds expiring across
// midnight at the end of a month), the PostgreSQL ledger answers exactly
// as the bbolt ledger does and leaves the same accounts.
func TestSameAnswersAsBolt(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3} {
		t.Run(fmt.Sprint("seed=", seed), func(t *testing.T) {
			ttl := 10 * time.Minute
			clock := ledgertest.NewClock(ledgertest.Start)
			opts := ledger.Options{Now: clock.Now, HoldTTL: ttl, Postpaid: []string{"northbank"}, Budgets: []ledger.Budget{
				{Scope: ledger.ScopeApp("st-marys", "assistant"), Period: ledger.Day, MaxMicros: 150_000, Currency: "USD"},
				{Scope: ledger.ScopeApp("st-marys", "assistant"), Period: ledger.Day, MaxTokens: 2_000}, // the same key twice
				{Scope: ledger.ScopeKey("k1"), Period: ledger.Month, MaxTokens: 5_000},
				{Scope: ledger.ScopeTenant("northbank"), Period: ledger.Month, MaxMicros: 90_000, Currency: "USD"},
			}}
			r := openReplica(t, pgtest.Shared(t).Database(t), "gw-1", pgledger.Options{Options: opts})
			bolt, blog, err := ledger.OpenBolt(filepath.Join(t.TempDir(), "bolt.db"), audit.Options{Instance: "gw-1", Now: clock.Now}, opts)
			if err != nil {
				t.Fatal(err)
			}
			defer blog.Close()
			d := &diffRun{t: t, rng: rand.New(rand.NewPCG(seed, 7)), clock: clock, ttl: ttl, pg: r.led, bolt: bolt, blog: blog, seen: map[string]int{}}
			for d.n = 0; d.n < 500 && !t.Failed(); d.n++ {
				d.step()
				d.compareAccounts()
			}
			for _, want := range []string{"ok", "budget", ledger.ErrInsufficientCredit.Error(), ledger.ErrDuplicate.Error(), ledger.ErrSettled.Error(),
				ledger.ErrUnknownHold.Error(), ledger.ErrCurrency.Error(), ledger.ErrNoAccount.Error()} {
				if d.seen[want] == 0 {
					t.Errorf("no call answered %q: the run tested less than it should (%v)", want, d.seen)
				}
			}
			t.Logf("answers: %v", d.seen)
			r.close()
			verifyOK(t, r.pool, r.path)
		})
	}
}

func (d *diffRun) step() {
	switch k := d.rng.IntN(100); {
	case k < 40:
		d.reserve()
	case k < 65:
		d.settle()
	case k < 75:
		d.release()
	case k < 85:
		d.credit()
	case k < 95:
		d.clock.Advance(time.Duration(d.rng.IntN(300)) * time.Second)
	default:
		d.both("account for", func(l ledger.Ledger) (any, error) {
			a, err := l.AccountFor(ctx, "st-marys", "assistant")
			return a.Name, err
		})
	}
}

// both calls f on each backend and compares what they answered.
func (d *diffRun) both(what string, f func(ledger.Ledger) (any, error)) (any, any, error) {
	d.t.Helper()
	pv, perr := f(d.pg)
	bv, berr := f(d.bolt)
	if err := d.blog.Flush(); err != nil {
		d.t.Fatal(err)
	}
	kind, _, _ := strings.Cut(class(perr), " ")
	if kind == "ledger:" {
		kind = class(perr)
	}
	d.seen[kind]++
	if class(perr) != class(berr) || fmt.Sprint(pv) != fmt.Sprint(bv) {
		d.t.Fatalf("step %d, %s: postgres %v (%v), bbolt %v (%v)", d.n, what, pv, class(perr), bv, class(berr))
	}
	return pv, bv, perr
}

func (d *diffRun) reserve() {
	tenants := []ledger.Request{{Tenant: "st-marys", App: "assistant", KeyID: "k1"}, {Tenant: "st-marys", App: "other", KeyID: "k2"},
		{Tenant: "northbank", App: "support"}, {Tenant: "ghost"}}
	r := tenants[d.rng.IntN(len(tenants))]
	r.RequestID = fmt.Sprint("d", d.n)
	if last := len(d.holds) - 1; last >= 0 && d.rng.IntN(10) == 0 && d.clock.Now().Before(d.holds[last].created.Add(2*d.ttl)) {
		r.RequestID = d.holds[last].pg.RequestID // the same request again, while both remember it
	}
	r.Currency, r.MaxMicros, r.MaxTokens = "USD", int64(d.rng.IntN(20_000)), int64(d.rng.IntN(400))
	if d.rng.IntN(15) == 0 {
		r.Currency = "EUR"
	}
	var ph, bh ledger.Hold
	_, _, err := d.both("reserve "+r.RequestID, func(l ledger.Ledger) (any, error) {
		h, err := l.Reserve(ctx, r)
		if l == d.pg {
			ph = h
		} else {
			bh = h
		}
		return h, err
	})
	if err == nil {
		d.holds = append(d.holds, &pair{pg: ph, bolt: bh, created: d.clock.Now()})
	}
}

// pick chooses a hold to end, leaving out ended ones their backends may
// have forgotten (two TTLs on): there the bbolt ledger no longer knows a
// request was charged, the journal does (ErrUnknownHold against
// ErrSettled).
func (d *diffRun) pick() *pair {
	if len(d.holds) == 0 {
		return nil
	}
	p := d.holds[d.rng.IntN(len(d.holds))]
	if p.ended && !d.clock.Now().Before(p.created.Add(2*d.ttl)) {
		return nil
	}
	return p
}

func (d *diffRun) settle() {
	p := d.pick()
	if p == nil {
		d.both("settle an unknown request", func(l ledger.Ledger) (any, error) {
			return nil, l.Settle(ctx, ledger.Hold{RequestID: "nobody"}, ledger.Charge{Micros: 5, Currency: "USD"}, outcome(3))
		})
		return
	}
	c := ledger.Charge{Micros: p.pg.Micros * int64(d.rng.IntN(150)) / 100, Currency: "USD", PriceVersion: "p1"}
	if d.rng.IntN(20) == 0 {
		c.Currency = "EUR"
	}
	tokens := int64(d.rng.IntN(500))
	d.both("settle "+p.pg.RequestID, func(l ledger.Ledger) (any, error) {
		h := p.pg
		if l == d.bolt {
			h = p.bolt
		}
		return nil, l.Settle(ctx, h, c, outcome(tokens))
	})
	p.ended = true
}

func (d *diffRun) release() {
	if p := d.pick(); p != nil {
		d.both("release "+p.pg.RequestID, func(l ledger.Ledger) (any, error) {
			h := p.pg
			if l == d.bolt {
				h = p.bolt
			}
			return nil, l.Release(ctx, h)
		})
		p.ended = true
	}
}

func (d *diffRun) credit() {
	ops := []audit.Credit{{Op: audit.CreditTopUp, Micros: int64(1 + d.rng.IntN(60_000))}, {Op: audit.CreditRefund, Micros: -int64(1 + d.rng.IntN(30_000))},
		{Op: audit.CreditAdjust, Micros: int64(d.rng.IntN(20_000) - 10_000)}, {Op: audit.CreditExpire, Micros: -int64(1 + d.rng.IntN(5_000))}}
	c := ops[d.rng.IntN(len(ops))]
	if c.Op == audit.CreditAdjust && c.Micros == 0 {
		c.Micros = 1
	}
	c.Account = []string{"st-marys", "st-marys", "st-marys/assistant", "northbank"}[d.rng.IntN(4)]
	c.Currency = "USD"
	d.both(fmt.Sprintf("%s %d to %s", c.Op, c.Micros, c.Account), func(l ledger.Ledger) (any, error) {
		a, err := l.Credit(ctx, c)
		return a, err
	})
}

func (d *diffRun) compareAccounts() {
	d.t.Helper()
	for _, name := range []string{"st-marys", "st-marys/assistant", "northbank", "ghost"} {
		d.both("account "+name, func(l ledger.Ledger) (any, error) { return l.Account(ctx, name) })
	}
}
