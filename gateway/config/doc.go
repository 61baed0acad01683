// Package config owns Custos's start-up configuration: its defaults, the YAML
// file, the CUSTOS_* environment overrides (applied in that order) and the
// validation that runs once before the server starts. A *Config is read-only
// after Load returns.
//
// It must never hold a secret: provider keys are named by their Vault location,
// app keys only by their SHA-256 hash.
package config
