package gateway_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/custos-gateway/custos/audit"
	"github.com/custos-gateway/custos/audit/ledger"
	"github.com/custos-gateway/custos/gateway"
	"github.com/custos-gateway/custos/gateway/auth"
	"github.com/custos-gateway/custos/gateway/config"
	"github.com/custos-gateway/custos/gateway/providertest"
	"github.com/custos-gateway/custos/gateway/upstream"
	"github.com/custos-gateway/custos/policies"
	"github.com/custos-gateway/custos/policy"
)

// Keys the harness registers.
const (
	appKey     = "cst_test_active_key_0123456789"
	revokedKey = "cst_test_revoked_key_0123456789"
	pilotKey   = "cst_test_pilot_key_0123456789"
	auditorKey = "cst_test_auditor_key_0123456789"
	testModel  = "gpt-4o-mini"
	// unlistedModel is served by the endpoint but not on the tenant's
	// allowlist in the shipped policies.
	unlistedModel = "gpt-3.5-turbo"
)

var auditorHash, _ = auth.HashKey(auditorKey)

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
	URL       string // gateway base URL, with /v1
	Sim       *providertest.OpenAI
	Logs      *syncBuffer
	AuditPath string
	AuditPub  ed25519.PublicKey
	Ledger    *ledger.BoltLedger
	Handler   http.Handler // the gateway's handler, for benchmarks that skip the client's HTTP
	stop      func()       // shuts the server down and closes the audit log
	// allowIncomplete: the test expects requests whose outcome could not be
	// recorded (a full disk), so records accepts an intact but incomplete log.
	allowIncomplete bool
}

// startGateway runs a real gateway on 127.0.0.1 in front of an OpenAI
// simulator; edit may adjust the config before it is validated.
func startGateway(t testing.TB, edit func(*config.Config)) *harness {
	t.Helper()
	return startGatewayWithPolicy(t, edit, policy.FromFS(policies.FS, "policies"))
}

// startGatewayWithPolicy is startGateway deciding with the given policy set.
func startGatewayWithPolicy(t testing.TB, edit func(*config.Config), src policy.Source) *harness {
	t.Helper()
	return startGatewayWith(t, edit, src, t.TempDir())
}

// startGatewayWith also names the directory of the audit log.
func startGatewayWith(t testing.TB, edit func(*config.Config), src policy.Source, auditDir string) *harness {
	t.Helper()
	return startGatewayKeys(t, edit, src, auditDir, nil)
}

// startGatewayKeys also wires a provider key source.
func startGatewayKeys(t testing.TB, edit func(*config.Config), src policy.Source, auditDir string, keys gateway.KeySource) *harness {
	t.Helper()
	return startGatewayOpts(t, harnessOptions{edit: edit, src: &src, auditDir: auditDir, keys: keys})
}

// harnessOptions are everything a test gateway may be started with.
type harnessOptions struct {
	edit     func(*config.Config)
	src      *policy.Source // the shipped policies when nil
	auditDir string         // a temporary directory when empty
	keys     gateway.KeySource
	now      func() time.Time // the clock of the ledger and the rate limits
	noMemo   bool             // evaluate every policy decision afresh
	// wrapAudit, when set, wraps the audit log the gateway is given.
	wrapAudit func(gateway.AuditLog) gateway.AuditLog
}

// startGatewayOpts runs a test gateway with every option.
func startGatewayOpts(t testing.TB, o harnessOptions) *harness {
	t.Helper()
	src := policy.FromFS(policies.FS, "policies")
	if o.src != nil {
		src = *o.src
	}
	if o.auditDir == "" {
		o.auditDir = t.TempDir()
	}
	edit, auditDir, keys := o.edit, o.auditDir, o.keys
	sim := providertest.NewOpenAI(t)
	active, _ := auth.HashKey(appKey)
	revoked, _ := auth.HashKey(revokedKey)
	pilot, _ := auth.HashKey(pilotKey)
	cfg := config.Defaults()
	cfg.Tenants = []config.Tenant{{
		ID: "st-marys",
		Apps: []config.App{{
			ID: "clinical-assistant", Purpose: "treatment",
			Keys: []config.AppKey{{ID: "k_active", SHA256: active}, {ID: "k_revoked", SHA256: revoked, Revoked: true}},
		}},
	}, {
		// In dry-run in the shipped policies: decisions recorded, not enforced.
		ID:   "pilot-clinic",
		Apps: []config.App{{ID: "triage", Purpose: "treatment", Keys: []config.AppKey{{ID: "k_pilot", SHA256: pilot}}}},
	}}
	cfg.Endpoints = []config.Endpoint{{
		Name: "azure-openai-eu", Kind: upstream.KindOpenAI, Provider: "azure", BaseURL: sim.URL,
		Region: "eu-west", Models: []string{testModel, unlistedModel}, Keyless: true,
	}}
	keyDir := t.TempDir()
	cfg.Audit.Path = filepath.Join(auditDir, "audit.db")
	cfg.Audit.SigningKeyFile = filepath.Join(keyDir, "audit.pem")
	cfg.Audit.CheckpointFile = filepath.Join(keyDir, "checkpoints.jsonl")
	cfg.Auditors = []config.Auditor{{ID: "external-auditor", Keys: []config.AppKey{{ID: "k_auditor", SHA256: auditorHash}}}}
	if edit != nil {
		edit(cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("test config: %v", err)
	}
	logs := &syncBuffer{}
	log, _ := gateway.NewLogger(config.Log{Level: "debug", Format: "json"}, logs) // lines written at once
	// A generous evaluation bound: a decision's outcome must not depend on
	// the test machine's load (the policy timeout path has its own tests).
	engine, err := policy.New(context.Background(), src, policy.Options{Logger: log, Timeout: 5 * time.Second, NoMemo: o.noMemo})
	if err != nil {
		t.Fatalf("policy: %v", err)
	}
	signer, err := audit.GenerateKeyFiles(cfg.Audit.SigningKeyFile, cfg.Audit.SigningKeyFile+".pub")
	if err != nil {
		t.Fatal(err)
	}
	lopts := gateway.LedgerOptions(cfg)
	lopts.Now = o.now
	led, auditLog, err := ledger.OpenBolt(cfg.Audit.Path, audit.Options{Instance: "test", Signer: signer, CheckpointEvery: cfg.Audit.CheckpointEvery}, lopts)
	if err != nil {
		t.Fatalf("audit: %v", err)
	}
	var alog gateway.AuditLog = auditLog
	if o.wrapAudit != nil {
		alog = o.wrapAudit(alog)
	}
	srv, err := gateway.NewFromConfig(cfg, gateway.Wiring{Decider: engine, Audit: alog, Keys: keys, Ledger: led, Now: o.now, Logger: log})
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
	stop := func() {
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
	t.Cleanup(stop)
	return &harness{URL: "http://" + ln.Addr().String() + "/v1", Sim: sim, Logs: logs,
		AuditPath: cfg.Audit.Path, AuditPub: signer.Public(), Ledger: led, Handler: srv.Handler(), stop: stop}
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

// get sends a GET to the gateway with key.
func (h *harness) get(t testing.TB, path, key string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, strings.TrimSuffix(h.URL, "/v1")+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
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

// records stops the gateway, verifies its audit log and returns its records.
func (h *harness) records(t testing.TB) []audit.Record {
	t.Helper()
	h.stop()
	rep, err := audit.Verify(h.AuditPath, audit.VerifyOptions{PublicKey: h.AuditPub})
	if err != nil || !rep.Intact() || (!h.allowIncomplete && !rep.OK()) {
		t.Fatalf("audit log does not verify (intact and complete): %+v %v", rep, err)
	}
	var buf bytes.Buffer
	if _, err := audit.ExportFile(&buf, h.AuditPath, audit.Filter{}, audit.FormatJSONL); err != nil {
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

func errorsAs(err error, target any) bool { return errors.As(err, target) }

// shippedPolicyWith is the shipped policy set with st-marys's tenant data
// changed by edit.
func shippedPolicyWith(t *testing.T, edit func(stMarys map[string]any)) policy.Source {
	t.Helper()
	dir := t.TempDir()
	if err := os.CopyFS(dir, policies.FS); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "tenants", "data.json")
	var tenants map[string]map[string]any
	b, _ := os.ReadFile(p)
	if err := json.Unmarshal(b, &tenants); err != nil {
		t.Fatal(err)
	}
	edit(tenants["st-marys"])
	out, _ := json.Marshal(tenants)
	if err := os.WriteFile(p, out, 0o644); err != nil {
		t.Fatal(err)
	}
	return policy.FromDir(dir)
}
