package upstream

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/custos-gateway/custos/gateway/config"
	"github.com/custos-gateway/custos/residency"
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
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("upstream: endpoint %s answered %d", e.Endpoint, e.StatusCode)
}

// Client sends requests to provider endpoints over one pooled transport.
type Client struct {
	http     *http.Client
	echo     http.RoundTripper
	maxError int64
}

// NewClient builds a client tuned by cfg.
func NewClient(cfg config.Upstream) *Client {
	dialer := &net.Dialer{Timeout: cfg.ConnectTimeout.Std(), KeepAlive: 30 * time.Second}
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          1024,
		MaxIdleConnsPerHost:   cfg.MaxIdleConnsPerHost,
		IdleConnTimeout:       cfg.IdleConnTimeout.Std(),
		TLSHandshakeTimeout:   cfg.TLSHandshakeTimeout.Std(),
		ResponseHeaderTimeout: cfg.ResponseHeaderTimeout.Std(),
		ExpectContinueTimeout: time.Second,
		// Answers are relayed as the provider sent them; never let the
		// transport decompress (and so re-frame) a stream behind our back.
		DisableCompression: true,
	}
	return &Client{
		http:     &http.Client{Transport: tr, CheckRedirect: noRedirects},
		echo:     HandlerTransport{Handler: EchoHandler()},
		maxError: 64 << 10,
	}
}

// A provider that redirects is misconfigured; following it could leave the
// endpoint's region.
func noRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// Request is one call to a provider.
type Request struct {
	Endpoint  *residency.Endpoint
	Path      string // appended to the endpoint's base URL, e.g. "/chat/completions"
	Body      []byte
	Key       string // provider key; empty for keyless endpoints
	RequestID string
	Stream    bool
	Model     string // the model asked of the endpoint (Azure picks the deployment by it)
}

// AzureAPIVersion is the Azure OpenAI api-version used when an endpoint
// names none.
const AzureAPIVersion = "2024-10-21"

// Do sends req and returns the provider's 2xx answer, whose body the caller
// must close. A non-2xx answer is returned as *StatusError with its body read
// (bounded); a transport failure wraps ErrUnreachable. Cancelling ctx aborts
// the provider call.
func (c *Client) Do(ctx context.Context, req Request) (*http.Response, error) {
	ep := req.Endpoint
	base := strings.TrimSuffix(ep.BaseURL, "/")
	target := base + req.Path
	switch ep.Kind {
	case config.KindEcho:
		target = "http://echo.custos.invalid/v1" + req.Path
	case config.KindGemini:
		method := ":generateContent"
		if req.Stream {
			method = ":streamGenerateContent?alt=sse"
		}
		target = base + "/models/" + url.PathEscape(req.Model) + method
	case config.KindAzure:
		deployment := ep.Deployments[req.Model]
		if deployment == "" {
			deployment = req.Model
		}
		version := ep.APIVersion
		if version == "" {
			version = AzureAPIVersion
		}
		target = base + "/openai/deployments/" + url.PathEscape(deployment) + req.Path + "?api-version=" + url.QueryEscape(version)
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(req.Body))
	if err != nil {
		return nil, fmt.Errorf("upstream: building request for endpoint %s: %w", ep.Name, err)
	}
	hr.Header.Set("Content-Type", "application/json")
	if req.Stream {
		hr.Header.Set("Accept", "text/event-stream")
	} else {
		hr.Header.Set("Accept", "application/json")
	}
	hr.Header.Set("User-Agent", "custos")
	if req.RequestID != "" {
		hr.Header.Set("X-Request-Id", req.RequestID)
	}
	switch {
	case ep.Kind == config.KindAnthropic:
		hr.Header.Set("anthropic-version", "2023-06-01")
		if req.Key != "" {
			hr.Header.Set("x-api-key", req.Key)
		}
	case ep.Kind == config.KindAzure:
		if req.Key != "" {
			hr.Header.Set("api-key", req.Key)
		}
	case ep.Kind == config.KindGemini:
		if req.Key != "" {
			hr.Header.Set("x-goog-api-key", req.Key)
		}
	case req.Key != "":
		hr.Header.Set("Authorization", "Bearer "+req.Key)
	}

	var resp *http.Response
	if ep.Kind == config.KindEcho {
		resp, err = c.echo.RoundTrip(hr)
	} else {
		resp, err = c.http.Do(hr)
	}
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, fmt.Errorf("upstream: endpoint %s: %w", ep.Name, ctxErr)
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return nil, fmt.Errorf("upstream: endpoint %s: %w", ep.Name, ErrTimeout)
		}
		return nil, fmt.Errorf("upstream: endpoint %s: %w: %s", ep.Name, ErrUnreachable, transportCause(err))
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return resp, nil
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, c.maxError))
	return nil, &StatusError{
		Endpoint:   ep.Name,
		StatusCode: resp.StatusCode,
		RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()),
		Body:       body,
		Header:     resp.Header.Clone(),
	}
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
