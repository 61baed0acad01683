package gateway_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/custos-gateway/custos/gateway/config"
	"github.com/custos-gateway/custos/gateway/keysource"
	"github.com/custos-gateway/custos/gateway/keysource/vaulttest"
	"github.com/custos-gateway/custos/policies"
	"github.com/custos-gateway/custos/policy"
)

// Distinctive provider keys: they may reach the provider and nothing else.
const (
	providerKeyV1 = "sk-PROVIDER-CANARY-1-b7e2"
	providerKeyV2 = "sk-PROVIDER-CANARY-2-d94c"
)

func startGatewayWithVault(t *testing.T, ttl, stale time.Duration, now func() time.Time) (*harness, *vaulttest.Server) {
	t.Helper()
	v := vaulttest.Start(t)
	v.PutKV("secret", "custos/azure-eu", map[string]any{"api_key": providerKeyV1})
	tokenFile := filepath.Join(t.TempDir(), "token")
	os.WriteFile(tokenFile, []byte(vaulttest.RootToken), 0o600)
	edit := func(c *config.Config) {
		c.Vault = config.Vault{Address: v.Addr, Auth: config.VaultAuth{Method: "token", TokenFile: tokenFile}, CacheTTL: config.Duration(ttl)}
		sw := config.Duration(stale)
		c.Vault.StaleWindow = &sw
		c.Endpoints[0].Keyless = false
		c.Endpoints[0].Key = &config.KeyRef{Mount: "secret", Path: "custos/azure-eu", Field: "api_key"}
	}
	keys, err := keysource.New(context.Background(), keysource.Options{
		Address: v.Addr, TokenFile: tokenFile, TTL: ttl, StaleWindow: stale, Now: now,
	}, map[string]keysource.Ref{"azure-openai-eu": {Mount: "secret", Path: "custos/azure-eu", Field: "api_key"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(keys.Close)
	h := startGatewayKeys(t, edit, policy.FromFS(policies.FS, "policies"), t.TempDir(), keys)
	return h, v
}

func TestProviderKeyFromVault(t *testing.T) {
	h, v := startGatewayWithVault(t, time.Hour, 15*time.Minute, nil)
	h.Sim.RequireKey(providerKeyV1)
	var bodies []string
	send := func() int {
		resp := h.post(t, "/v1/chat/completions", "application/json", appKey, okBody)
		b, _ := io.ReadAll(resp.Body)
		bodies = append(bodies, string(b))
		return resp.StatusCode
	}
	if s := send(); s != 200 {
		t.Fatalf("status %d: %s", s, bodies[0])
	}
	if got := h.Sim.Received()[0].Authorization; got != "Bearer "+providerKeyV1 {
		t.Errorf("the provider received %q, want the key stored in Vault", got)
	}

	// Rotation in Vault, noticed by the provider before the cache: one 401,
	// one forced refresh, one retry with the new key.
	v.PutKV("secret", "custos/azure-eu", map[string]any{"api_key": providerKeyV2})
	h.Sim.RequireKey(providerKeyV2)
	if s := send(); s != 200 {
		t.Fatalf("after rotation: %d %s", s, bodies[1])
	}
	rec := h.Sim.Received()
	if len(rec) != 3 || rec[1].Authorization != "Bearer "+providerKeyV1 || rec[2].Authorization != "Bearer "+providerKeyV2 {
		t.Errorf("want the cached key refused once, then the new key; got %d requests", len(rec))
	}

	// A provider that refuses even the fresh key: the caller gets a 502,
	// never the provider's message (which echoes part of the key).
	h.Sim.RequireKey("sk-something-else")
	if s := send(); s != 502 || !strings.Contains(bodies[2], "upstream_auth_failed") {
		t.Errorf("refused key: %d %s", s, bodies[2])
	}

	logs := h.Logs.String()
	recs := h.records(t)
	raw, _ := os.ReadFile(h.AuditPath)
	for _, k := range []string{providerKeyV1, providerKeyV2, providerKeyV1[len(providerKeyV1)-4:], providerKeyV2[len(providerKeyV2)-4:]} {
		if strings.Contains(logs, k) {
			t.Errorf("provider key material %q in the logs", k)
		}
		if strings.Contains(strings.Join(bodies, "\n"), k) {
			t.Errorf("provider key material %q in an answer to the caller", k)
		}
		if strings.Contains(string(raw), k) {
			t.Errorf("provider key material %q in the audit file", k)
		}
	}
	if len(recs) < 6 {
		t.Errorf("only %d audit records", len(recs))
	}
}

// With Vault gone past the stale window, requests fail closed with
// key_unavailable and nothing is forwarded.
func TestKeyUnavailableFailsClosed(t *testing.T) {
	start := time.Now()
	var elapsed atomic.Int64
	now := func() time.Time { return start.Add(time.Duration(elapsed.Load())) }
	h, v := startGatewayWithVault(t, 200*time.Millisecond, 300*time.Millisecond, now)
	if resp := h.post(t, "/v1/chat/completions", "application/json", appKey, okBody); resp.StatusCode != 200 {
		t.Fatalf("before: %d", resp.StatusCode)
	}
	v.Stop()
	elapsed.Store(int64(time.Second)) // past TTL and stale window
	resp := h.post(t, "/v1/chat/completions", "application/json", appKey, okBody)
	if resp.StatusCode != 503 {
		t.Fatalf("status %d, want 503", resp.StatusCode)
	}
	if _, code := openAIError(t, resp); code != "key_unavailable" {
		t.Errorf("code %s, want key_unavailable", code)
	}
	if n := h.Sim.Requests(); n != 1 {
		t.Errorf("the simulator saw %d requests, want only the first", n)
	}
}
