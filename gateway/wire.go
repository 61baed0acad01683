package gateway

import (
	"fmt"
	"log/slog"

	"github.com/custos-gateway/custos/gateway/auth"
	"github.com/custos-gateway/custos/gateway/config"
	"github.com/custos-gateway/custos/residency"
)

// NewFromConfig builds the keyring and endpoint catalog a validated config
// describes and returns the server they make with the given policy decider
// and audit log.
func NewFromConfig(cfg *config.Config, decider Decider, auditLog AuditLog, log *slog.Logger) (*Server, error) {
	var keys []auth.Key
	for _, t := range cfg.Tenants {
		for _, a := range t.Apps {
			for _, k := range a.Keys {
				h, err := auth.ParseHash(k.SHA256)
				if err != nil {
					return nil, fmt.Errorf("gateway: tenant %s app %s key %s: %w", t.ID, a.ID, k.ID, err)
				}
				keys = append(keys, auth.Key{
					Caller:  auth.Caller{Role: auth.RoleApp, Tenant: t.ID, App: a.ID, Purpose: a.Purpose, KeyID: k.ID},
					Hash:    h,
					Revoked: k.Revoked,
				})
			}
		}
	}
	for _, a := range cfg.Auditors {
		for _, k := range a.Keys {
			h, err := auth.ParseHash(k.SHA256)
			if err != nil {
				return nil, fmt.Errorf("gateway: auditor %s key %s: %w", a.ID, k.ID, err)
			}
			keys = append(keys, auth.Key{
				Caller:  auth.Caller{Role: auth.RoleAuditor, App: a.ID, KeyID: k.ID},
				Hash:    h,
				Revoked: k.Revoked,
			})
		}
	}
	keyring, err := auth.NewKeyring(keys)
	if err != nil {
		return nil, err
	}
	eps := make([]residency.Endpoint, 0, len(cfg.Endpoints))
	for _, e := range cfg.Endpoints {
		provider := e.Provider
		if provider == "" {
			provider = e.Kind
		}
		eps = append(eps, residency.Endpoint{
			Name: e.Name, Provider: provider, Kind: e.Kind, BaseURL: e.BaseURL, Region: e.Region,
			Jurisdiction: e.Jurisdiction, Attributes: e.Attributes,
			Models: e.Models, Priority: e.Priority, Keyless: e.Keyless || e.Kind == config.KindEcho,
		})
	}
	catalog, err := residency.NewCatalog(eps)
	if err != nil {
		return nil, err
	}
	return New(Options{Config: cfg, Keyring: keyring, Catalog: catalog, Decider: decider, Audit: auditLog, Logger: log})
}

// NewLogger builds the structured logger a config asks for, writing to w.
func NewLogger(cfg config.Log, w interface{ Write([]byte) (int, error) }) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.Level))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.Format == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}
