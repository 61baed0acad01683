package bench

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"time"
)

// ErrRemoteTarget refuses load against a host that is not loopback.
var ErrRemoteTarget = errors.New("bench: refusing to send load to a host that is not loopback (a benchmark is load; pass --allow-remote to send it anyway)")

// ErrOptions reports options that cannot run.
var ErrOptions = errors.New("bench: invalid options")

// Load is how requests are sent.
type Load struct {
	// Connections is the number of requests in flight at most: the
	// closed-loop concurrency, or the open-loop cap.
	Connections int
	// RPS > 0 sends open loop at this rate; latency is measured from each
	// request's intended send time, so a stalled server cannot hide its
	// queue (no coordinated omission).
	RPS float64
	// Duration of the measured phase, or Requests > 0 to stop after that many.
	Duration time.Duration
	Requests int
	// Warmup runs the same load first, unmeasured.
	Warmup time.Duration
	// Timeout bounds one request (default 60s).
	Timeout time.Duration
}

// Label names the load in reports: "c=64", "1000 rps (≤64 in flight)".
func (l Load) Label() string {
	if l.RPS > 0 {
		return fmt.Sprintf("%g rps (≤%d in flight)", l.RPS, l.Connections)
	}
	return fmt.Sprintf("c=%d", l.Connections)
}

func (l Load) validate() error {
	switch {
	case l.Connections <= 0 || l.Connections > 100000:
		return fmt.Errorf("%w: connections %d", ErrOptions, l.Connections)
	case l.RPS < 0:
		return fmt.Errorf("%w: rate %v", ErrOptions, l.RPS)
	case l.Duration <= 0 && l.Requests <= 0:
		return fmt.Errorf("%w: give a duration or a request count", ErrOptions)
	case l.Duration < 0 || l.Requests < 0 || l.Warmup < 0 || l.Timeout < 0:
		return fmt.Errorf("%w: negative duration or count", ErrOptions)
	}
	return nil
}

// Target is one server a workload is replayed against.
type Target struct {
	Name string // how reports call it: "custos", "direct", "bare proxy"
	URL  string // base URL; request paths (/v1/...) are appended, a trailing /v1 is not doubled
	Key  string // sent as Authorization: Bearer (and x-api-key on /v1/messages)
	// PID is the process serving URL, measured for CPU and memory; 0 looks
	// it up from the listening socket when the target is on this machine.
	PID int

	idleRSS int64 // resident size of a process bench started, before load
}

// Options configure one run of custos bench.
type Options struct {
	Targets  []Target // in the order measured; a target named DirectName is the baseline for "added" figures
	Workload *Workload
	Load     Load
	// AllowRemote permits targets that are not loopback.
	AllowRemote bool
	// Stub starts the built-in stub upstream and measures it as the direct
	// baseline; StubOptions tune it, StubListen fixes its address.
	Stub        bool
	StubOptions StubOptions
	StubListen  string
	// BareProxy also measures a bare Go reverse proxy in front of the direct target.
	BareProxy bool
	// Self is this program's executable: the stub and the bare proxy then
	// run as child processes (`custos bench stub|proxy`), so their CPU and
	// memory are theirs alone and bench's own process holds only the load
	// generator. Empty runs them inside this process.
	Self string

	Out      io.Writer // the text table (or JSON)
	JSON     bool      // write JSON instead of the text table
	HTMLFile string    // also write an HTML report here
	Progress io.Writer // a progress line, redrawn; nil for none (use it only on a terminal)
	Title    string
	// Rounds measures every target this many times under each load,
	// interleaved (every target once, then again), and reports for each
	// target its round of median requests/s; default 1.
	Rounds int
}

// Names of the baselines bench measures itself.
const (
	DirectName    = "direct"
	BareProxyName = "bare proxy"
	CustosName    = "custos"
)

// CheckTarget refuses a URL that is not http(s) on a loopback address,
// unless allowRemote. "localhost" counts as loopback; other host names do
// not (give the IP address).
func CheckTarget(raw string, allowRemote bool) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%w: %q is not an http(s) URL", ErrOptions, raw)
	}
	if u.User != nil {
		return fmt.Errorf("%w: the URL must not carry credentials; use --key", ErrOptions)
	}
	if allowRemote || isLoopbackHost(u.Hostname()) {
		return nil
	}
	return fmt.Errorf("%s: %w", u.Host, ErrRemoteTarget)
}

func isLoopbackHost(h string) bool {
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}
