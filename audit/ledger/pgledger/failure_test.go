package pgledger_test

import (
	"context"
	"errors"
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

const callTimeout = time.Second

// bound is how long any call may take while PostgreSQL is down: its
// timeout and scheduling slack on a busy machine.
const bound = callTimeout + 2*time.Second

// PostgreSQL stopped mid-run (as pg_ctl stop -m fast does): every call
// fails promptly with ledger.ErrUnavailable and nothing is granted; after
// the restart the same pools serve again with no repair, the settlements
// that failed are retried, and the journal reconciles with the audit log.
func TestPostgresStoppedMidRun(t *testing.T) {
	cluster, err := pgtest.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := cluster.Close(); err != nil {
			t.Error(err)
		}
	})
	clock := ledgertest.NewClock(time.Now().UTC())
	r := openReplica(t, cluster.Database(t), "gw-1", pgledger.Options{Timeout: callTimeout, Options: ledger.Options{Now: clock.Now}})
	topUp(t, r.led, "st-marys", 1_000_000_000)
	open, err := r.led.Reserve(ctx, request("open-across-the-outage", 5000))
	if err != nil {
		t.Fatal(err)
	}
	w := startWorkers(t, r.led, 8)
	time.Sleep(300 * time.Millisecond) // a run in progress
	if err := cluster.Stop(); err != nil {
		t.Fatal(err)
	}
	w.phase(200 * time.Millisecond) // calls in flight at the stop
	during := w.phase(500 * time.Millisecond)
	checkDown(t, r.led, open)
	if err := cluster.Resume(); err != nil {
		t.Fatal(err)
	}
	waitUp(t, r.led)
	w.phase(200 * time.Millisecond)
	after := w.phase(500 * time.Millisecond)
	w.stop()
	t.Logf("while down: %+v; after the restart: %+v; %+v", during, after, r.led.Stats())
	if during.ok != 0 || during.unavailable == 0 || during.other != 0 || during.slowest > bound {
		t.Errorf("while down: %+v; want every call refused as unavailable within %v", during, bound)
	}
	if after.ok == 0 || after.unavailable != 0 || after.other != 0 {
		t.Errorf("after the restart: %+v; want every call served", after)
	}
	left, err := r.led.Retry(ctx)
	if err != nil || left != 0 {
		t.Fatalf("retrying the queued settlements: %d left, %v", left, err)
	}
	if err := r.led.Settle(ctx, open, ledger.Charge{Micros: 1, Currency: "USD"}, outcome(1)); !errors.Is(err, ledger.ErrSettled) {
		t.Errorf("the hold settled during the outage, again: %v", err)
	}
	// A reservation whose answer was lost with the connection is held
	// until its TTL.
	clock.Advance(ledger.DefaultHoldTTL)
	if _, err := r.led.Reclaim(ctx); err != nil {
		t.Fatal(err)
	}
	r.close()
	rep := verifyOK(t, r.pool, r.path)
	if st := rep.Accounts[0]; st.Requests != w.charged.Load()+1 || st.Reserved != 0 {
		t.Errorf("journal: %d charges, %d reserved; the workers settled %d (and one hold across the outage)", st.Requests, st.Reserved, w.charged.Load())
	}
}

// checkDown calls every operation while PostgreSQL is down.
func checkDown(t *testing.T, l *pgledger.Ledger, open ledger.Hold) {
	t.Helper()
	calls := []struct {
		name string
		do   func() error
	}{
		{"reserve", func() error { _, err := l.Reserve(ctx, request("down-1", 1)); return err }},
		{"release", func() error { return l.Release(ctx, ledger.Hold{RequestID: "down-2"}) }},
		{"account", func() error { _, err := l.Account(ctx, "st-marys"); return err }},
		{"account for", func() error { _, err := l.AccountFor(ctx, "st-marys", "assistant"); return err }},
		{"credit", func() error {
			_, err := l.Credit(ctx, audit.Credit{Op: audit.CreditTopUp, Account: "st-marys", Micros: 1, Currency: "USD"})
			return err
		}},
		{"reclaim", func() error { _, err := l.Reclaim(ctx); return err }},
		{"settle", func() error { return l.Settle(ctx, open, ledger.Charge{Micros: 4000, Currency: "USD"}, outcome(10)) }},
	}
	for _, c := range calls {
		start := time.Now()
		err := c.do()
		if took := time.Since(start); !errors.Is(err, ledger.ErrUnavailable) || took > bound {
			t.Errorf("%s while down: %v after %v; want ErrUnavailable within %v", c.name, err, took, bound)
		}
	}
	if st := l.Stats(); st.Waiting == 0 {
		t.Errorf("the settlement during the outage was not queued: %+v", st)
	}
}

// waitUp waits until the ledger serves again, with no repair.
func waitUp(t *testing.T, l *pgledger.Ledger) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, err := l.Account(ctx, "st-marys")
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not serving 20s after the restart: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// workers reserve and settle in a loop; phase counts outcomes over a span.
type workers struct {
	l       *pgledger.Ledger
	quit    chan struct{}
	wg      sync.WaitGroup
	mu      sync.Mutex
	cur     tally
	charged atomic.Int64 // settlements that succeeded or were queued
	seq     atomic.Int64
}

type tally struct {
	ok, unavailable, other int
	slowest                time.Duration
}

func startWorkers(t *testing.T, l *pgledger.Ledger, n int) *workers {
	w := &workers{l: l, quit: make(chan struct{})}
	for range n {
		w.wg.Add(1)
		go func() { defer w.wg.Done(); w.loop(t) }()
	}
	return w
}

func (w *workers) count(err error, took time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.cur.slowest = max(w.cur.slowest, took)
	switch {
	case err == nil:
		w.cur.ok++
	case errors.Is(err, ledger.ErrUnavailable):
		w.cur.unavailable++
	default:
		w.cur.other++
	}
}

func (w *workers) loop(t *testing.T) {
	for {
		select {
		case <-w.quit:
			return
		default:
		}
		rid := id("w", int(w.seq.Add(1)))
		start := time.Now()
		h, err := w.l.Reserve(context.Background(), request(rid, 5000))
		w.count(err, time.Since(start))
		if err != nil {
			if !errors.Is(err, ledger.ErrUnavailable) {
				t.Error(err)
			}
			continue // a hold committed before the connection broke expires with its TTL
		}
		start = time.Now()
		err = w.l.Settle(context.Background(), h, ledger.Charge{Micros: 1234, Currency: "USD"}, outcome(7))
		w.count(err, time.Since(start))
		if err == nil || errors.Is(err, ledger.ErrUnavailable) { // served: charged now or queued
			w.charged.Add(1)
		} else {
			t.Error(err)
		}
	}
}

// phase resets the tally, waits d and returns what happened meanwhile.
func (w *workers) phase(d time.Duration) tally {
	w.mu.Lock()
	w.cur = tally{}
	w.mu.Unlock()
	time.Sleep(d)
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.cur
}

func (w *workers) stop() { close(w.quit); w.wg.Wait() }
