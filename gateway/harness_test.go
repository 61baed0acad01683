package gateway_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/custos-gateway/custos/gateway"
	"github.com/custos-gateway/custos/gateway/auth"
	"github.com/custos-gateway/custos/gateway/config"
	"github.com/custos-gateway/custos/gateway/providertest"
)

// Keys the harness registers.
const (
	appKey     = "cst_test_active_key_0123456789"
	revokedKey = "cst_test_revoked_key_0123456789"
	testModel  = "gpt-sim"
)

// syncBuffer collects log output from concurrent handlers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

type harness struct {
	URL  string // gateway base URL, with /v1
	Sim  *providertest.OpenAI
	Logs *syncBuffer
}

// startGateway runs a real gateway on 127.0.0.1 in front of an OpenAI
// simulator; edit may adjust the config before it is validated.
func startGateway(t testing.TB, edit func(*config.Config)) *harness {
	t.Helper()
	sim := providertest.NewOpenAI(t)
	active, _ := auth.HashKey(appKey)
	revoked, _ := auth.HashKey(revokedKey)
	cfg := config.Defaults()
	cfg.Tenants = []config.Tenant{{
		ID: "st-marys",
		Apps: []config.App{{
			ID: "clinical-assistant", Purpose: "treatment",
			Keys: []config.AppKey{{ID: "k_active", SHA256: active}, {ID: "k_revoked", SHA256: revoked, Revoked: true}},
		}},
	}}
	cfg.Endpoints = []config.Endpoint{{
		Name: "sim-eu", Kind: config.KindOpenAI, Provider: "openai", BaseURL: sim.URL,
		Region: "eu-west", Models: []string{testModel}, Keyless: true,
	}}
	if edit != nil {
		edit(cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("test config: %v", err)
	}
	logs := &syncBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv, err := gateway.NewFromConfig(cfg, log)
	if err != nil {
		t.Fatalf("gateway: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("shutdown: %v", err)
		}
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return &harness{URL: "http://" + ln.Addr().String() + "/v1", Sim: sim, Logs: logs}
}

// post sends a raw request to the gateway.
func (h *harness) post(t testing.TB, path, contentType, key, body string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, strings.TrimSuffix(h.URL, "/v1")+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// waitForRequestLogs waits until n request log lines are written: the line is
// written after the response ends, so a client may see the answer first.
func (h *harness) waitForRequestLogs(t testing.TB, n int) string {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		logs := h.Logs.String()
		if strings.Count(logs, `"msg":"request"`) >= n {
			return logs
		}
		if time.Now().After(deadline) {
			t.Fatalf("want %d request log lines; logs:\n%s", n, logs)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
