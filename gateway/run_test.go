package gateway_test

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/custos-gateway/custos/audit"
	"github.com/custos-gateway/custos/gateway"
	"github.com/custos-gateway/custos/gateway/auth"
	"github.com/custos-gateway/custos/gateway/config"
	"github.com/custos-gateway/custos/gateway/providertest"
	"github.com/custos-gateway/custos/gateway/upstream"
	"github.com/custos-gateway/custos/policies"
)

// runConfig is a file-less configuration for gateway.Run in front of sim.
func runConfig(t *testing.T, sim *providertest.OpenAI) *config.Config {
	t.Helper()
	dir := t.TempDir()
	hash, _ := auth.HashKey(appKey)
	cfg := config.Defaults()
	cfg.Listen = "127.0.0.1:0"
	cfg.Tenants = []config.Tenant{{ID: "st-marys", Apps: []config.App{{ID: "clinical-assistant", Purpose: "treatment",
		Keys: []config.AppKey{{ID: "k", SHA256: hash}}}}}}
	cfg.Endpoints = []config.Endpoint{{Name: "azure-openai-eu", Kind: upstream.KindOpenAI, Provider: "azure", BaseURL: sim.URL,
		Region: "eu-west", Models: []string{testModel}, Keyless: true}}
	cfg.Audit.Path = filepath.Join(dir, "audit.db")
	cfg.Audit.SigningKeyFile = filepath.Join(dir, "audit.pem")
	cfg.Audit.CheckpointFile = filepath.Join(dir, "checkpoints.jsonl")
	if _, err := audit.GenerateKeyFiles(cfg.Audit.SigningKeyFile, cfg.Audit.SigningKeyFile+".pub"); err != nil {
		t.Fatal(err)
	}
	cfg.Policy.Timeout = config.Duration(5 * time.Second)
	return cfg
}

// runGateway starts gateway.Run; it returns the base URL and a channel
// with Run's result.
func runGateway(t *testing.T, ctx context.Context, cfg *config.Config) (string, chan error) {
	t.Helper()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	addr := make(chan net.Addr, 1)
	done := make(chan error, 1)
	go func() { done <- gateway.Run(ctx, cfg, gateway.Deps{OnListen: func(a net.Addr) { addr <- a }}) }()
	select {
	case a := <-addr:
		return "http://" + a.String(), done
	case err := <-done:
		t.Fatalf("Run: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not listen")
	}
	return "", nil
}

func readyStatus(t *testing.T, base string) int {
	t.Helper()
	resp, err := http.Get(base + "/readyz")
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// On stop, readiness fails first while requests in flight (and, during the
// drain delay, new ones) are still served; then the gateway stops and its
// audit log closes intact.
func TestRunDrainsWithReadinessFirst(t *testing.T) {
	sim := providertest.NewOpenAI(t)
	sim.SetDefault(providertest.Behaviour{ChunkDelay: 40 * time.Millisecond, Reply: strings.Repeat("word ", 20)})
	cfg := runConfig(t, sim)
	cfg.Server.DrainDelay = config.Duration(700 * time.Millisecond)
	ctx, cancel := context.WithCancel(context.Background())
	base, done := runGateway(t, ctx, cfg)
	if s := readyStatus(t, base); s != 200 {
		t.Fatalf("ready before stop: %d", s)
	}
	req, _ := http.NewRequest(http.MethodPost, base+"/v1/chat/completions",
		strings.NewReader(`{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"hi"}]}`))
	req.Header.Set("Authorization", "Bearer "+appKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	cancel() // SIGTERM
	deadline := time.Now().Add(5 * time.Second)
	for readyStatus(t, base) != 503 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if s := readyStatus(t, base); s != 503 {
		t.Errorf("readiness during the drain: %d, want 503", s)
	}
	if r := postChat(t, base); r != 200 {
		t.Errorf("a new request during the drain delay: %d, want 200", r)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "[DONE]") {
		t.Error("the stream in flight did not finish")
	}
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	rep, err := audit.Verify(cfg.Audit.Path, audit.VerifyOptions{})
	if err != nil || !rep.OK() || rep.LastCheckpoint != rep.LastSeq {
		t.Errorf("audit log after drain: %+v %v", rep, err)
	}
}

// postChat sends one plain chat request and returns its status.
func postChat(t *testing.T, base string) int {
	req, _ := http.NewRequest(http.MethodPost, base+"/v1/chat/completions", strings.NewReader(okBody))
	req.Header.Set("Authorization", "Bearer "+appKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	_, _ = bufio.NewReader(resp.Body).ReadString(0)
	resp.Body.Close()
	return resp.StatusCode
}

// A watched policy directory that is broken at start: the gateway runs not
// ready and refuses every request; when the officer fixes it, it is ready.
func TestRunWithAPolicyBrokenAtStart(t *testing.T) {
	sim := providertest.NewOpenAI(t)
	cfg := runConfig(t, sim)
	dir := t.TempDir()
	if err := os.CopyFS(dir, policies.FS); err != nil {
		t.Fatal(err)
	}
	good, _ := os.ReadFile(filepath.Join(dir, "access.rego"))
	if err := os.WriteFile(filepath.Join(dir, "access.rego"), []byte("package custos\n\ndeny contains r if {\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg.Policy.Dir = dir
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	base, done := runGateway(t, ctx, cfg)
	if s := readyStatus(t, base); s != 503 {
		t.Errorf("ready with a broken policy: %d", s)
	}
	if s := postChat(t, base); s != 503 {
		t.Errorf("a request with no policy loaded: %d, want 503", s)
	}
	if err := os.WriteFile(filepath.Join(dir, "access.rego"), good, 0o644); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for readyStatus(t, base) != 200 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if s := readyStatus(t, base); s != 200 {
		t.Fatalf("ready after the fix: %d", s)
	}
	if s := postChat(t, base); s != 200 {
		t.Errorf("a request after the fix: %d", s)
	}
	if sim.Requests() != 1 {
		t.Errorf("the provider saw %d requests, want 1", sim.Requests())
	}
	cancel()
	<-done
}
