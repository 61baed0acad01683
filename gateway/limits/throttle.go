package limits

import (
	"errors"
	"math/bits"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Throttle is what an upstream's rate-limit headers said about its own
// limits (for the key Custos uses there), as absolute instants, so that
// the router can stop sending to an endpoint before it answers 429.
// Counts are -1 when not sent; instants are zero when not sent.
type Throttle struct {
	LimitRequests, RemainingRequests int64
	LimitTokens, RemainingTokens     int64
	ResetRequests, ResetTokens       time.Time
	RetryAfter                       time.Time
}

// Known reports whether any rate-limit header was read.
func (t Throttle) Known() bool {
	return t.LimitRequests >= 0 || t.RemainingRequests >= 0 || t.LimitTokens >= 0 || t.RemainingTokens >= 0 ||
		!t.ResetRequests.IsZero() || !t.ResetTokens.IsZero() || !t.RetryAfter.IsZero()
}

// ParseThrottle reads an upstream response's headers (get is e.g.
// http.Header.Get; names are looked up in canonical form) received at now:
//
//   - OpenAI, Azure OpenAI and compatible providers: x-ratelimit-limit-,
//     x-ratelimit-remaining- and x-ratelimit-reset-requests/-tokens, resets
//     as durations ("6m0s", "20ms", "1.5s");
//   - Anthropic: anthropic-ratelimit-requests-, -tokens-, -input-tokens-
//     and -output-tokens-limit/-remaining/-reset, resets as RFC 3339 times;
//     the token family with the fewest remaining is kept;
//   - retry-after-ms (milliseconds) and Retry-After (seconds or an HTTP
//     date).
//
// A malformed value is ignored, as if absent: the headers are advice.
func ParseThrottle(get func(name string) string, now time.Time) Throttle {
	h := func(name string) string {
		key, ok := canonicalNames[name]
		if !ok {
			key = http.CanonicalHeaderKey(name)
		}
		return strings.TrimSpace(get(key))
	}
	t := Throttle{LimitRequests: count(h("x-ratelimit-limit-requests")), RemainingRequests: count(h("x-ratelimit-remaining-requests")),
		LimitTokens: count(h("x-ratelimit-limit-tokens")), RemainingTokens: count(h("x-ratelimit-remaining-tokens"))}
	if d, err := ParseDuration(h("x-ratelimit-reset-requests")); err == nil {
		t.ResetRequests = now.Add(d)
	}
	if d, err := ParseDuration(h("x-ratelimit-reset-tokens")); err == nil {
		t.ResetTokens = now.Add(d)
	}
	anthropic(h, &t)
	t.RetryAfter = retryAfter(h, now)
	return t
}

// MayThrottle reports whether h holds a header ParseThrottle reads (in
// canonical form, as a transport's answer holds them): an answer without
// one, from a provider that sends none, needs no parse and says nothing.
func MayThrottle(h http.Header) bool {
	for k := range h {
		if strings.HasPrefix(k, "X-Ratelimit-") || strings.HasPrefix(k, "Anthropic-Ratelimit-") ||
			strings.HasPrefix(k, "Retry-After") {
			return true
		}
	}
	return false
}

// canonicalNames are the headers ParseThrottle reads, canonicalized once
// (read on every upstream answer).
var canonicalNames = func() map[string]string {
	names := []string{"x-ratelimit-limit-requests", "x-ratelimit-remaining-requests", "x-ratelimit-limit-tokens",
		"x-ratelimit-remaining-tokens", "x-ratelimit-reset-requests", "x-ratelimit-reset-tokens", "retry-after-ms", "retry-after",
		"anthropic-ratelimit-requests-remaining", "anthropic-ratelimit-requests-limit", "anthropic-ratelimit-requests-reset"}
	for _, fam := range []string{"tokens", "input-tokens", "output-tokens"} {
		for _, f := range []string{"-remaining", "-limit", "-reset"} {
			names = append(names, "anthropic-ratelimit-"+fam+f)
		}
	}
	m := make(map[string]string, len(names))
	for _, n := range names {
		m[n] = http.CanonicalHeaderKey(n)
	}
	return m
}()

// anthropic reads Anthropic's families into t where present.
func anthropic(h func(string) string, t *Throttle) {
	const p = "anthropic-ratelimit-"
	if r := count(h(p + "requests-remaining")); r >= 0 {
		t.RemainingRequests, t.LimitRequests, t.ResetRequests = r, count(h(p+"requests-limit")), instant(h(p+"requests-reset"))
	}
	for _, fam := range []string{"tokens", "input-tokens", "output-tokens"} {
		r := count(h(p + fam + "-remaining"))
		if r >= 0 && (t.RemainingTokens < 0 || r < t.RemainingTokens) {
			t.RemainingTokens, t.LimitTokens, t.ResetTokens = r, count(h(p+fam+"-limit")), instant(h(p+fam+"-reset"))
		}
	}
}

func count(v string) int64 {
	if v == "" {
		return -1 // absent: no error to allocate
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return -1
	}
	return n
}

func instant(v string) time.Time {
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}
	}
	return t
}

func retryAfter(h func(string) string, now time.Time) time.Time {
	if ms := h("retry-after-ms"); ms != "" {
		if d, err := ParseDuration(ms + "ms"); err == nil {
			return now.Add(d)
		}
	}
	v := h("retry-after")
	if v == "" {
		return time.Time{}
	}
	if d, err := ParseDuration(v + "s"); err == nil {
		return now.Add(d)
	}
	if t, err := http.ParseTime(v); err == nil {
		return t
	}
	return time.Time{}
}

// Margin is how much of an upstream's allowance to leave unused, for the
// other gateways and clients sharing its key.
type Margin struct {
	Requests int64
	Tokens   int64
}

// Fits reports whether a request of tokens should go to the upstream at
// now; when not, until is when it is expected to fit again. A Retry-After
// in force, or a remaining count at or under the margin before its reset,
// means not now. A remaining count without a reset time is trusted for
// one second.
func (t Throttle) Fits(now time.Time, tokens int64, m Margin) (ok bool, until time.Time) {
	if now.Before(t.RetryAfter) {
		return false, t.RetryAfter
	}
	ok = true
	block := func(reset time.Time) {
		if reset.IsZero() {
			reset = now.Add(time.Second)
		}
		if now.Before(reset) {
			ok, until = false, later(until, reset)
		}
	}
	if t.RemainingRequests >= 0 && t.RemainingRequests <= m.Requests {
		block(t.ResetRequests)
	}
	if t.RemainingTokens >= 0 && t.RemainingTokens-m.Tokens < max(tokens, 1) {
		block(t.ResetTokens)
	}
	return ok, until
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// ErrDuration: a reset value that is not a duration.
var ErrDuration = errors.New("limits: malformed duration")

// units of ParseDuration, longest names first where one is a prefix of
// another.
var units = []struct {
	name string
	ns   int64
}{{"ms", 1e6}, {"us", 1e3}, {"µs", 1e3}, {"ns", 1}, {"h", 3600e9}, {"m", 60e9}, {"s", 1e9}}

// ParseDuration reads OpenAI's reset format, a sequence of decimal numbers
// with units h, m, s, ms, us (µs) or ns ("6m0s", "1.5s", "20ms", "0s"), in
// exact integer arithmetic, truncating below the nanosecond. It refuses
// negative, empty and overlong values.
func ParseDuration(s string) (time.Duration, error) {
	if s == "" || len(s) > 64 {
		return 0, ErrDuration
	}
	var total int64
	for s != "" {
		whole, frac, rest, ok := number(s)
		if !ok {
			return 0, ErrDuration
		}
		var unit int64
		for _, u := range units {
			if strings.HasPrefix(rest, u.name) {
				unit, rest = u.ns, rest[len(u.name):]
				break
			}
		}
		if unit == 0 || whole > int64(1<<62)/unit {
			return 0, ErrDuration
		}
		total += whole*unit + fraction(frac, unit)
		if total < 0 || total > int64(1<<62) {
			return 0, ErrDuration
		}
		s = rest
	}
	return time.Duration(total), nil
}

// number splits a leading decimal number into its digits.
func number(s string) (whole int64, frac, rest string, ok bool) {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		whole = whole*10 + int64(s[i]-'0')
		if whole > 1<<62 {
			return 0, "", "", false
		}
		i++
	}
	intDigits := i
	if i < len(s) && s[i] == '.' {
		j := i + 1
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		frac, i = s[i+1:j], j
	}
	return whole, frac, s[i:], intDigits > 0 || frac != ""
}

// fraction is 0.frac × unit, truncated to whole nanoseconds (digits past
// the 18th are dropped).
func fraction(frac string, unit int64) int64 {
	var f, p uint64 = 0, 1
	for i := 0; i < len(frac) && i < 18; i++ {
		f, p = f*10+uint64(frac[i]-'0'), p*10
	}
	hi, lo := bits.Mul64(f, uint64(unit))
	q, _ := bits.Div64(hi, lo, p)
	return int64(q)
}
