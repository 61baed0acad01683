package pgledger_test

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/custos-gateway/custos/audit"
	"github.com/custos-gateway/custos/audit/ledger"
	"github.com/custos-gateway/custos/audit/ledger/ledgertest"
	"github.com/custos-gateway/custos/audit/ledger/pgledger"
	"github.com/custos-gateway/custos/audit/ledger/pgledger/pgtest"
)

// threeReplicas opens three replicas (three pools, three audit logs) on
// one fresh database.
func threeReplicas(t *testing.T, opts pgledger.Options) (string, []*replica) {
	dsn := pgtest.Shared(t).Database(t)
	var rs []*replica
	for i := range 3 {
		rs = append(rs, openReplica(t, dsn, fmt.Sprintf("gw-%d", i+1), opts))
	}
	return dsn, rs
}

// watch polls the account from a pool of its own until stopped and
// reports the lowest available and balance it saw.
func watch(t *testing.T, l ledger.Ledger, account string) func() (minAvailable, minBalance int64) {
	done, stopped := make(chan struct{}), make(chan struct{})
	var lowA, lowB int64 = 1 << 62, 1 << 62
	go func() {
		defer close(stopped)
		for {
			select {
			case <-done:
				return
			default:
			}
			if a, err := l.Account(ctx, account); err == nil {
				lowA, lowB = min(lowA, a.Available), min(lowB, a.Balance)
			}
		}
	}()
	return func() (int64, int64) { close(done); <-stopped; return lowA, lowB }
}

// 600 concurrent reservations spread over three replicas against a
// balance good for 150: exactly 150 are served, the rest refused for
// credit, nothing ever goes below zero, and afterwards the journal total,
// the sum of what was settled, the three audit logs' costs and top-up −
// balance agree to the micro-unit.
func TestReplicasShareOneBalance(t *testing.T) {
	const n, fits, hold = 600, 150, 10_000
	clock := ledgertest.NewClock(ledgertest.Start)
	dsn, rs := threeReplicas(t, pgledger.Options{Options: ledger.Options{Now: clock.Now}})
	topUp(t, rs[0].led, "st-marys", fits*hold)
	observer := openReplica(t, dsn, "observer", pgledger.Options{Options: ledger.Options{Now: clock.Now}})
	stop := watch(t, observer.led, "st-marys")
	var refused atomic.Int64
	holds := make(chan ledger.Hold, n)
	storm(n, func(i int) {
		h, err := rs[i%3].led.Reserve(ctx, request(id("c", i), hold))
		switch {
		case errors.Is(err, ledger.ErrInsufficientCredit):
			refused.Add(1)
		case err != nil:
			t.Error(err)
		default:
			holds <- h
		}
	})
	close(holds)
	var served []ledger.Hold
	for h := range holds {
		served = append(served, h)
	}
	if len(served) != fits || refused.Load() != n-fits {
		t.Fatalf("%d served, %d refused; want exactly %d served", len(served), refused.Load(), fits)
	}
	var settled atomic.Int64
	storm(len(served), func(i int) { // each settled by another replica than the one that reserved it
		cost := int64(1 + (i*7919)%hold)
		err := rs[(i+1)%3].led.Settle(ctx, served[i], ledger.Charge{Micros: cost, Currency: "USD", PriceVersion: "p1"}, outcome(int64(i)))
		if err != nil {
			t.Error(err)
			return
		}
		settled.Add(cost)
	})
	lowA, lowB := stop()
	if lowA < 0 || lowB < 0 {
		t.Errorf("the account went below zero: available %d, balance %d", lowA, lowB)
	}
	var files []string
	var auditCosts int64
	for _, r := range append(rs, observer) {
		if err := r.log.Flush(); err != nil {
			t.Fatal(err)
		}
		for _, rec := range records(t, r.log) {
			if rec.Kind == audit.KindOutcome && rec.Cost != nil && rec.Cost.Account == "st-marys" {
				auditCosts += rec.Cost.Micros
			}
		}
		r.close()
		files = append(files, r.path)
	}
	rep := verifyOK(t, rs[0].pool, files...)
	a := rep.Accounts[0]
	if a.Charges != settled.Load() || auditCosts != settled.Load() || fits*hold-a.Stored != settled.Load() || a.Requests != fits || a.Reserved != 0 {
		t.Errorf("journal %d, settled %d, audit logs %d, top-up − balance %d, %d requests", a.Charges, settled.Load(), auditCosts, fits*hold-a.Stored, a.Requests)
	}
}

// A replica killed with reservations open (its pool dropped, nothing
// released) leaves them held until their TTL; then any other replica
// reclaims them, once, however many reclaim at the same time.
func TestKilledReplicasHoldsAreReclaimed(t *testing.T) {
	const ttl = 10 * time.Minute
	clock := ledgertest.NewClock(ledgertest.Start)
	_, rs := threeReplicas(t, pgledger.Options{Options: ledger.Options{Now: clock.Now, HoldTTL: ttl,
		Budgets: []ledger.Budget{{Scope: ledger.ScopeApp("st-marys", "assistant"), Period: ledger.Day, MaxMicros: 1_000_000, Currency: "USD"}}}})
	dead, b, c := rs[0], rs[1], rs[2]
	topUp(t, b.led, "st-marys", 100_000)
	for i := range 5 {
		if _, err := dead.led.Reserve(ctx, request(id("dead", i), 10_000)); err != nil {
			t.Fatal(err)
		}
	}
	dead.pool.Close() // killed: no release, no settlement
	clock.Advance(ttl - time.Second)
	steps := []struct {
		name      string
		advance   time.Duration
		available int64
		reserve   int64
		err       error
	}{
		{"before the TTL the dead replica's holds count", 0, 50_000, 50_001, ledger.ErrInsufficientCredit},
		{"at the TTL they are reclaimed", time.Second, 100_000, 100_000, nil},
	}
	for i, s := range steps {
		clock.Advance(s.advance)
		if s.err == nil { // two replicas reclaim at once: each hold comes back once
			reclaimTogether(t, 5, b.led, c.led)
		}
		if a, err := b.led.Account(ctx, "st-marys"); err != nil || a.Available != s.available {
			t.Errorf("%s: %+v %v, want %d available", s.name, a, err, s.available)
		}
		h, err := c.led.Reserve(ctx, request(id("live", i), s.reserve))
		if !errors.Is(err, s.err) || (s.err == nil && err != nil) {
			t.Errorf("%s: reserve %d: %v, want %v", s.name, s.reserve, err, s.err)
		}
		if err == nil {
			c.led.Release(ctx, h)
		}
	}
	verifyOK(t, b.pool)
}

// storm runs f(0..n-1), each in a goroutine of its own, all released at
// once.
func storm(n int, f func(i int)) {
	var wg sync.WaitGroup
	gun := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-gun
			f(i)
		}()
	}
	close(gun)
	wg.Wait()
}

// reclaimTogether runs Reclaim on every ledger at once, several times, and
// checks that want holds were reclaimed in all.
func reclaimTogether(t *testing.T, want int, ls ...*pgledger.Ledger) {
	t.Helper()
	var total atomic.Int64
	var wg sync.WaitGroup
	for _, l := range ls {
		for range 3 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				n, err := l.Reclaim(ctx)
				if err != nil {
					t.Error(err)
				}
				total.Add(int64(n))
			}()
		}
	}
	wg.Wait()
	if total.Load() != int64(want) {
		t.Errorf("%d holds reclaimed, want %d", total.Load(), want)
	}
}
