package config

// Dev names the built-in development set-up.
const (
	DevTenant  = "dev"
	DevApp     = "dev"
	DevPurpose = "development"
	DevKeyID   = "dev"
)

// Dev returns the embedded default configuration of `custos serve --dev`:
// one tenant and app whose single key has hash devKeyHash, and the built-in
// echo provider in region "local". It needs no file, no Vault and no network.
func Dev(listen, devKeyHash string) *Config {
	c := Defaults()
	c.Listen = listen
	c.Log.Format = "text"
	c.Tenants = []Tenant{{
		ID: DevTenant,
		Apps: []App{{
			ID:      DevApp,
			Purpose: DevPurpose,
			Keys:    []AppKey{{ID: DevKeyID, SHA256: devKeyHash}},
		}},
	}}
	c.Endpoints = []Endpoint{{
		Name:     "echo",
		Kind:     KindEcho,
		Provider: "custos-echo",
		Region:   "local",
		Models:   []string{"echo"},
		Keyless:  true,
	}}
	return c
}
