package gateway

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/custos-gateway/custos/audit"
	"github.com/custos-gateway/custos/gateway/auth"
	"github.com/custos-gateway/custos/gateway/config"
	"github.com/custos-gateway/custos/gateway/keysource"
	"github.com/custos-gateway/custos/gateway/upstream"
	"github.com/custos-gateway/custos/residency"
)

// Wiring is what a server takes besides its configuration: the policy
// decider, the audit log, and optionally provider keys, the ledger, a
// price source (the decider's by default), a clock and a logger.
type Wiring struct {
	Decider Decider
	Audit   AuditLog
	Keys    KeySource
	Ledger  Ledger
	Prices  PriceSource
	// RateLimiter: the gateway's own when nil.
	RateLimiter RateLimiter
	Now         func() time.Time
	Logger      *slog.Logger
}

// NewFromConfig builds the keyring and endpoint catalog a validated config
// describes and returns the server they make with w.
func NewFromConfig(cfg *config.Config, w Wiring) (*Server, error) {
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
	for role, people := range map[string][]config.Auditor{auth.RoleAuditor: cfg.Auditors, auth.RoleFinance: cfg.Accounting.Finance} {
		for _, a := range people {
			for _, k := range a.Keys {
				h, err := auth.ParseHash(k.SHA256)
				if err != nil {
					return nil, fmt.Errorf("gateway: %s %s key %s: %w", role, a.ID, k.ID, err)
				}
				keys = append(keys, auth.Key{
					Caller:  auth.Caller{Role: role, App: a.ID, KeyID: k.ID},
					Hash:    h,
					Revoked: k.Revoked,
				})
			}
		}
	}
	keyring, err := auth.NewKeyring(keys)
	if err != nil {
		return nil, err
	}
	catalog, targets, err := endpoints(cfg)
	if err != nil {
		return nil, err
	}
	return New(Options{Config: cfg, Keyring: keyring, Catalog: catalog, Targets: targets, Decider: w.Decider,
		Audit: w.Audit, Keys: w.Keys, Ledger: w.Ledger, Prices: w.Prices, RateLimiter: w.RateLimiter, Now: w.Now, Logger: w.Logger})
}

// endpoints splits the configured endpoints into the routing catalog and
// the wire facts of each.
func endpoints(cfg *config.Config) (*residency.Catalog, []upstream.Target, error) {
	eps := make([]residency.Endpoint, 0, len(cfg.Endpoints))
	targets := make([]upstream.Target, 0, len(cfg.Endpoints))
	for _, e := range cfg.Endpoints {
		provider := e.Provider
		if provider == "" {
			provider = e.Kind
		}
		eps = append(eps, residency.Endpoint{
			Name: e.Name, Provider: provider, Region: e.Region, Jurisdiction: e.Jurisdiction, Attributes: e.Attributes,
			Aliases: e.Aliases, Models: e.Models, Priority: e.Priority, Weight: e.Weight,
		})
		targets = append(targets, upstream.Target{Name: e.Name, Kind: e.Kind, BaseURL: e.BaseURL,
			APIVersion: e.APIVersion, Deployments: e.Deployments, Keyless: e.Keyless})
	}
	catalog, err := residency.NewCatalog(eps)
	return catalog, targets, err
}

// NewLogger builds the structured logger a config asks for, writing to w,
// and the function that writes what it holds (call it before exiting;
// lines logged after it are written at once): lines below warning level
// are written in batches (log.flush_interval).
func NewLogger(cfg config.Log, w io.Writer) (*slog.Logger, func() error) {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.Level))
	opts := &slog.HandlerOptions{Level: level}
	flush := func() error { return nil }
	var buf *lineBuffer
	if d := cfg.FlushInterval.Std(); d > 0 {
		buf = newLineBuffer(w, d)
		w, flush = buf, buf.Close
	}
	var h slog.Handler
	switch {
	case cfg.Format == "text":
		h = slog.NewTextHandler(w, opts)
	case buf != nil:
		h = newJSONLog(w, level) // the buffer takes concurrent writes
	default:
		h = newJSONLog(&lockedWriter{w: w}, level)
	}
	if buf != nil {
		h = flushAtWarn{h, buf}
	}
	return slog.New(h), flush
}

// VaultOptions turns the vault: section into key source options.
func VaultOptions(cfg *config.Config, log *slog.Logger) keysource.Options {
	v := cfg.Vault
	opts := keysource.Options{
		Address: v.Address, CACert: v.CAFile,
		AuthMethod: v.Auth.Method, TokenFile: v.Auth.TokenFile, RoleIDFile: v.Auth.RoleIDFile,
		SecretIDFile: v.Auth.SecretIDFile, AuthMount: v.Auth.Mount, K8sRole: v.Auth.KubernetesRole, JWTFile: v.Auth.JWTFile,
		TTL: v.CacheTTL.Std(), Logger: log,
	}
	if v.StaleWindow != nil {
		opts.StaleWindow = v.StaleWindow.Std()
		opts.NoStale = *v.StaleWindow == 0
	}
	return opts
}

// NewAuditSigner returns the checkpoint signer the config names: a key file,
// or a Vault Transit key. The close function releases what it opened.
func NewAuditSigner(ctx context.Context, cfg *config.Config, log *slog.Logger) (audit.Signer, func(), error) {
	signer, _, closer, err := auditVault(ctx, cfg, log)
	return signer, closer, err
}

// auditVault returns the checkpoint signer and the anchors the config
// names (a Vault Transit key, a Vault KV anchor), with one Vault login for
// both; the close function releases it.
func auditVault(ctx context.Context, cfg *config.Config, log *slog.Logger) (audit.Signer, []audit.Anchor, func(), error) {
	a := cfg.Audit
	if a.VaultTransitKey == "" && a.VaultAnchor == nil {
		s, err := audit.LoadSigner(a.SigningKeyFile)
		return s, nil, func() {}, err
	}
	src, err := keysource.New(ctx, VaultOptions(cfg, log), nil)
	if err != nil {
		return nil, nil, nil, err
	}
	var signer audit.Signer
	if a.VaultTransitKey != "" {
		signer, err = src.TransitSigner(ctx, a.VaultTransitMount, a.VaultTransitKey)
	} else {
		signer, err = audit.LoadSigner(a.SigningKeyFile)
	}
	if err != nil {
		src.Close()
		return nil, nil, nil, err
	}
	var anchors []audit.Anchor
	if v := a.VaultAnchor; v != nil {
		anchors = append(anchors, src.KVAnchor(v.Mount, v.Path))
	}
	return signer, anchors, src.Close, nil
}

// NewKeySource logs in to Vault and reads the key of every endpoint that
// takes one; it returns nil when no endpoint does. It fails, naming the
// endpoint and Vault path, if any key cannot be read.
func NewKeySource(ctx context.Context, cfg *config.Config, log *slog.Logger) (*keysource.Source, error) {
	refs := map[string]keysource.Ref{}
	for _, e := range cfg.Endpoints {
		if e.Key != nil && !e.Keyless {
			refs[e.Name] = keysource.Ref{Mount: e.Key.Mount, Path: e.Key.Path, Field: e.Key.Field}
		}
	}
	if len(refs) == 0 {
		return nil, nil
	}
	return keysource.New(ctx, VaultOptions(cfg, log), refs)
}
