package config_test

import (
	"strings"
	"testing"
	"time"

	"github.com/custos-gateway/custos/gateway/config"
	"github.com/custos-gateway/custos/gateway/upstream"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestLoadFullFile(t *testing.T) {
	cfg, err := config.Load("testdata/full.yaml", env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Listen != "0.0.0.0:8443" || !cfg.TLS.Enabled() || cfg.Limits.MaxBodyBytes != 2<<20 {
		t.Errorf("file values not applied: %+v", cfg)
	}
	if got := cfg.Upstream.ResponseHeaderTimeout.Std(); got != 2*time.Minute {
		t.Errorf("response_header_timeout = %v, want 2m", got)
	}
	// Defaults survive where the file is silent.
	if cfg.Limits.MaxResponseBytes != config.Defaults().Limits.MaxResponseBytes || cfg.Upstream.IdleConnTimeout.Std() != 90*time.Second {
		t.Errorf("defaults lost: %+v", cfg.Upstream)
	}
	if len(cfg.Tenants[0].Apps) != 2 || !cfg.Tenants[0].Apps[1].Keys[0].Revoked {
		t.Errorf("tenants not read: %+v", cfg.Tenants)
	}
}

func TestEnvOverridesFile(t *testing.T) {
	cfg, err := config.Load("testdata/full.yaml", env(map[string]string{
		"CUSTOS_LISTEN": "127.0.0.1:9999", "CUSTOS_LOG_LEVEL": "debug", "CUSTOS_MAX_BODY_BYTES": "1024",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Listen != "127.0.0.1:9999" || cfg.Log.Level != "debug" || cfg.Limits.MaxBodyBytes != 1024 {
		t.Errorf("env not applied: listen=%s level=%s body=%d", cfg.Listen, cfg.Log.Level, cfg.Limits.MaxBodyBytes)
	}
	if _, err := config.Load("testdata/full.yaml", env(map[string]string{"CUSTOS_MAX_BODY_BYTES": "lots"})); err == nil ||
		!strings.Contains(err.Error(), "CUSTOS_MAX_BODY_BYTES") {
		t.Errorf("bad env value: err = %v", err)
	}
}

const validBase = `
audit: {path: /var/lib/custos/audit.db, signing_key_file: /etc/custos/audit.pem, checkpoint_file: /var/lib/custos/checkpoints.jsonl}
tenants:
  - id: t1
    apps:
      - id: a1
        purpose: treatment
endpoints:
  - name: e1
    kind: openai
    base_url: https://api.example.test/v1
    region: eu-west
    models: [m1]
    keyless: true
`

func TestValidationNamesTheField(t *testing.T) {
	cases := []struct {
		name, yaml, want string
	}{
		{"unknown top-level field", validBase + "listne: 1.2.3.4:80\n", "field listne not found"},
		{"bad listen", validBase + "listen: nowhere\n", "listen: \"nowhere\" is not host:port"},
		{"half TLS", validBase + "tls: {cert_file: a.crt}\n", "tls: cert_file and key_file"},
		{"bad duration", validBase + "upstream: {connect_timeout: soon}\n", `"soon" is not a duration`},
		{"zero body limit", validBase + "limits: {max_body_bytes: 0}\n", "limits.max_body_bytes: must be positive"},
		{"bad log level", validBase + "log: {level: loud}\n", "log.level"},
		{"log flush interval too long", validBase + "log: {flush_interval: 1m}\n", "log.flush_interval: 1m0s is not between 0 and 10s"},
		{"no tenants", "endpoints: [{name: e1, kind: openai, base_url: 'https://x.test', region: eu-r, models: [m], keyless: true}]\n", "tenants: at least one tenant"},
		{"no key, not keyless", strings.Replace(validBase, "keyless: true", "priority: 1", 1), "endpoints[0].key: is required"},
		{"key without vault", strings.Replace(validBase, "keyless: true", "key: {mount: secret, path: custos/openai, field: api_key}", 1), "no vault: section is configured"},
		{"key and keyless", strings.Replace(validBase, "keyless: true", "keyless: true\n    key: {mount: secret, path: p, field: f}", 1), "either keyless or has a key"},
		{"approle without files", validBase + "vault: {address: 'https://vault.test:8200', auth: {method: approle}}\n", "vault.auth: approle needs role_id_file"},
		{"bad kind", strings.Replace(validBase, "kind: openai", "kind: carrier-pigeon", 1), "endpoints[0].kind: \"carrier-pigeon\" is not one of"},
		{"bad url", strings.Replace(validBase, "https://api.example.test/v1", "ftp://x", 1), "endpoints[0].base_url"},
		{"credentials in url", strings.Replace(validBase, "https://api.example.test/v1", "https://user:sk-secret@api.example.test/v1", 1), "must not carry credentials"},
		{"missing region", strings.Replace(validBase, "region: eu-west", "region: ''", 1), "endpoints[0].region: is required"},
		{"missing purpose", strings.Replace(validBase, "purpose: treatment", "purpose: ''", 1), "tenants[0].apps[0].purpose: is required"},
		{"bad tenant id", strings.Replace(validBase, "id: t1", "id: 'St Marys'", 1), "tenants[0].id"},
		{"bad key hash", strings.Replace(validBase, "purpose: treatment", "purpose: treatment\n        keys: [{id: k1, sha256: abc}]", 1), "tenants[0].apps[0].keys[0].sha256: must be 64 hex digits"},
		{"no models", strings.Replace(validBase, "models: [m1]", "models: []", 1), "endpoints[0].models"},
		{"no audit log", strings.Replace(validBase, "path: /var/lib/custos/audit.db, ", "", 1), "audit.path: is required"},
		{"no signing key", strings.Replace(validBase, ", signing_key_file: /etc/custos/audit.pem", "", 1), "audit.signing_key_file: is required"},
		{"unknown region", strings.Replace(validBase, "region: eu-west", "region: mars-1", 1), "endpoints[0].jurisdiction"},
		{"auditor key reused from an app", strings.Replace(validBase, "purpose: treatment", "purpose: treatment\n        keys: [{id: k1, sha256: "+strings.Repeat("ab", 32)+"}]", 1) +
			"auditors: [{id: ext-auditor, keys: [{id: k2, sha256: " + strings.Repeat("ab", 32) + "}]}]\n", "auditors[0].keys[0].sha256: same key hash already used at tenants[0].apps[0].keys[0]"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := config.Parse(strings.NewReader(tc.yaml), "test.yaml", env(nil))
			if err == nil {
				t.Fatalf("config accepted; want error containing %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %v\nwant it to contain %q", err, tc.want)
			}
		})
	}
	if _, err := config.Parse(strings.NewReader(validBase), "test.yaml", env(nil)); err != nil {
		t.Fatalf("base config rejected: %v", err)
	}
}

func TestValidationReportsEveryProblem(t *testing.T) {
	bad := strings.Replace(strings.Replace(validBase, "region: eu-west", "region: ''", 1), "purpose: treatment", "purpose: ''", 1)
	_, err := config.Parse(strings.NewReader(bad), "test.yaml", env(nil))
	if err == nil || !strings.Contains(err.Error(), "region") || !strings.Contains(err.Error(), "purpose") {
		t.Errorf("want both problems reported, got %v", err)
	}
}

func TestDevConfigIsValid(t *testing.T) {
	c := config.Dev("127.0.0.1:8080", strings.Repeat("ab", 32), "custos-dev/audit.db", "custos-dev/audit-signing.pem")
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.Endpoints[0].Kind != upstream.KindEcho || c.Endpoints[0].Region != "local" || c.Endpoints[0].Models[0] != "echo" {
		t.Errorf("dev endpoint = %+v", c.Endpoints[0])
	}
}

// The Vault client library turns TLS verification off for VAULT_SKIP_VERIFY;
// Custos refuses to start instead.
func TestVaultSkipVerifyIsRefused(t *testing.T) {
	for _, tc := range []struct {
		value string
		ok    bool
	}{{"true", false}, {"1", false}, {"TRUE", false}, {"maybe", false}, {"false", true}, {"0", true}, {"", true}} {
		_, err := config.Load("testdata/full.yaml", env(map[string]string{"VAULT_SKIP_VERIFY": tc.value}))
		if (err == nil) != tc.ok {
			t.Errorf("VAULT_SKIP_VERIFY=%q: err = %v, want ok=%v", tc.value, err, tc.ok)
		}
		if err != nil && !strings.Contains(err.Error(), "VAULT_SKIP_VERIFY") {
			t.Errorf("VAULT_SKIP_VERIFY=%q: error does not name the variable: %v", tc.value, err)
		}
	}
}
