package gateway

import (
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/custos-gateway/custos/gateway/auth"
	"github.com/custos-gateway/custos/gateway/limits"
)

// Conditions of admission, classified in errors.go.
var (
	// errOverloaded: the gateway serves as many model requests as it may.
	errOverloaded = errors.New("gateway: too many requests in flight")
	// errTooManyFailures: the client address caused too many failed
	// authentications this minute.
	errTooManyFailures = errors.New("gateway: too many failed authentications from this client")
)

// admission guards the gateway against what an unauthenticated client can
// make it do: requests in flight are bounded, and a client address that
// keeps failing authentication is refused before any key is checked.
type admission struct {
	inFlight   chan struct{}
	failures   *limits.Limiter
	failLimit  limits.Limit
	overloaded atomic.Int64 // refused as overloaded
	throttled  atomic.Int64 // refused for failed authentications
}

func newAdmission(maxInFlight, failuresPerMinute int, now func() time.Time) *admission {
	return &admission{
		inFlight:  make(chan struct{}, maxInFlight),
		failures:  limits.New(limits.Options{Now: now, MaxKeys: 1 << 16}),
		failLimit: limits.Limit{RequestsPerMinute: int64(failuresPerMinute)},
	}
}

// enter takes an in-flight slot for a model request; release gives it back.
func (a *admission) enter() (release func(), err error) {
	select {
	case a.inFlight <- struct{}{}:
		return func() { <-a.inFlight }, nil
	default:
		a.overloaded.Add(1)
		return nil, errOverloaded
	}
}

// throttledError refuses a client, saying when it may try again.
type throttledError struct{ retryAfter time.Duration }

func (e *throttledError) Error() string { return errTooManyFailures.Error() }

func (e *throttledError) Unwrap() error { return errTooManyFailures }

// checkClient refuses a client address over its failed-authentication
// allowance.
func (a *admission) checkClient(addr string) error {
	st := a.failures.Peek(addr, a.failLimit)
	if st.Requests.Remaining > 0 {
		return nil
	}
	a.throttled.Add(1)
	return &throttledError{retryAfter: max(st.Requests.Reset, time.Second)}
}

// failed counts a failed authentication against the client address.
func (a *admission) failed(addr string) {
	if r, _, err := a.failures.Reserve(addr, a.failLimit, 0); err == nil {
		r.Settle(0)
	}
}

// admit runs the gates before a handler: a model route's in-flight slot,
// then authentication. A client address past its failed-authentication
// allowance gets 429 instead of 401 (valid keys from it still pass: a
// shared address is not locked out). The returned release (never nil)
// frees what admit took.
func (s *Server) admit(c *gin.Context, ex *exchange, r *route) (func(), error) {
	release := func() {}
	if r.inFlight {
		if s.headroom.low(s.audit) {
			return release, errDiskLow
		}
		rel, err := s.admission.enter()
		if err != nil {
			return release, err
		}
		release = rel
	}
	err := s.authenticate(c, ex, r.role)
	if errors.Is(err, auth.ErrMissingKey) || errors.Is(err, auth.ErrUnknownKey) || errors.Is(err, auth.ErrRevokedKey) {
		addr := clientAddr(c)
		if terr := s.admission.checkClient(addr); terr != nil {
			return release, errors.Join(terr, err)
		}
		s.admission.failed(addr)
	}
	return release, err
}

// clientAddr is the connection's remote IP (proxies are not trusted).
func clientAddr(c *gin.Context) string {
	host, _, err := net.SplitHostPort(c.Request.RemoteAddr)
	if err != nil {
		return c.Request.RemoteAddr
	}
	return host
}

// limitedListener closes, as soon as it is accepted, a connection over
// the total or per-client-address bound.
type limitedListener struct {
	net.Listener
	max, perClient int
	mu             sync.Mutex
	total          int
	byAddr         map[string]int
	refused        atomic.Int64
}

func newLimitedListener(ln net.Listener, max, perClient int) *limitedListener {
	return &limitedListener{Listener: ln, max: max, perClient: perClient, byAddr: map[string]int{}}
}

func (l *limitedListener) Accept() (net.Conn, error) {
	for {
		conn, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		addr, _, _ := net.SplitHostPort(conn.RemoteAddr().String())
		if l.take(addr) {
			return &countedConn{Conn: conn, release: func() { l.give(addr) }}, nil
		}
		l.refused.Add(1)
		_ = conn.Close()
	}
}

func (l *limitedListener) take(addr string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.total >= l.max || l.byAddr[addr] >= l.perClient {
		return false
	}
	l.total++
	l.byAddr[addr]++
	return true
}

func (l *limitedListener) give(addr string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.total--
	if l.byAddr[addr]--; l.byAddr[addr] <= 0 {
		delete(l.byAddr, addr)
	}
}

// countedConn gives its place back once, when closed.
type countedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *countedConn) Close() error {
	c.once.Do(c.release)
	return c.Conn.Close()
}
