package gateway_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/custos-gateway/custos/gateway/config"
	"github.com/custos-gateway/custos/policies"
	"github.com/custos-gateway/custos/policy"
)

// switchableKeys serves one key until it is told the keys are gone.
type switchableKeys struct{ gone atomic.Bool }

var errKeysGone = errors.New("test: keys gone")

func (k *switchableKeys) Key(context.Context, string) (string, error) {
	if k.gone.Load() {
		return "", errKeysGone
	}
	return "sk-test", nil
}

func (k *switchableKeys) Refresh(ctx context.Context, ep string) (string, error) {
	return k.Key(ctx, ep)
}

func (k *switchableKeys) Ready() error {
	if k.gone.Load() {
		return errKeysGone
	}
	return nil
}

func readyz(t *testing.T, h *harness) (int, map[string]string) {
	t.Helper()
	resp, err := http.Get(strings.TrimSuffix(h.URL, "/v1") + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Status string            `json:"status"`
		Checks map[string]string `json:"checks"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, body.Checks
}

// Ready means the policy is loaded, the audit log writable and every key
// servable; keys past their stale window make the gateway not ready, and
// ready again when they return.
func TestReadinessFollowsKeys(t *testing.T) {
	keys := &switchableKeys{}
	h := startGatewayKeys(t, func(c *config.Config) {
		c.Endpoints[0].Keyless = false
		c.Endpoints[0].Key = &config.KeyRef{Mount: "secret", Path: "custos/x", Field: "api_key"}
		c.Vault.Address = "https://vault.invalid:8200"
	}, policy.FromFS(policies.FS, "policies"), t.TempDir(), keys)
	if status, checks := readyz(t, h); status != 200 || checks["policy"] != "ok" || checks["audit"] != "ok" || checks["keys"] != "ok" {
		t.Fatalf("ready: %d %v", status, checks)
	}
	keys.gone.Store(true)
	if status, checks := readyz(t, h); status != 503 || checks["keys"] != "unavailable" || checks["policy"] != "ok" {
		t.Errorf("keys gone: %d %v", status, checks)
	}
	keys.gone.Store(false)
	if status, _ := readyz(t, h); status != 200 {
		t.Errorf("keys back: %d", status)
	}
}
