package shared

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/custos-gateway/custos/audit/ledger/pgledger/migrate"
	"github.com/custos-gateway/custos/audit/ledger/pgledger/pgtest"
	"github.com/custos-gateway/custos/gateway/limits"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

var ctx = context.Background()

// clock is an injected clock; tests advance it, never sleep.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func newClock() *clock { return &clock{t: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)} }

func pool(t testing.TB, dsn string) *pgxpool.Pool {
	t.Helper()
	p, err := pgxpool.New(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

// replicas opens n limiters (n pools, as n replicas) on one database.
func replicas(t testing.TB, dsn string, n int, opts Options) []*Limiter {
	t.Helper()
	opts.Replicas = n
	var out []*Limiter
	for range n {
		l, err := New(ctx, pool(t, dsn), opts)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, l)
	}
	return out
}

// One replica enforces a limit exactly as a single-node limiter does.
func TestOneReplicaLikeLimits(t *testing.T) {
	clk := newClock()
	l := replicas(t, pgtest.Shared(t).Database(t), 1, Options{Now: clk.Now})[0]
	lim := limits.Limit{RequestsPerMinute: 3}
	for i, want := range []int64{2, 1, 0} {
		r, st, err := l.Reserve(ctx, "k", lim, 0)
		if err != nil || r == nil || st.Requests.Remaining != want || !st.Allowed {
			t.Fatalf("request %d: %+v %v", i, st, err)
		}
		r.Settle(0)
	}
	steps := []struct {
		advance time.Duration
		err     error
		retry   time.Duration
	}{
		{0, limits.ErrLimited, 20 * time.Second},
		{20*time.Second - time.Nanosecond, limits.ErrLimited, time.Nanosecond},
		{time.Nanosecond, nil, 0},
		{0, limits.ErrLimited, 20 * time.Second},
	}
	for i, s := range steps {
		clk.Advance(s.advance)
		r, st, err := l.Reserve(ctx, "k", lim, 0)
		if !errors.Is(err, s.err) || (s.err == nil) != (r != nil) || st.RetryAfter != s.retry {
			t.Errorf("step %d: %+v %v, want %v after %v", i, st, err, s.err, s.retry)
		}
	}
	if _, _, err := l.Reserve(ctx, "t", limits.Limit{TokensPerMinute: 100}, 101); !errors.Is(err, limits.ErrTooLarge) {
		t.Errorf("more tokens than the limit: %v", err)
	}
}

// The worst case the package documents is reached and not exceeded: three
// replicas each hold a lease while the bucket refills to full; a burst
// then gets the full bucket plus the leases' leftovers, more than one
// bucket would allow, and at most N·L more.
func TestBurstOvershootBound(t *testing.T) {
	const c = 160
	clk := newClock()
	rs := replicas(t, pgtest.Shared(t).Database(t), 3, Options{Now: clk.Now, LeaseTTL: time.Minute})
	lim := limits.Limit{RequestsPerMinute: c}
	L := rs[0].LeaseSize(c)
	for _, l := range rs { // each takes a lease and uses one unit of it
		if _, _, err := l.Reserve(ctx, "k", lim, 0); err != nil {
			t.Fatal(err)
		}
	}
	clk.Advance(10 * time.Second) // the bucket refills to full; the leases are still current
	burst := 0
	for refused := 0; refused < len(rs); {
		refused = 0
		for _, l := range rs {
			if _, _, err := l.Reserve(ctx, "k", lim, 0); errors.Is(err, limits.ErrLimited) {
				refused++
			} else if err != nil {
				t.Fatal(err)
			} else {
				burst++
			}
		}
	}
	single := limits.New(limits.Options{Now: clk.Now})
	alone := 0
	for {
		if _, _, err := single.Reserve("k", lim, 0); err != nil {
			break
		}
		alone++
	}
	t.Logf("burst across 3 replicas: %d; one bucket: %d; bound C + N·L = %d", burst, alone, c+3*L)
	if alone != c || burst <= c || int64(burst) > c+3*L || int64(burst) != c+3*(L-1) {
		t.Errorf("burst %d (one bucket %d): want C + N·(L−1) = %d, within C + N·L = %d", burst, alone, c+3*(L-1), c+3*L)
	}
}

// admission is one request admitted, by which replica and when.
type admission struct {
	at     time.Time
	tokens int64
}

// Random traffic from three replicas, settling, sweeping and the clock
// moving in random steps: in every window the requests and tokens
// admitted stay within C + r·T + N·L.
func TestRandomTrafficWithinBound(t *testing.T) {
	const reqC, tokC = 240, 12000
	clk := newClock()
	rs := replicas(t, pgtest.Shared(t).Database(t), 3, Options{Now: clk.Now})
	lim := limits.Limit{RequestsPerMinute: reqC, TokensPerMinute: tokC}
	rng := rand.New(rand.NewPCG(7, 11))
	var log []admission
	for step := 0; step < 3000; step++ {
		l := rs[rng.IntN(len(rs))]
		switch k := rng.IntN(10); {
		case k < 6:
			tokens := int64(1 + rng.IntN(100))
			r, _, err := l.Reserve(ctx, "k", lim, tokens)
			if err == nil {
				log = append(log, admission{clk.Now(), tokens})
				r.Settle(tokens)
			} else if !errors.Is(err, limits.ErrLimited) {
				t.Fatal(err)
			}
		case k < 9:
			clk.Advance(time.Duration(rng.IntN(400)) * time.Millisecond)
		default:
			if _, err := l.Sweep(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	checkWindows(t, log, reqC, tokC, rs[0].LeaseSize(reqC)*3, rs[0].LeaseSize(tokC)*3)
}

// checkWindows checks every window [log[i].at, log[j].at] of the admissions.
func checkWindows(t *testing.T, log []admission, reqC, tokC, reqSlack, tokSlack int64) {
	t.Helper()
	worst := 0.0
	for i := range log {
		var n, tok int64
		for j := i; j < len(log); j++ {
			n, tok = n+1, tok+log[j].tokens
			span := log[j].at.Sub(log[i].at).Minutes()
			if float64(n) > float64(reqC)+float64(reqC)*span+float64(reqSlack) {
				t.Fatalf("%d requests admitted in %.1fs: more than C + r·T + N·L", n, span*60)
			}
			if float64(tok) > float64(tokC)+float64(tokC)*span+float64(tokSlack) {
				t.Fatalf("%d tokens admitted in %.1fs: more than C + r·T + N·L", tok, span*60)
			}
			worst = max(worst, float64(n)-float64(reqC)-float64(reqC)*span)
		}
	}
	if len(log) < 500 {
		t.Fatalf("only %d admissions: the run tested too little", len(log))
	}
	t.Logf("%d admissions; the largest overshoot of a single bucket's bound: %.1f requests (N·L = %d)", len(log), worst, reqSlack)
}

// Tokens a request used beyond its estimate are a debt its replica pays
// the bucket: with the next lease, or at Sweep when it takes none.
func TestSettlementDebtReachesTheBucket(t *testing.T) {
	clk := newClock()
	rs := replicas(t, pgtest.Shared(t).Database(t), 2, Options{Now: clk.Now})
	lim := limits.Limit{TokensPerMinute: 1000}
	r, _, err := rs[0].Reserve(ctx, "k", lim, 100)
	if err != nil {
		t.Fatal(err)
	}
	r.Settle(900) // 800 beyond the estimate
	clk.Advance(DefaultLeaseTTL)
	if n, err := rs[0].Sweep(ctx); err != nil || n != 1 {
		t.Fatalf("sweep: %d %v", n, err)
	}
	cases := []struct {
		tokens int64
		err    error
	}{
		{117, limits.ErrLimited}, // 1000 − 900 used = 100, and a second's refill: 16⅔
		{116, nil},
	}
	for _, c := range cases {
		_, st, err := rs[1].Reserve(ctx, "k", lim, c.tokens)
		if !errors.Is(err, c.err) || (c.err == nil && err != nil) {
			t.Errorf("%d tokens on the other replica: %+v %v, want %v", c.tokens, st, err, c.err)
		}
	}
}

// PostgreSQL stopped: each replica serves its share of the limit alone,
// promptly; when PostgreSQL is back the shared bucket takes over again.
func TestFallbackWhilePostgresIsDown(t *testing.T) {
	cluster, err := pgtest.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cluster.Close() })
	clk := newClock()
	rs := replicas(t, cluster.Database(t), 3, Options{Now: clk.Now})
	lim := limits.Limit{RequestsPerMinute: 100}
	if _, _, err := rs[0].Reserve(ctx, "k", lim, 0); err != nil {
		t.Fatal(err)
	}
	if err := cluster.Stop(); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Minute) // every lease over: each replica must ask
	for i, l := range rs {
		admitted := 0
		for {
			start := time.Now()
			_, _, err := l.Reserve(ctx, "k", lim, 0)
			if took := time.Since(start); took > DefaultTimeout+2*time.Second {
				t.Fatalf("replica %d: a call took %v while PostgreSQL was down", i, took)
			}
			if err != nil {
				if !errors.Is(err, limits.ErrLimited) {
					t.Fatalf("replica %d: %v", i, err)
				}
				break
			}
			admitted++
		}
		if admitted != 34 { // ⌈100/3⌉
			t.Errorf("replica %d admitted %d alone, want its share 34", i, admitted)
		}
	}
	if err := cluster.Resume(); err != nil {
		t.Fatal(err)
	}
	clk.Advance(DefaultRetryEvery)
	before := rs[0].Stats().Leases
	deadline := time.Now().Add(20 * time.Second)
	for rs[0].Stats().Leases == before {
		if time.Now().After(deadline) {
			t.Fatal("the shared bucket did not take over after PostgreSQL came back")
		}
		rs[0].Reserve(ctx, "k", lim, 0)
		clk.Advance(DefaultRetryEvery)
	}
}

// The schema is applied once, at every start, and a newer one refused.
func TestLimiterMigrations(t *testing.T) {
	dsn := pgtest.Shared(t).Database(t)
	p := pool(t, dsn)
	for i := range 2 {
		if _, err := New(ctx, p, Options{}); err != nil {
			t.Fatalf("start %d: %v", i, err)
		}
	}
	if _, err := p.Exec(ctx, `UPDATE custos_schema SET version = 9 WHERE component = $1`, Component); err != nil {
		t.Fatal(err)
	}
	if _, err := New(ctx, p, Options{}); !errors.Is(err, migrate.ErrNewerSchema) {
		t.Errorf("newer schema: %v", err)
	}
}

// Requests from many goroutines of three replicas at one instant: never
// more than C + N·L.
func TestConcurrentBurst(t *testing.T) {
	const c = 300
	clk := newClock()
	rs := replicas(t, pgtest.Shared(t).Database(t), 3, Options{Now: clk.Now})
	lim := limits.Limit{RequestsPerMinute: c}
	var mu sync.Mutex
	admitted := 0
	var wg sync.WaitGroup
	for g := range 60 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 10 {
				if _, _, err := rs[g%3].Reserve(ctx, "k", lim, 0); err == nil {
					mu.Lock()
					admitted++
					mu.Unlock()
				} else if !errors.Is(err, limits.ErrLimited) {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	if L := rs[0].LeaseSize(c); admitted > c || admitted < c-3*int(L) {
		t.Errorf("%d of 600 admitted at one instant; want between C − N·L = %d and C = %d (the bucket starts full)", admitted, c-3*int(L), c)
	}
}

// BenchmarkReserve measures Reserve + Settle on one hot key from 64
// goroutines of one replica (of three), at exactly the rate the limit
// allows (the injected clock moves a refill's worth per request), against
// a single-node limiter in the same run; it reports how many requests
// share one PostgreSQL call (about L).
func BenchmarkReserve(b *testing.B) {
	clk := newClock()
	l := replicas(b, pgtest.Shared(b).Database(b), 3, Options{Now: clk.Now, LeaseTTL: time.Hour})[0]
	local := limits.New(limits.Options{Now: clk.Now})
	lim := limits.Limit{RequestsPerMinute: 16 * 3 * DefaultLeaseDivisor} // a lease of 16
	step := time.Minute / time.Duration(lim.RequestsPerMinute)
	run := func(reserve func() (func(int64), error)) (time.Duration, int) {
		var wg sync.WaitGroup
		var mu sync.Mutex
		limited := 0
		start := time.Now()
		for g := range 64 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := g; i < b.N; i += 64 {
					clk.Advance(step)
					settle, err := reserve()
					if errors.Is(err, limits.ErrLimited) {
						mu.Lock()
						limited++
						mu.Unlock()
						continue
					} else if err != nil {
						b.Error(err)
						return
					}
					settle(90)
				}
			}()
		}
		wg.Wait()
		return time.Since(start), limited
	}
	b.ResetTimer()
	shared, sharedLimited := run(func() (func(int64), error) {
		r, _, err := l.Reserve(ctx, "k", lim, 100)
		if err != nil {
			return nil, err
		}
		return r.Settle, nil
	})
	single, _ := run(func() (func(int64), error) {
		r, _, err := local.Reserve("k", lim, 100)
		if err != nil {
			return nil, err
		}
		return r.Settle, nil
	})
	b.ReportMetric(float64(b.N)/shared.Seconds(), "shared-requests/s")
	b.ReportMetric(float64(b.N)/single.Seconds(), "local-requests/s")
	b.ReportMetric(float64(b.N-sharedLimited)/float64(max(l.Stats().Leases, 1)), "requests/lease")
	b.ReportMetric(0, "ns/op")
}
