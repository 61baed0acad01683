package residency

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"
)

// ErrAllCoolingDown means every compliant endpoint is rate-limited or has its
// circuit open; RetryAfter says when the first one may be tried again.
var ErrAllCoolingDown = errors.New("residency: every compliant endpoint is cooling down")

// CoolingError carries how long until an endpoint may be tried again.
type CoolingError struct{ RetryAfter time.Duration }

func (e *CoolingError) Error() string {
	return fmt.Sprintf("residency: every compliant endpoint is cooling down (retry in %s)", e.RetryAfter.Round(time.Millisecond))
}

func (e *CoolingError) Unwrap() error { return ErrAllCoolingDown }

// RouterOptions tune health tracking.
type RouterOptions struct {
	// BreakerFailures opens an endpoint's circuit after this many failures
	// in a row (default 5).
	BreakerFailures int
	// BreakerCooldown keeps an open circuit closed to traffic this long,
	// then lets one request probe it (default 30s).
	BreakerCooldown time.Duration
	Now             func() time.Time
}

// Router orders the compliant endpoints for each request by priority, then
// health, then recent latency relative to weight, and learns from outcomes.
// It never adds an endpoint outside the constraint it is given.
type Router struct {
	catalog *Catalog
	opts    RouterOptions
	mu      sync.Mutex
	health  map[string]*health
}

type health struct {
	ewma      time.Duration // time to first byte, exponentially weighted
	failures  int           // in a row
	openUntil time.Time     // circuit open (or Retry-After) until
	// throttledUntil: the endpoint said its own rate limits are nearly
	// spent; until then it is tried after every other candidate.
	throttledUntil time.Time
	probing        bool // a half-open probe is in flight
}

// NewRouter tracks the health of the catalog's endpoints.
func NewRouter(c *Catalog, opts RouterOptions) *Router {
	if opts.BreakerFailures <= 0 {
		opts.BreakerFailures = 5
	}
	if opts.BreakerCooldown <= 0 {
		opts.BreakerCooldown = 30 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	r := &Router{catalog: c, opts: opts, health: map[string]*health{}}
	for _, e := range c.Endpoints() {
		r.health[e.Name] = &health{}
	}
	return r
}

// Plan returns the endpoints to try for model under con, in order. Endpoints
// whose circuit is open or that asked to be left alone (Retry-After) are
// left out; if that leaves none, the error is a *CoolingError.
func (r *Router) Plan(model string, con Constraint) ([]*Endpoint, error) {
	cands, err := r.catalog.Candidates(model, con)
	if err != nil {
		return nil, err
	}
	now := r.opts.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	out := cands[:0]
	var soonest time.Duration = -1
	for _, e := range cands {
		h := r.health[e.Name]
		if h != nil && now.Before(h.openUntil) {
			if wait := h.openUntil.Sub(now); soonest < 0 || wait < soonest {
				soonest = wait
			}
			continue
		}
		if h != nil && h.failures >= r.opts.BreakerFailures {
			// Half-open: one probe at a time.
			if h.probing {
				continue
			}
			h.probing = true
		}
		out = append(out, e)
	}
	if len(out) == 0 {
		return nil, &CoolingError{RetryAfter: soonest}
	}
	slices.SortStableFunc(out, func(a, b *Endpoint) int {
		ha, hb := r.health[a.Name], r.health[b.Name]
		if ta, tb := now.Before(ha.throttledUntil), now.Before(hb.throttledUntil); ta != tb {
			if ta {
				return 1
			}
			return -1
		}
		if a.Priority != b.Priority {
			return a.Priority - b.Priority
		}
		if (ha.failures > 0) != (hb.failures > 0) {
			if ha.failures > 0 {
				return 1
			}
			return -1
		}
		sa, sb := score(ha.ewma, a.Weight), score(hb.ewma, b.Weight)
		switch {
		case sa < sb:
			return -1
		case sa > sb:
			return 1
		}
		return 0
	})
	return out, nil
}

func score(ewma time.Duration, weight int) float64 {
	if weight <= 0 {
		weight = 1
	}
	return float64(ewma) / float64(weight)
}

// Outcome is what one attempt at an endpoint taught the router.
type Outcome struct {
	OK         bool
	Latency    time.Duration // time to first byte, when OK
	RetryAfter time.Duration // the endpoint asked for this pause (429/503)
	// Throttled, with OK: the endpoint answered, but its rate-limit
	// headers say the next request would exceed its limits for this long;
	// other candidates go first meanwhile (it is still tried when they
	// fail), so traffic moves before it starts answering 429.
	Throttled time.Duration
}

// Report records an attempt's outcome.
func (r *Router) Report(endpoint string, o Outcome) {
	now := r.opts.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	h := r.health[endpoint]
	if h == nil {
		return
	}
	h.probing = false
	if o.OK {
		h.failures = 0
		h.openUntil = time.Time{}
		h.throttledUntil = now.Add(o.Throttled)
		if h.ewma == 0 {
			h.ewma = o.Latency
		} else {
			h.ewma = (h.ewma*7 + o.Latency*3) / 10
		}
		return
	}
	h.failures++
	if o.RetryAfter > 0 {
		h.openUntil = maxTime(h.openUntil, now.Add(o.RetryAfter))
	}
	if h.failures >= r.opts.BreakerFailures {
		h.openUntil = maxTime(h.openUntil, now.Add(r.opts.BreakerCooldown))
	}
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// Circuit states, as States reports them.
const (
	CircuitClosed   = "closed"    // serving
	CircuitOpen     = "open"      // failing: left out until its cooldown ends
	CircuitHalfOpen = "half_open" // cooled down: one probe at a time
	CircuitCooling  = "cooling"   // asked to be left alone (Retry-After)
	// CircuitThrottled: serving, but its own rate-limit headers say it is
	// nearly spent; tried after the other candidates until its reset.
	CircuitThrottled = "throttled"
)

// EndpointState is one endpoint's health as the router sees it now.
type EndpointState struct {
	Endpoint string
	Circuit  string
	Failures int           // in a row
	Latency  time.Duration // recent time to first byte, exponentially weighted
}

// States reports every endpoint's health, in catalog order (for metrics).
func (r *Router) States() []EndpointState {
	now := r.opts.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]EndpointState, 0, len(r.health))
	for _, e := range r.catalog.Endpoints() {
		h := r.health[e.Name]
		st := EndpointState{Endpoint: e.Name, Circuit: CircuitClosed, Failures: h.failures, Latency: h.ewma}
		switch {
		case h.failures >= r.opts.BreakerFailures && now.Before(h.openUntil):
			st.Circuit = CircuitOpen
		case h.failures >= r.opts.BreakerFailures:
			st.Circuit = CircuitHalfOpen
		case now.Before(h.openUntil):
			st.Circuit = CircuitCooling
		case now.Before(h.throttledUntil):
			st.Circuit = CircuitThrottled
		}
		out = append(out, st)
	}
	return out
}
