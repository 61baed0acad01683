package config

import "github.com/custos-gateway/custos/gateway/upstream"

// DevCredit is the dev tenant's starting credit: 10 USD in micro-units.
const DevCredit = 10_000_000

// Dev names the built-in development set-up.
const (
	DevTenant  = "dev"
	DevApp     = "dev"
	DevPurpose = "development"
	DevKeyID   = "dev"
)

// Dev returns the embedded default configuration of `custos serve --dev`:
// one tenant and app whose single key has hash devKeyHash, the built-in echo
// provider in region "local", and the audit log at auditPath. It needs no
// config file, no Vault and no network.
func Dev(listen, devKeyHash, auditPath, signingKeyFile string) *Config {
	c := Defaults()
	c.Dev = true
	c.Listen = listen
	c.Audit.Path = auditPath
	c.Audit.SigningKeyFile = signingKeyFile
	c.Log.Format = "text"
	c.Accounting.DevCredit = DevCredit
	c.Tenants = []Tenant{{
		ID:      DevTenant,
		Billing: "prepaid",
		Apps: []App{{
			ID:      DevApp,
			Purpose: DevPurpose,
			Keys:    []AppKey{{ID: DevKeyID, SHA256: devKeyHash}},
		}},
	}}
	c.Endpoints = []Endpoint{{
		Name:     "echo",
		Kind:     upstream.KindEcho,
		Provider: "custos-echo",
		Region:   "local",
		Models:   []string{"echo"},
		Keyless:  true,
	}}
	return c
}
