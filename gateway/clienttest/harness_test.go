package clienttest_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/custos-gateway/custos/audit"
	"github.com/custos-gateway/custos/gateway"
	"github.com/custos-gateway/custos/gateway/auth"
	"github.com/custos-gateway/custos/gateway/config"
	"github.com/custos-gateway/custos/gateway/providertest"
	"github.com/custos-gateway/custos/gateway/upstream"
	"github.com/custos-gateway/custos/policies"
	"github.com/custos-gateway/custos/policy"
)

// The tenant, app and models of the shipped policies the suite uses:
// st-marys may use both models for treatment; gpt-4o-mini is served by an
// endpoint with a BAA (health data may go there), claude-sonnet-4-5 by one
// without.
const (
	appKey      = "cst_test_clients_key_0123456789"
	gptModel    = "gpt-4o-mini"
	claudeModel = "claude-sonnet-4-5"
)

var (
	engineOnce sync.Once
	engine     *policy.Engine
	engineErr  error
)

// sharedEngine compiles the shipped policies once for every gateway the
// suite starts (an engine is safe for concurrent use). Its evaluation bound
// is generous: an outcome must not depend on the machine's load.
func sharedEngine(t testing.TB) *policy.Engine {
	t.Helper()
	engineOnce.Do(func() {
		engine, engineErr = policy.New(context.Background(), policy.FromFS(policies.FS, "policies"),
			policy.Options{Timeout: 5 * time.Second})
	})
	if engineErr != nil {
		t.Fatalf("policy: %v", engineErr)
	}
	return engine
}

// simulator is what the suite asks of either provider simulator.
type simulator interface {
	Script(...providertest.Behaviour)
	Received() []providertest.Received
}

// custos is a real gateway on 127.0.0.1 in front of an OpenAI simulator
// (gpt-4o-mini) and an Anthropic simulator (claude-sonnet-4-5).
type custos struct {
	URL       string // base URL, with /v1
	OpenAI    *providertest.OpenAI
	Anthropic *providertest.Anthropic
	auditPath string
	auditPub  ed25519.PublicKey
	stop      func()
}

// sim is the simulator serving model.
func (g *custos) sim(model string) simulator {
	if model == claudeModel {
		return g.Anthropic
	}
	return g.OpenAI
}

// startCustos starts a gateway with its own simulators and audit log, so a
// scenario's records and received requests are its own.
func startCustos(t testing.TB) *custos {
	t.Helper()
	g := &custos{OpenAI: providertest.NewOpenAI(t), Anthropic: providertest.NewAnthropic(t)}
	cfg := testConfig(t, g)
	signer, err := audit.GenerateKeyFiles(cfg.Audit.SigningKeyFile, cfg.Audit.SigningKeyFile+".pub")
	if err != nil {
		t.Fatal(err)
	}
	auditLog, err := audit.Open(cfg.Audit.Path, audit.Options{Instance: "clienttest", Signer: signer, CheckpointEvery: cfg.Audit.CheckpointEvery})
	if err != nil {
		t.Fatalf("audit: %v", err)
	}
	srv, err := gateway.NewFromConfig(cfg, gateway.Wiring{Decider: sharedEngine(t), Audit: auditLog, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatalf("gateway: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	var once sync.Once
	g.stop = func() {
		once.Do(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := srv.Shutdown(ctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("shutdown: %v", err)
			}
			if err := <-done; err != nil {
				t.Errorf("serve: %v", err)
			}
			if err := auditLog.Close(); err != nil {
				t.Errorf("closing the audit log: %v", err)
			}
		})
	}
	t.Cleanup(g.stop)
	g.URL = "http://" + ln.Addr().String() + "/v1"
	g.auditPath, g.auditPub = cfg.Audit.Path, signer.Public()
	return g
}

// testConfig: tenant st-marys, app clinical-assistant (treatment), one
// endpoint per simulator.
func testConfig(t testing.TB, g *custos) *config.Config {
	t.Helper()
	hash, _ := auth.HashKey(appKey)
	dir := t.TempDir()
	cfg := config.Defaults()
	cfg.Tenants = []config.Tenant{{ID: "st-marys", Apps: []config.App{{
		ID: "clinical-assistant", Purpose: "treatment", Keys: []config.AppKey{{ID: "k_clients", SHA256: hash}},
	}}}}
	cfg.Endpoints = []config.Endpoint{{
		Name: "azure-openai-eu", Kind: upstream.KindOpenAI, Provider: "azure", BaseURL: g.OpenAI.URL,
		Region: "eu-west", Models: []string{gptModel}, Keyless: true,
	}, {
		Name: "anthropic-eu", Kind: upstream.KindAnthropic, Provider: "anthropic", BaseURL: g.Anthropic.URL,
		Region: "eu-central", Models: []string{claudeModel}, Keyless: true,
	}}
	cfg.Audit.Path = filepath.Join(dir, "audit.db")
	cfg.Audit.SigningKeyFile = filepath.Join(dir, "audit.pem")
	cfg.Audit.CheckpointFile = filepath.Join(dir, "checkpoints.jsonl")
	if err := cfg.Validate(); err != nil {
		t.Fatalf("test config: %v", err)
	}
	return cfg
}

// records stops the gateway, verifies its audit log and returns its
// records.
func (g *custos) records(t testing.TB) []audit.Record {
	t.Helper()
	g.stop()
	return readAudit(t, g.auditPath, g.auditPub)
}

// readAudit verifies a closed audit log and returns its records.
func readAudit(t testing.TB, path string, pub ed25519.PublicKey) []audit.Record {
	t.Helper()
	rep, err := audit.Verify(path, audit.VerifyOptions{PublicKey: pub})
	if err != nil || !rep.OK() {
		t.Fatalf("audit log does not verify: %+v %v", rep, err)
	}
	var buf bytes.Buffer
	if _, err := audit.ExportFile(&buf, path, audit.Filter{}, audit.FormatJSONL); err != nil {
		t.Fatal(err)
	}
	var out []audit.Record
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		if line == "" {
			continue
		}
		var r audit.Record
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}
