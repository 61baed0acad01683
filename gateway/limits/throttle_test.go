package limits

import (
	"errors"
	"net/http"
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		err  bool
	}{
		{"6m0s", 6 * time.Minute, false}, {"20ms", 20 * time.Millisecond, false}, {"1s", time.Second, false},
		{"1.5s", 1500 * time.Millisecond, false}, {"0s", 0, false}, {"1h2m3.5s", time.Hour + 2*time.Minute + 3500*time.Millisecond, false},
		{"0.000000001s", time.Nanosecond, false}, {"1.9999999999ns", time.Nanosecond, false}, {"2.5ms", 2500 * time.Microsecond, false},
		{"7us", 7 * time.Microsecond, false}, {"7µs", 7 * time.Microsecond, false}, {".5s", 500 * time.Millisecond, false},
		{"0.1h", 6 * time.Minute, false}, {"1.5m", 90 * time.Second, false},
		{"", 0, true}, {"-1s", 0, true}, {"5", 0, true}, {"1x", 0, true}, {"ms", 0, true}, {"1s2", 0, true},
		{"99999999999999999999h", 0, true}, {"3000000000h", 0, true},
	} {
		got, err := ParseDuration(tc.in)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v (error %v)", tc.in, got, err, tc.want, tc.err)
		}
		if err != nil && !errors.Is(err, ErrDuration) {
			t.Errorf("%q: error %v is not ErrDuration", tc.in, err)
		}
	}
}

func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"6m0s", "20ms", "1.5s", "1h2m3.5s", "0.1h", "7µs"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDuration(s)
		if err != nil {
			return
		}
		if d < 0 {
			t.Fatalf("%q: negative %v", s, d)
		}
		// Go's parser agrees, up to its float rounding of fractions.
		if g, gerr := time.ParseDuration(s); gerr == nil && (g-d > time.Microsecond || d-g > time.Microsecond) {
			t.Fatalf("%q: %v, time.ParseDuration %v", s, d, g)
		}
	})
}

func TestParseThrottle(t *testing.T) {
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name string
		h    map[string]string
		want Throttle
	}{
		{"openai", map[string]string{"x-ratelimit-limit-requests": "500", "x-ratelimit-remaining-requests": "499",
			"x-ratelimit-reset-requests": "120ms", "x-ratelimit-limit-tokens": "30000", "x-ratelimit-remaining-tokens": "29100",
			"x-ratelimit-reset-tokens": "1.8s"},
			Throttle{500, 499, 30000, 29100, now.Add(120 * time.Millisecond), now.Add(1800 * time.Millisecond), time.Time{}}},
		{"azure, no resets, retry-after-ms over retry-after", map[string]string{"x-ratelimit-remaining-requests": "0",
			"x-ratelimit-remaining-tokens": "120", "retry-after-ms": "1500", "retry-after": "2"},
			Throttle{-1, 0, -1, 120, time.Time{}, time.Time{}, now.Add(1500 * time.Millisecond)}},
		{"anthropic: the scarcest token family", map[string]string{"anthropic-ratelimit-requests-limit": "50",
			"anthropic-ratelimit-requests-remaining": "49", "anthropic-ratelimit-requests-reset": "2026-03-01T10:00:01Z",
			"anthropic-ratelimit-input-tokens-limit": "30000", "anthropic-ratelimit-input-tokens-remaining": "28000",
			"anthropic-ratelimit-input-tokens-reset":  "2026-03-01T10:00:04Z",
			"anthropic-ratelimit-output-tokens-limit": "8000", "anthropic-ratelimit-output-tokens-remaining": "500",
			"anthropic-ratelimit-output-tokens-reset": "2026-03-01T10:00:06Z", "retry-after": "7"},
			Throttle{50, 49, 8000, 500, now.Add(time.Second), now.Add(6 * time.Second), now.Add(7 * time.Second)}},
		{"retry-after as an HTTP date", map[string]string{"retry-after": "Sun, 01 Mar 2026 10:00:30 GMT"},
			Throttle{-1, -1, -1, -1, time.Time{}, time.Time{}, now.Add(30 * time.Second)}},
		{"malformed values are ignored", map[string]string{"x-ratelimit-remaining-requests": "many",
			"x-ratelimit-reset-requests": "soon", "x-ratelimit-remaining-tokens": "-5", "retry-after": "later",
			"anthropic-ratelimit-requests-reset": "tomorrow"},
			Throttle{-1, -1, -1, -1, time.Time{}, time.Time{}, time.Time{}}},
	} {
		h := http.Header{}
		for k, v := range tc.h {
			h.Set(k, v)
		}
		got := ParseThrottle(h.Get, now)
		if !equal(got, tc.want) {
			t.Errorf("%s:\n got %+v\nwant %+v", tc.name, got, tc.want)
		}
		if got.Known() != (tc.name != "malformed values are ignored") {
			t.Errorf("%s: Known() = %v", tc.name, got.Known())
		}
		if !MayThrottle(h) {
			t.Errorf("%s: MayThrottle says no header to read", tc.name)
		}
	}
	// Without any of its headers there is nothing to read, and MayThrottle
	// says so (a header named like one but not canonical is not read either).
	for _, h := range []http.Header{{}, {"Content-Type": {"application/json"}, "X-Request-Id": {"r1"}, "Openai-Model": {"gpt"}},
		{"x-ratelimit-remaining-requests": {"0"}, "retry-after": {"5"}}} {
		if MayThrottle(h) || ParseThrottle(h.Get, now).Known() {
			t.Errorf("%v: MayThrottle %v, parsed %+v: want nothing to read", h, MayThrottle(h), ParseThrottle(h.Get, now))
		}
	}
}

func equal(a, b Throttle) bool {
	return a.LimitRequests == b.LimitRequests && a.RemainingRequests == b.RemainingRequests &&
		a.LimitTokens == b.LimitTokens && a.RemainingTokens == b.RemainingTokens &&
		a.ResetRequests.Equal(b.ResetRequests) && a.ResetTokens.Equal(b.ResetTokens) && a.RetryAfter.Equal(b.RetryAfter)
}

func TestThrottleFits(t *testing.T) {
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	unknown := Throttle{-1, -1, -1, -1, time.Time{}, time.Time{}, time.Time{}}
	withTokens := func(rem int64, reset time.Duration) Throttle {
		t := unknown
		t.RemainingTokens, t.ResetTokens = rem, now.Add(reset)
		return t
	}
	for _, tc := range []struct {
		name   string
		t      Throttle
		at     time.Duration
		tokens int64
		m      Margin
		ok     bool
		until  time.Duration
	}{
		{"nothing known", unknown, 0, 1000, Margin{}, true, 0},
		{"enough tokens", withTokens(5000, 2*time.Second), 0, 1000, Margin{}, true, 0},
		{"too few tokens before the reset", withTokens(900, 2*time.Second), 0, 1000, Margin{}, false, 2 * time.Second},
		{"the margin counts", withTokens(1500, 2*time.Second), 0, 1000, Margin{Tokens: 600}, false, 2 * time.Second},
		{"after the reset", withTokens(0, 2*time.Second), 3 * time.Second, 1000, Margin{}, true, 0},
		{"no requests left, no reset sent: a second", Throttle{-1, 0, -1, -1, time.Time{}, time.Time{}, time.Time{}}, 0, 1, Margin{}, false, time.Second},
		{"retry-after in force", Throttle{-1, 100, -1, -1, time.Time{}, time.Time{}, now.Add(5 * time.Second)}, time.Second, 1, Margin{}, false, 5 * time.Second},
		{"retry-after passed", Throttle{-1, 100, -1, -1, time.Time{}, time.Time{}, now.Add(5 * time.Second)}, 5 * time.Second, 1, Margin{}, true, 0},
	} {
		ok, until := tc.t.Fits(now.Add(tc.at), tc.tokens, tc.m)
		var wantUntil time.Time
		if !tc.ok {
			wantUntil = now.Add(tc.until)
			if tc.name == "no requests left, no reset sent: a second" {
				wantUntil = now.Add(tc.at + time.Second)
			}
		}
		if ok != tc.ok || !until.Equal(wantUntil) {
			t.Errorf("%s: Fits = %v, %v; want %v, %v", tc.name, ok, until, tc.ok, wantUntil)
		}
	}
}

func TestFormatReset(t *testing.T) {
	for d, want := range map[time.Duration]string{0: "0s", -time.Second: "0s", time.Nanosecond: "1ms", 20 * time.Millisecond: "20ms",
		time.Second: "1s", 1500*time.Millisecond + 1: "1.501s", 6 * time.Minute: "6m0s", 84 * time.Second: "1m24s"} {
		if got := FormatReset(d); got != want {
			t.Errorf("FormatReset(%v) = %q, want %q", d, got, want)
		}
		if back, err := ParseDuration(FormatReset(d)); err != nil || back < d {
			t.Errorf("%v does not round-trip: %v %v", d, back, err)
		}
	}
}
