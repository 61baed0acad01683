package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/custos-gateway/custos/gateway/auth"
	"github.com/custos-gateway/custos/gateway/keysource/vaulttest"
	"github.com/custos-gateway/custos/gateway/providertest"
)

const vaultProviderKey = "sk-E2E-CANARY-4411-a9c3"

func writeVaultConfig(t *testing.T, dir, vaultAddr, simURL, path string) (cfgPath, appKey string) {
	t.Helper()
	appKey, hash, _, _ := auth.NewKey()
	tokenFile := filepath.Join(dir, "vault-token")
	os.WriteFile(tokenFile, []byte(vaulttest.RootToken), 0o600)
	bin := buildCustos(t)
	if out, err := exec.Command(bin, "audit", "keygen", "--out", filepath.Join(dir, "audit.pem")).CombinedOutput(); err != nil {
		t.Fatalf("keygen: %v %s", err, out)
	}
	cfg := fmt.Sprintf(`listen: 127.0.0.1:0
audit: {path: %s, signing_key_file: %s, checkpoint_file: %[2]s.checkpoints}
vault:
  address: %s
  auth: {method: token, token_file: %s}
tenants:
  - id: st-marys
    apps:
      - id: clinical-assistant
        purpose: treatment
        keys: [{id: k1, sha256: %s}]
endpoints:
  - name: azure-openai-eu
    kind: openai
    provider: azure
    base_url: %s
    region: eu-west
    models: [gpt-4o-mini]
    key: {mount: secret, path: %s, field: api_key}
`, filepath.Join(dir, "audit.db"), filepath.Join(dir, "audit.pem"), vaultAddr, tokenFile, hash, simURL, path)
	cfgPath = filepath.Join(dir, "custos.yaml")
	os.WriteFile(cfgPath, []byte(cfg), 0o600)
	return cfgPath, appKey
}

// An end-to-end request through `custos serve --config`: the provider
// simulator receives exactly the key stored in Vault.
func TestServeUsesTheKeyStoredInVault(t *testing.T) {
	v := vaulttest.Start(t)
	v.PutKV("secret", "custos/azure-eu", map[string]any{"api_key": vaultProviderKey})
	sim := providertest.NewOpenAI(t)
	sim.RequireKey(vaultProviderKey)
	dir := t.TempDir()
	cfg, appKey := writeVaultConfig(t, dir, v.Addr, sim.URL, "custos/azure-eu")

	srv := startServe(t, dir, nil, "serve", "--config", cfg)
	addr, cmd, stderr := srv.addr, srv.cmd, srv.stderr
	req, _ := http.NewRequest(http.MethodPost, addr+"/v1/chat/completions",
		strings.NewReader(`{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+appKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s\nstderr:\n%s", resp.StatusCode, body, stderr.String())
	}
	got := sim.Received()
	if len(got) != 1 || got[0].Authorization != "Bearer "+vaultProviderKey {
		t.Fatalf("the provider did not receive the Vault key")
	}
	cmd.Process.Signal(syscall.SIGTERM)
	<-srv.exited
	if !cmd.ProcessState.Success() {
		t.Fatalf("shutdown: %v", cmd.ProcessState)
	}
	raw, _ := os.ReadFile(filepath.Join(dir, "audit.db"))
	for where, data := range map[string]string{"logs": stderr.String(), "answer": string(body), "audit file": string(raw)} {
		if strings.Contains(data, vaultProviderKey) {
			t.Errorf("the provider key reached the %s", where)
		}
	}
}

// Without every key it needs, the gateway refuses to start, naming the path.
func TestServeRefusesToStartWithoutItsKey(t *testing.T) {
	bin := buildCustos(t)
	v := vaulttest.Start(t)
	sim := providertest.NewOpenAI(t)
	cfg, _ := writeVaultConfig(t, t.TempDir(), v.Addr, sim.URL, "custos/missing")
	out, err := exec.Command(bin, "serve", "--config", cfg).CombinedOutput()
	if err == nil {
		t.Fatal("serve started without its provider key")
	}
	if !strings.Contains(string(out), "azure-openai-eu") || !strings.Contains(string(out), "secret/custos/missing#api_key") {
		t.Errorf("start-up error does not name the endpoint and path:\n%s", out)
	}
}
