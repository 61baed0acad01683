package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"time"
)

// NewBareProxy is the floor a gateway is compared with: a Go
// httputil.ReverseProxy in front of upstream (a base URL without /v1) that
// does nothing but forward. It reads the request body before forwarding
// (streamed replies are lost under load otherwise, golang/go#40747) and
// flushes event streams as they arrive.
func NewBareProxy(upstream string) (http.Handler, error) {
	u, err := url.Parse(trimBase(upstream))
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("%w: upstream %q is not a URL", ErrOptions, upstream)
	}
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) { pr.SetURL(u) },
		Transport: &http.Transport{
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:        4096,
			MaxIdleConnsPerHost: 4096,
			IdleConnTimeout:     90 * time.Second,
			DisableCompression:  true,
		},
		ErrorLog: log.New(io.Discard, "", 0),
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, stubMaxBody))
		if err != nil {
			http.Error(w, "request body unreadable", http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		rp.ServeHTTP(w, r)
	}), nil
}

// trimBase drops a trailing slash and /v1: targets are base URLs and every
// workload path starts with /v1.
func trimBase(u string) string {
	u = strings.TrimSuffix(u, "/")
	return strings.TrimSuffix(u, "/v1")
}

// Server is an HTTP server bench started in its own process.
type Server struct {
	URL  string // http://host:port
	srv  *http.Server
	done chan error
}

// Start serves h on listen (host:port; port 0 picks one).
func Start(listen string, h http.Handler) (*Server, error) {
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return nil, err
	}
	s := &Server{URL: "http://" + ln.Addr().String(), done: make(chan error, 1),
		srv: &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ErrorLog: log.New(io.Discard, "", 0)}}
	go func() { s.done <- s.srv.Serve(ln) }()
	return s, nil
}

// Close stops the server, letting requests in flight finish for a while.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	if serr := <-s.done; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	return err
}

// Serve runs h on listen until ctx ends; it first prints "<name> listening
// on <URL>" to out, the line a parent bench waits for.
func Serve(ctx context.Context, name, listen string, h http.Handler, out io.Writer) error {
	s, err := Start(listen, h)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "%s listening on %s\n", name, s.URL)
	<-ctx.Done()
	return s.Close()
}
