package gateway_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/custos-gateway/custos/gateway/config"
	"github.com/custos-gateway/custos/gateway/providertest"
)

// Beyond server.max_in_flight model requests, a request is refused at once
// with 503 overloaded and Retry-After; nothing of it is forwarded.
func TestInFlightBound(t *testing.T) {
	h := startGateway(t, func(c *config.Config) { c.Server.MaxInFlight = 2 })
	h.Sim.SetDefault(providertest.Behaviour{Latency: 400 * time.Millisecond})
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			io.Copy(io.Discard, h.post(t, "/v1/chat/completions", "application/json", appKey, okBody).Body)
		}()
	}
	deadline := time.Now().Add(5 * time.Second)
	for h.Sim.Requests() < 2 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	resp := h.post(t, "/v1/chat/completions", "application/json", appKey, okBody)
	if _, code := openAIError(t, resp); resp.StatusCode != 503 || code != "overloaded" || resp.Header.Get("Retry-After") == "" {
		t.Errorf("third request in flight: %d %s Retry-After %q", resp.StatusCode, code, resp.Header.Get("Retry-After"))
	}
	// Routes that forward nothing are not bounded by it.
	if r := h.get(t, "/v1/models", appKey); r.StatusCode != 200 {
		t.Errorf("models while busy: %d", r.StatusCode)
	}
	wg.Wait()
	if n := h.Sim.Requests(); n != 2 {
		t.Errorf("the provider saw %d requests, want 2", n)
	}
}

// A client address past its failed-authentication allowance gets 429 with
// Retry-After instead of 401; a valid key from the same address still works.
func TestFailedAuthenticationsAreThrottledPerClient(t *testing.T) {
	h := startGateway(t, func(c *config.Config) { c.Server.MaxFailedAuthPerMinute = 3 })
	var codes []int
	for range 5 {
		codes = append(codes, h.post(t, "/v1/chat/completions", "application/json", "cst_stolen_guess", okBody).StatusCode)
	}
	if got := fmt.Sprint(codes); got != "[401 401 401 429 429]" {
		t.Errorf("statuses %s, want [401 401 401 429 429]", got)
	}
	resp := h.post(t, "/v1/chat/completions", "application/json", "cst_stolen_guess", okBody)
	if _, code := openAIError(t, resp); code != "too_many_failed_authentications" || resp.Header.Get("Retry-After") == "" {
		t.Errorf("throttled answer: %s, Retry-After %q", code, resp.Header.Get("Retry-After"))
	}
	if r := h.post(t, "/v1/chat/completions", "application/json", appKey, okBody); r.StatusCode != 200 {
		t.Errorf("a valid key from the same address: %d", r.StatusCode)
	}
}

// Connections beyond server.max_connections_per_client are closed at once;
// slow headers and slow bodies are cut off at their timeouts.
func TestConnectionBounds(t *testing.T) {
	h := startGateway(t, func(c *config.Config) {
		c.Server.MaxConnectionsPerClient = 2
		c.Server.ReadHeaderTimeout = config.Duration(300 * time.Millisecond)
		c.Server.ReadTimeout = config.Duration(600 * time.Millisecond)
	})
	addr := strings.TrimPrefix(strings.TrimSuffix(h.URL, "/v1"), "http://")
	dial := func() net.Conn {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	// closedWithin: the gateway ends the connection (closes it, or
	// answers and closes) within d; it returns the answer's first line.
	closedWithin := func(c net.Conn, d time.Duration) (string, bool) {
		_ = c.SetReadDeadline(time.Now().Add(d))
		line, err := bufio.NewReader(c).ReadString('\n')
		ne, timeout := err.(net.Error)
		return strings.TrimSpace(line), !(timeout && ne.Timeout())
	}
	slowHeader := dial()
	_, _ = io.WriteString(slowHeader, "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n")
	slowBody := dial()
	_, _ = io.WriteString(slowBody, "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "+appKey+
		"\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"model\":")
	third := dial()
	if line, ended := closedWithin(third, 2*time.Second); !ended || line != "" {
		t.Errorf("a third connection from one address stayed open or was served: %q", line)
	}
	start := time.Now()
	if _, ended := closedWithin(slowHeader, 3*time.Second); !ended || time.Since(start) > 2*time.Second {
		t.Errorf("a connection that never finished its headers was not cut off (%v)", time.Since(start))
	}
	if line, ended := closedWithin(slowBody, 3*time.Second); !ended || time.Since(start) > 2*time.Second ||
		(line != "" && !strings.Contains(line, "408")) {
		t.Errorf("a connection that never finished its body was not cut off (%v): %q", time.Since(start), line)
	}
}
