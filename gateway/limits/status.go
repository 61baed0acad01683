package limits

import (
	"strconv"
	"time"
)

// Window is one dimension of a key's state, as the x-ratelimit-* headers
// carry it.
type Window struct {
	Limit     int64         // per minute; 0: not limited (no headers)
	Remaining int64         // units available now (never below 0)
	Reset     time.Duration // until the allowance is full again
}

// Status is a key's state after a Reserve or Settle.
type Status struct {
	Requests Window
	Tokens   Window
	Allowed  bool
	// RetryAfter, when the request was refused for its rate, is how long
	// until it would fit.
	RetryAfter time.Duration
}

func (b *bucket) status() Status {
	return Status{Requests: window(&b.req), Tokens: window(&b.tok)}
}

func window(g *gauge) Window {
	if g.limit == 0 {
		return Window{}
	}
	return Window{Limit: g.limit, Remaining: max(g.level, 0), Reset: g.until(g.limit)}
}

// Headers sets the OpenAI rate-limit headers for this status:
// x-ratelimit-limit-requests, x-ratelimit-remaining-requests,
// x-ratelimit-reset-requests and their -tokens twins (for each limited
// dimension; resets in OpenAI's duration format, "6m0s", "20ms", rounded
// up to the millisecond), and, when the request was refused, Retry-After
// in whole seconds (rounded up) and retry-after-ms.
func (s Status) Headers(set func(name, value string)) {
	for _, w := range []struct {
		suffix string
		w      Window
	}{{"requests", s.Requests}, {"tokens", s.Tokens}} {
		if w.w.Limit == 0 {
			continue
		}
		set("x-ratelimit-limit-"+w.suffix, strconv.FormatInt(w.w.Limit, 10))
		set("x-ratelimit-remaining-"+w.suffix, strconv.FormatInt(w.w.Remaining, 10))
		set("x-ratelimit-reset-"+w.suffix, FormatReset(w.w.Reset))
	}
	if !s.Allowed && s.RetryAfter > 0 {
		set("retry-after", strconv.FormatInt(int64((s.RetryAfter+time.Second-1)/time.Second), 10))
		set("retry-after-ms", strconv.FormatInt(int64((s.RetryAfter+time.Millisecond-1)/time.Millisecond), 10))
	}
}

// FormatReset writes a duration as OpenAI's reset headers do ("1s",
// "6m0s", "20ms"), rounded up to the millisecond.
func FormatReset(d time.Duration) string {
	if d <= 0 {
		return "0s"
	}
	return ((d + time.Millisecond - 1) / time.Millisecond * time.Millisecond).String()
}
