package pgledger

import (
	"context"
	"sync"
	"time"

	"github.com/custos-gateway/custos/audit"
)

// retryQueue holds settlements PostgreSQL did not take, by request id.
type retryQueue struct {
	mu  sync.Mutex
	max int
	m   map[string]settlement
}

func (q *retryQueue) init(max int) { q.max, q.m = max, map[string]settlement{} }

// add queues s; false when the queue is full (s then waits for Resettle).
func (q *retryQueue) add(s settlement) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.m) >= q.max {
		return false
	}
	q.m[s.id] = s
	return true
}

func (q *retryQueue) snapshot() []settlement {
	q.mu.Lock()
	defer q.mu.Unlock()
	out := make([]settlement, 0, len(q.m))
	for _, s := range q.m {
		out = append(out, s)
	}
	return out
}

func (q *retryQueue) done(id string) {
	q.mu.Lock()
	delete(q.m, id)
	q.mu.Unlock()
}

func (q *retryQueue) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.m)
}

func (l *Ledger) retryLoop() {
	defer close(l.done)
	t := time.NewTicker(l.opts.RetryEvery)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
			if l.retry.len() > 0 {
				l.Retry(context.Background())
			}
		}
	}
}

// Retry applies the queued settlements now and returns how many are left;
// it stops at the first that PostgreSQL does not take. The ledger runs it
// every Options.RetryEvery.
func (l *Ledger) Retry(ctx context.Context) (int, error) {
	for _, s := range l.retry.snapshot() {
		cctx, cancel := l.call(ctx)
		_, err := l.charge(cctx, s, l.now())
		cancel()
		if err != nil {
			return l.retry.len(), err
		}
		l.retry.done(s.id) // charged now, charged before, or refused for good (Reconcile lists it)
	}
	return l.retry.len(), nil
}

// Resettled counts what Resettle did.
type Resettled struct {
	Charged int // charged now
	Already int // charged before
	Refused int // no such account, or in another currency
}

// Resettle charges, once, the outcomes of the given audit records that
// name an account to charge and that PostgreSQL has no charge for (a
// replica stopped while PostgreSQL was unreachable, or between the two
// writes): Reconcile's Uncharged list. Each is charged to its record's
// account, on the record's time, as its replica; a request charged before
// is left alone.
func (l *Ledger) Resettle(ctx context.Context, records []audit.Record) (Resettled, error) {
	var out Resettled
	for _, r := range records {
		if r.Kind != audit.KindOutcome || r.Cost == nil || r.Cost.Account == "" {
			continue
		}
		s := settlement{id: r.RequestID, account: r.Cost.Account, tenant: r.Tenant, app: r.App, key: r.KeyID,
			replica: r.Instance, currency: r.Cost.Currency, micros: r.Cost.Micros, priceVersion: r.Cost.PriceVersion,
			estimated: r.Cost.Estimated, at: r.Time.UTC().Truncate(time.Microsecond), fallback: true}
		if r.Tokens != nil {
			s.tokens = r.Tokens.Prompt + r.Tokens.Completion
		}
		cctx, cancel := l.call(ctx)
		res, err := l.charge(cctx, s, l.now())
		cancel()
		switch {
		case err != nil:
			return out, err
		case res.status == "ok":
			out.Charged++
		case res.status == "settled":
			out.Already++
		default:
			out.Refused++
		}
	}
	return out, nil
}
