package upstream

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"
)

// ErrTimeout means the provider did not answer within the configured time
// (connect or response header timeout). Nothing of the answer was read.
var ErrTimeout = errors.New("upstream: provider timed out")

// ErrUnreachable means the provider could not be reached or did not answer in
// time (connect error, reset, header timeout). Nothing of the answer was read.
var ErrUnreachable = errors.New("upstream: provider unreachable")

// StatusError is a non-2xx answer from a provider. Body is the provider's error
// body, kept for relaying to the client; Error() never includes it.
type StatusError struct {
	Endpoint   string
	StatusCode int
	RetryAfter time.Duration
	Body       []byte
	Header     http.Header
	// Message is the provider's own error message, if its body has one.
	Message string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("upstream: endpoint %s answered %d", e.Endpoint, e.StatusCode)
}

// Options tune the pooled transport.
type Options struct {
	ConnectTimeout        time.Duration
	TLSHandshakeTimeout   time.Duration
	ResponseHeaderTimeout time.Duration
	IdleConnTimeout       time.Duration
	MaxIdleConnsPerHost   int
}

// Client sends requests to provider endpoints over one pooled transport.
type Client struct {
	http     *http.Client
	maxError int64
}

// NewClient builds a client tuned by opts.
func NewClient(opts Options) *Client {
	dialer := &net.Dialer{Timeout: opts.ConnectTimeout, KeepAlive: 30 * time.Second}
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          1024,
		MaxIdleConnsPerHost:   opts.MaxIdleConnsPerHost,
		IdleConnTimeout:       opts.IdleConnTimeout,
		TLSHandshakeTimeout:   opts.TLSHandshakeTimeout,
		ResponseHeaderTimeout: opts.ResponseHeaderTimeout,
		ExpectContinueTimeout: time.Second,
		// Answers are relayed as the provider sent them; never let the
		// transport decompress (and so re-frame) a stream behind our back.
		DisableCompression: true,
	}
	return &Client{http: &http.Client{Transport: tr, CheckRedirect: noRedirects}, maxError: 64 << 10}
}

// A provider that redirects is misconfigured; following it could leave the
// endpoint's region.
func noRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// inProcess is implemented by kinds served inside Custos (echo).
type inProcess interface{ transport() http.RoundTripper }

// Do sends call to the endpoint t through its kind's adapter and returns the
// provider's 2xx answer, whose body the caller must close. A non-2xx answer
// is returned as *StatusError with its body read (bounded); a transport
// failure wraps ErrUnreachable or ErrTimeout. Cancelling ctx aborts the call.
func (c *Client) Do(ctx context.Context, t *Target, call *Call) (*http.Response, error) {
	a, ok := Lookup(t.Kind)
	if !ok {
		return nil, fmt.Errorf("upstream: endpoint %s: unknown kind %q", t.Name, t.Kind)
	}
	hr, err := a.Request(ctx, t, call)
	if err != nil {
		return nil, fmt.Errorf("upstream: building request for endpoint %s: %w", t.Name, err)
	}
	hr.Header.Set("Content-Type", "application/json")
	hr.Header.Set("Accept", "application/json")
	if call.Stream {
		hr.Header.Set("Accept", "text/event-stream")
	}
	hr.Header.Set("User-Agent", "custos")
	if call.RequestID != "" {
		hr.Header.Set("X-Request-Id", call.RequestID)
	}
	for k, vs := range call.Header {
		hr.Header[k] = vs
	}
	var resp *http.Response
	if ip, ok := a.(inProcess); ok {
		resp, err = ip.transport().RoundTrip(hr)
	} else {
		resp, err = c.http.Do(hr)
	}
	if err != nil {
		return nil, transportError(ctx, t.Name, err)
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return resp, nil
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, c.maxError))
	return nil, &StatusError{
		Endpoint:   t.Name,
		StatusCode: resp.StatusCode,
		RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()),
		Body:       body,
		Header:     resp.Header.Clone(),
		Message:    a.ErrorMessage(body),
	}
}

// transportError classifies a failed round trip.
func transportError(ctx context.Context, endpoint string, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("upstream: endpoint %s: %w", endpoint, ctxErr)
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return fmt.Errorf("upstream: endpoint %s: %w", endpoint, ErrTimeout)
	}
	return fmt.Errorf("upstream: endpoint %s: %w: %s", endpoint, ErrUnreachable, transportCause(err))
}

// newPost builds a POST of body to target.
func newPost(ctx context.Context, target string, body []byte) (*http.Request, error) {
	return http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
}

// transportCause names the kind of transport failure without echoing URLs
// that might carry query secrets.
func transportCause(err error) string {
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "connection closed"
	}
	var op *net.OpError
	if errors.As(err, &op) {
		return op.Op + " failed"
	}
	return "transport error"
}

// parseRetryAfter reads a Retry-After value in seconds or as an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil && secs >= 0 {
		return time.Duration(secs * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// CloseIdle closes idle pooled connections.
func (c *Client) CloseIdle() { c.http.CloseIdleConnections() }
