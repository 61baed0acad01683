package limits

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// clock is an injected clock; tests advance it, never sleep.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock(s string) *clock {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return &clock{t: t}
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func headers(s Status) map[string]string {
	h := map[string]string{}
	s.Headers(func(k, v string) { h[k] = v })
	return h
}

func TestRequestsPerMinute(t *testing.T) {
	clk := newClock("2026-03-01T10:00:00Z")
	l := New(Options{Now: clk.Now})
	lim := Limit{RequestsPerMinute: 3}
	for i, want := range []int64{2, 1, 0} {
		r, st, err := l.Reserve("k", lim, 0)
		if err != nil || r == nil || st.Requests.Remaining != want || !st.Allowed {
			t.Fatalf("request %d: %+v %v", i, st, err)
		}
	}
	_, st, err := l.Reserve("k", lim, 0)
	if !errors.Is(err, ErrLimited) || st.Allowed || st.RetryAfter != 20*time.Second {
		t.Fatalf("4th request: %+v %v; want limited for 20s", st, err)
	}
	h := headers(st)
	want := map[string]string{"x-ratelimit-limit-requests": "3", "x-ratelimit-remaining-requests": "0",
		"x-ratelimit-reset-requests": "1m0s", "retry-after": "20", "retry-after-ms": "20000"}
	if fmt.Sprint(h) != fmt.Sprint(want) {
		t.Errorf("headers %v, want %v", h, want)
	}
	clk.Advance(20*time.Second - time.Nanosecond)
	if _, st, err := l.Reserve("k", lim, 0); !errors.Is(err, ErrLimited) || st.RetryAfter != time.Nanosecond {
		t.Fatalf("1ns early: %+v %v", st, err)
	}
	clk.Advance(time.Nanosecond)
	if _, st, err := l.Reserve("k", lim, 0); err != nil || st.Requests.Remaining != 0 || st.Requests.Reset != time.Minute {
		t.Fatalf("after 20s: %+v %v", st, err)
	}
}

func TestTokensReserveAndSettle(t *testing.T) {
	clk := newClock("2026-03-01T10:00:00Z")
	l := New(Options{Now: clk.Now})
	lim := Limit{RequestsPerMinute: 100, TokensPerMinute: 1000}
	steps := []struct {
		name            string
		reserve, settle int64 // settle < 0: keep the reservation open
		remaining       int64
		err             error
		retry           time.Duration
	}{
		{"estimate taken", 600, -1, 400, nil, 0},
		{"does not fit", 500, -1, 400, ErrLimited, 6 * time.Second}, // 100 more tokens at 1000/min
		{"too large ever", 1001, -1, 400, ErrTooLarge, 0},
	}
	var open *Reservation
	for _, s := range steps {
		r, st, err := l.Reserve("k", lim, s.reserve)
		if !errors.Is(err, s.err) || (s.err == nil) != (err == nil) || st.Tokens.Remaining != s.remaining || st.RetryAfter != s.retry {
			t.Fatalf("%s: %+v %v", s.name, st, err)
		}
		if r != nil {
			open = r
		}
	}
	open.Settle(250)
	if st := l.Peek("k", lim); st.Tokens.Remaining != 750 {
		t.Fatalf("settled below the estimate: %+v", st)
	}
	open.Settle(0)
	if st := l.Peek("k", lim); st.Tokens.Remaining != 750 {
		t.Fatalf("a second Settle had an effect: %+v", st)
	}
	r, _, _ := l.Reserve("k", lim, 100)
	r.Settle(1350)
	if st := l.Peek("k", lim); st.Tokens.Remaining != 0 || st.Tokens.Reset != 96*time.Second { // 650-1250 = -600: 1600 to refill
		t.Fatalf("settled above the estimate: %+v", st)
	}
	if _, st, err := l.Reserve("k", lim, 10); !errors.Is(err, ErrLimited) || st.RetryAfter != 36600*time.Millisecond {
		t.Fatalf("in debt: %+v %v", st, err) // 610 tokens to come back at 1000/min
	}
}

// Refills keep their sub-unit remainders: 7 per minute, refilled in a
// thousand uneven steps that sum to a minute, is exactly 7 again.
func TestRefillIsExact(t *testing.T) {
	clk := newClock("2026-03-01T10:00:00Z")
	l := New(Options{Now: clk.Now})
	lim := Limit{RequestsPerMinute: 7, TokensPerMinute: 999_983}
	for range 7 {
		if r, _, err := l.Reserve("k", lim, 999_983/7); err != nil {
			t.Fatal(err)
		} else {
			r.Settle(999_983 / 7)
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	left := time.Minute
	for i := 0; left > 0; i++ {
		d := min(time.Duration(rng.Int64N(int64(150*time.Millisecond)))+1, left)
		if i%100 == 0 {
			l.Reserve("other", lim, 0) // unrelated traffic, same shard or not
		}
		clk.Advance(d)
		left -= d
		if i%10 == 0 {
			r, _, err := l.Reserve("probe", Limit{}, 0)
			if err != nil {
				t.Fatal(err)
			}
			r.Settle(0)
		}
	}
	r, st, err := l.Reserve("k", lim, 0)
	if err != nil || st.Requests.Remaining != 6 || st.Tokens.Remaining != 999_983 {
		t.Fatalf("after a minute: %+v %v", st, err)
	}
	r.Settle(0)
}

// A rolling minute knows no calendar: crossing midnight, a month end, a
// leap day or a new year changes nothing, and a clock stepping back never
// refills or panics.
func TestCalendarBoundariesAndClockSteps(t *testing.T) {
	for _, start := range []string{"2025-12-31T23:59:30Z", "2028-02-28T23:59:45Z", "2026-03-29T00:59:50Z"} {
		clk := newClock(start)
		l := New(Options{Now: clk.Now})
		lim := Limit{RequestsPerMinute: 2}
		l.Reserve("k", lim, 0)
		l.Reserve("k", lim, 0)
		clk.Advance(30 * time.Second) // across the boundary
		if _, st, err := l.Reserve("k", lim, 0); err != nil || st.Requests.Remaining != 0 {
			t.Errorf("%s +30s: %+v %v", start, st, err)
		}
		clk.Advance(-10 * time.Minute)
		if _, st, err := l.Reserve("k", lim, 0); !errors.Is(err, ErrLimited) || st.RetryAfter != 30*time.Second {
			t.Errorf("%s after the clock stepped back: %+v %v", start, st, err)
		}
		clk.Advance(10*time.Minute + 30*time.Second)
		if _, _, err := l.Reserve("k", lim, 0); err != nil {
			t.Errorf("%s after the clock caught up: %v", start, err)
		}
	}
}

func TestLimitChanges(t *testing.T) {
	clk := newClock("2026-03-01T10:00:00Z")
	l := New(Options{Now: clk.Now})
	l.Reserve("k", Limit{RequestsPerMinute: 10}, 0)
	if _, st, _ := l.Reserve("k", Limit{RequestsPerMinute: 4}, 0); st.Requests.Remaining != 3 || st.Requests.Limit != 4 {
		t.Errorf("lowered limit: %+v", st)
	}
	if _, st, _ := l.Reserve("k", Limit{RequestsPerMinute: 100}, 0); st.Requests.Remaining != 2 {
		t.Errorf("raised limit keeps the content: %+v", st)
	}
	if _, st, _ := l.Reserve("k", Limit{RequestsPerMinute: 100, TokensPerMinute: 50}, 20); st.Tokens.Remaining != 30 {
		t.Errorf("a newly limited dimension starts full: %+v", st)
	}
	if _, _, err := l.Reserve("k", Limit{RequestsPerMinute: -1}, 0); !errors.Is(err, ErrInvalid) {
		t.Errorf("negative limit: %v", err)
	}
	if _, st, err := l.Reserve("free", Limit{}, 1e9); err != nil || len(headers(st)) != 0 {
		t.Errorf("no limits: %+v %v", st, err)
	}
}

// Memory stays bounded under many keys: full, idle buckets are dropped (a
// new bucket would start full anyway); when every bucket is busy, new keys
// are refused rather than tracked without bound.
func TestManyKeysStayBounded(t *testing.T) {
	clk := newClock("2026-03-01T10:00:00Z")
	const maxKeys = shards * 4
	l := New(Options{Now: clk.Now, MaxKeys: maxKeys})
	// A key is full again a second after a request, so arriving every
	// 300ms at most four are live: fewer than any shard holds, wherever the
	// (randomly seeded) hash puts them.
	lim := Limit{RequestsPerMinute: 60}
	for _, phase := range []struct {
		name    string
		gap     time.Duration
		refused bool
	}{{"keys arriving slowly", 300 * time.Millisecond, false}, {"a burst of new keys", time.Millisecond, true}} {
		refused := 0
		for i := range 20000 {
			r, _, err := l.Reserve(fmt.Sprintf("%s-%d", phase.name, i), lim, 0)
			switch {
			case errors.Is(err, ErrTooManyKeys):
				refused++
			case err != nil:
				t.Fatal(err)
			default:
				r.Settle(0)
			}
			if n := l.Keys(); n > maxKeys {
				t.Fatalf("%s: %d keys held, bound %d", phase.name, n, maxKeys)
			}
			clk.Advance(phase.gap)
		}
		if (refused > 0) != phase.refused || refused > 20000*9/10 {
			t.Errorf("%s: %d of 20000 new keys refused", phase.name, refused)
		}
	}
	clk.Advance(time.Minute)
	if dropped := l.Sweep(); dropped == 0 || l.Keys() != 0 {
		t.Errorf("after a quiet minute: %d dropped, %d held", dropped, l.Keys())
	}
	// Open reservations pin their buckets, however long.
	r, _, err := l.Reserve("open", lim, 0)
	if err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Hour)
	l.Sweep()
	if l.Keys() != 1 {
		t.Errorf("a bucket with an open reservation was dropped")
	}
	r.Settle(0)
	if l.Sweep(); l.Keys() != 0 {
		t.Errorf("a settled, full bucket was kept")
	}
}

// Concurrent reservations never overshoot: with the clock frozen exactly
// the allowance is granted, whatever the interleaving.
func TestConcurrentReservationsNeverOvershoot(t *testing.T) {
	clk := newClock("2026-03-01T10:00:00Z")
	l := New(Options{Now: clk.Now})
	for _, tc := range []struct {
		lim    Limit
		tokens int64
		want   int64
	}{
		{Limit{RequestsPerMinute: 100}, 0, 100},
		{Limit{TokensPerMinute: 10000}, 37, 10000 / 37},
	} {
		key := fmt.Sprint(tc.lim)
		var granted atomic.Int64
		var wg sync.WaitGroup
		for range 64 {
			wg.Go(func() {
				for range 10 {
					if r, _, err := l.Reserve(key, tc.lim, tc.tokens); err == nil {
						granted.Add(1)
						r.Settle(tc.tokens)
					}
				}
			})
		}
		wg.Wait()
		if granted.Load() != tc.want {
			t.Errorf("%+v: %d granted, want exactly %d", tc.lim, granted.Load(), tc.want)
		}
	}
}
