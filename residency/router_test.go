package residency_test

import (
	"errors"
	"testing"
	"time"

	"github.com/custos-gateway/custos/residency"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func names(eps []*residency.Endpoint) []string {
	var out []string
	for _, e := range eps {
		out = append(out, e.Name)
	}
	return out
}

func newRouter(t testing.TB, c *clock) *residency.Router {
	cat, err := residency.NewCatalog([]residency.Endpoint{
		{Name: "eu-a", Region: "eu-west", Models: []string{"m"}, Priority: 1, Weight: 1},
		{Name: "eu-b", Region: "eu-central", Models: []string{"m"}, Priority: 1, Weight: 2},
		{Name: "eu-c", Region: "eu-west", Models: []string{"m"}, Priority: 2},
		{Name: "us", Region: "us-east", Models: []string{"m"}, Priority: 0},
	})
	if err != nil {
		t.Fatal(err)
	}
	return residency.NewRouter(cat, residency.RouterOptions{BreakerFailures: 2, BreakerCooldown: 10 * time.Second, Now: c.now})
}

var euOnly = residency.Constraint{Endpoints: []string{"eu-a", "eu-b", "eu-c"}}

func TestRouterOrdersAndLearns(t *testing.T) {
	c := &clock{t: time.Unix(1_800_000_000, 0)}
	r := newRouter(t, c)
	plan := func() []string {
		eps, err := r.Plan("m", euOnly)
		if err != nil {
			t.Fatal(err)
		}
		return names(eps)
	}
	eq := func(got []string, want ...string) {
		t.Helper()
		if len(got) != len(want) {
			t.Fatalf("plan = %v, want %v", got, want)
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("plan = %v, want %v", got, want)
			}
		}
	}
	eq(plan(), "eu-a", "eu-b", "eu-c") // priority, then config order while nothing is known
	// Latency relative to weight: eu-b may be twice as slow as eu-a and still lead.
	r.Report("eu-a", residency.Outcome{OK: true, Latency: 100 * time.Millisecond})
	r.Report("eu-b", residency.Outcome{OK: true, Latency: 150 * time.Millisecond})
	eq(plan(), "eu-b", "eu-a", "eu-c")
	// A failure moves an endpoint behind the healthy ones of its priority.
	r.Report("eu-b", residency.Outcome{})
	eq(plan(), "eu-a", "eu-b", "eu-c")
	// Retry-After removes it until the time has passed.
	r.Report("eu-a", residency.Outcome{RetryAfter: 5 * time.Second})
	eq(plan(), "eu-b", "eu-c")
	c.t = c.t.Add(6 * time.Second)
	eq(plan(), "eu-b", "eu-a", "eu-c")
	// Two failures in a row open the circuit for the cooldown, then one probe.
	r.Report("eu-c", residency.Outcome{})
	r.Report("eu-c", residency.Outcome{})
	eq(plan(), "eu-b", "eu-a")
	c.t = c.t.Add(11 * time.Second)
	eq(plan(), "eu-b", "eu-a", "eu-c") // half-open: a probe
	eq(plan(), "eu-b", "eu-a")         // only one probe at a time
	r.Report("eu-c", residency.Outcome{OK: true, Latency: time.Millisecond})
	if got := plan(); len(got) != 3 {
		t.Errorf("closed circuit: %v", got)
	}
}

func TestRouterNeverWidensTheSet(t *testing.T) {
	c := &clock{t: time.Unix(1_800_000_000, 0)}
	r := newRouter(t, c)
	for _, name := range []string{"eu-a", "eu-b", "eu-c"} {
		r.Report(name, residency.Outcome{RetryAfter: time.Minute})
	}
	_, err := r.Plan("m", euOnly)
	var cooling *residency.CoolingError
	if !errors.As(err, &cooling) || cooling.RetryAfter != time.Minute {
		t.Fatalf("every EU endpoint cooling: %v; want a CoolingError, never the US endpoint", err)
	}
	if _, err := r.Plan("m", residency.Constraint{Endpoints: []string{}}); !errors.Is(err, residency.ErrNoCompliantEndpoint) {
		t.Errorf("empty allowed set: %v", err)
	}
}

// BenchmarkPlan: endpoint selection per request (goal under 2 µs).
func BenchmarkPlan(b *testing.B) {
	c := &clock{t: time.Unix(1_800_000_000, 0)}
	r := newRouter(b, c)
	r.Report("eu-a", residency.Outcome{OK: true, Latency: 80 * time.Millisecond})
	r.Report("eu-b", residency.Outcome{OK: true, Latency: 120 * time.Millisecond})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Plan("m", euOnly); err != nil {
			b.Fatal(err)
		}
	}
}

func TestStatesReportCircuits(t *testing.T) {
	now := time.Unix(1000, 0)
	c, err := residency.NewCatalog([]residency.Endpoint{{Name: "a", Region: "eu-west", Models: []string{"m"}}, {Name: "b", Region: "eu-west", Models: []string{"m"}}})
	if err != nil {
		t.Fatal(err)
	}
	r := residency.NewRouter(c, residency.RouterOptions{BreakerFailures: 2, BreakerCooldown: time.Minute, Now: func() time.Time { return now }})
	r.Report("a", residency.Outcome{})
	r.Report("a", residency.Outcome{})
	r.Report("b", residency.Outcome{RetryAfter: 5 * time.Second})
	want := map[string]string{"a": residency.CircuitOpen, "b": residency.CircuitCooling}
	for _, st := range r.States() {
		if st.Circuit != want[st.Endpoint] {
			t.Errorf("%s: %s, want %s", st.Endpoint, st.Circuit, want[st.Endpoint])
		}
	}
	now = now.Add(2 * time.Minute)
	want = map[string]string{"a": residency.CircuitHalfOpen, "b": residency.CircuitClosed}
	for _, st := range r.States() {
		if st.Circuit != want[st.Endpoint] {
			t.Errorf("after cooldown, %s: %s, want %s", st.Endpoint, st.Circuit, want[st.Endpoint])
		}
	}
}

// An endpoint whose own rate limits are nearly spent goes last, below
// lower priorities, until its reset; it is never left out.
func TestThrottledEndpointGoesLast(t *testing.T) {
	c := &clock{t: time.Unix(1_800_000_000, 0)}
	r := newRouter(t, c)
	r.Report("eu-a", residency.Outcome{OK: true, Latency: time.Millisecond, Throttled: 30 * time.Second})
	eps, err := r.Plan("m", euOnly)
	if err != nil || len(eps) != 3 || names(eps)[2] != "eu-a" {
		t.Fatalf("throttled: %v %v, want eu-a last", names(eps), err)
	}
	for _, s := range r.States() {
		if s.Endpoint == "eu-a" && s.Circuit != residency.CircuitThrottled {
			t.Errorf("state %+v", s)
		}
	}
	c.t = c.t.Add(30 * time.Second)
	if eps, _ := r.Plan("m", euOnly); names(eps)[2] == "eu-a" {
		t.Errorf("after the reset: %v, want eu-a back among its priority", names(eps))
	}
}
