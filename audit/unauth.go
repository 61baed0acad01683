package audit

import (
	"sort"
	"sync"
	"time"
)

// OtherSources is the source under which an UnauthCounter folds failures
// from sources beyond its bound in one window.
const OtherSources = "(other)"

// UnauthCounter aggregates failed authentications per source and fixed
// window (aligned to the window in UTC), so that a flood costs one record
// per source and window instead of one fsync per request. It is safe for
// concurrent use; memory is bounded by maxSources per window.
type UnauthCounter struct {
	window     time.Duration
	maxSources int

	mu      sync.Mutex
	start   time.Time // the open window
	sources map[string]*Unauthenticated
}

// NewUnauthCounter counts over windows of the given length (e.g. a
// minute), keeping at most maxSources sources apart in each.
func NewUnauthCounter(window time.Duration, maxSources int) *UnauthCounter {
	if window <= 0 {
		window = time.Minute
	}
	if maxSources <= 0 {
		maxSources = 10_000
	}
	return &UnauthCounter{window: window, maxSources: maxSources, sources: map[string]*Unauthenticated{}}
}

// Note counts one failure at now: source is the client's address or
// network, route the route template matched, code the error code
// answered. It returns the records of a window that ended before now, to be
// appended (AppendDeferred); usually none.
func (c *UnauthCounter) Note(now time.Time, source, route, code string) []Record {
	c.mu.Lock()
	defer c.mu.Unlock()
	done := c.rollLocked(now)
	u := c.sources[source]
	if u == nil {
		if len(c.sources) >= c.maxSources {
			source = OtherSources
			u = c.sources[source]
		}
		if u == nil {
			u = &Unauthenticated{Source: source, WindowStart: c.start, WindowSecs: int64(c.window / time.Second),
				Codes: map[string]int64{}, Routes: map[string]int64{}}
			c.sources[source] = u
		}
	}
	u.Count++
	u.Codes[code]++
	u.Routes[route]++
	return done
}

// Due returns the records of a window that ended before now (call it
// periodically, e.g. every window, so that the last one is written when
// failures stop).
func (c *UnauthCounter) Due(now time.Time) []Record {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.rollLocked(now)
}

// Drain returns the records of the open window too (at shutdown).
func (c *UnauthCounter) Drain() []Record {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.takeLocked()
}

func (c *UnauthCounter) rollLocked(now time.Time) []Record {
	start := now.UTC().Truncate(c.window)
	if start.Equal(c.start) {
		return nil
	}
	out := c.takeLocked()
	c.start = start
	return out
}

func (c *UnauthCounter) takeLocked() []Record {
	if len(c.sources) == 0 {
		return nil
	}
	out := make([]Record, 0, len(c.sources))
	for _, u := range c.sources {
		out = append(out, Record{Kind: KindUnauthenticated, Unauthenticated: u})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Unauthenticated.Source < out[j].Unauthenticated.Source })
	c.sources = map[string]*Unauthenticated{}
	return out
}
