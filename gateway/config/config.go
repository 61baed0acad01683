package config

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/custos-gateway/custos/gateway/upstream"
	"github.com/custos-gateway/custos/residency"
)

// Config is the whole start-up configuration.
type Config struct {
	// Dev marks the embedded development default (custos serve --dev): the
	// few production requirements it cannot meet are waived, and said so.
	Dev    bool   `yaml:"-"`
	Listen string `yaml:"listen"`
	TLS    TLS    `yaml:"tls"`
	Limits Limits `yaml:"limits"`
	// Inspection tunes the personal-data scan.
	Inspection Inspection `yaml:"inspection"`
	Upstream   Upstream   `yaml:"upstream"`
	Log        Log        `yaml:"log"`
	Policy     Policy     `yaml:"policy"`
	Audit      Audit      `yaml:"audit"`
	Vault      Vault      `yaml:"vault"`
	Routing    Routing    `yaml:"routing"`
	CORS       CORS       `yaml:"cors"`
	Server     Server     `yaml:"server"`
	Metrics    Metrics    `yaml:"metrics"`
	// Accounting configures the ledger, budgets and who may top up credit.
	Accounting Accounting `yaml:"accounting"`
	Tracing    Tracing    `yaml:"tracing"`
	Tenants    []Tenant   `yaml:"tenants"`
	Auditors   []Auditor  `yaml:"auditors"`
	Endpoints  []Endpoint `yaml:"endpoints"`
}

// TLS names the server certificate and key files; both empty serves plain HTTP.
type TLS struct {
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
}

// Enabled reports whether the server terminates TLS itself.
func (t TLS) Enabled() bool { return t.CertFile != "" }

// Limits bound what one request may cost the gateway.
type Limits struct {
	// MaxBodyBytes caps an inbound request body.
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
	// MaxResponseBytes caps a non-streamed upstream answer held in memory.
	MaxResponseBytes int64 `yaml:"max_response_bytes"`
	// MaxJSONDepth and MaxJSONValues bound a request body's nesting and
	// number of JSON values, so that parsing memory stays a small multiple
	// of the body.
	MaxJSONDepth  int `yaml:"max_json_depth"`
	MaxJSONValues int `yaml:"max_json_values"`
	// MaxFindings bounds the personal-data findings of one request: a
	// request holding more is refused (413 too_many_findings) as soon as
	// the scan passes the bound, which keeps the scan's memory a small
	// multiple of the body however dense the identifiers are.
	MaxFindings int `yaml:"max_findings"`
}

// Inspection tunes the personal-data scan of every request.
type Inspection struct {
	// CacheEntries is how many texts' findings (types and offsets, under a
	// keyed hash: never the text) are kept so that a text an app sends
	// again (its system prompt, earlier turns, tool definitions) is not
	// scanned again; kept apart per tenant and app. 0 turns it off.
	CacheEntries int `yaml:"cache_entries"`
}

// Upstream tunes the pooled HTTP transport used to reach providers.
type Upstream struct {
	ConnectTimeout        Duration `yaml:"connect_timeout"`
	TLSHandshakeTimeout   Duration `yaml:"tls_handshake_timeout"`
	ResponseHeaderTimeout Duration `yaml:"response_header_timeout"`
	IdleConnTimeout       Duration `yaml:"idle_conn_timeout"`
	MaxIdleConnsPerHost   int      `yaml:"max_idle_conns_per_host"`
}

// Options returns the transport settings for the upstream client.
func (u Upstream) Options() upstream.Options {
	return upstream.Options{
		ConnectTimeout: u.ConnectTimeout.Std(), TLSHandshakeTimeout: u.TLSHandshakeTimeout.Std(),
		ResponseHeaderTimeout: u.ResponseHeaderTimeout.Std(), IdleConnTimeout: u.IdleConnTimeout.Std(),
		MaxIdleConnsPerHost: u.MaxIdleConnsPerHost,
	}
}

// Log selects the structured log level and format.
type Log struct {
	Level  string `yaml:"level"`  // debug, info, warn, error
	Format string `yaml:"format"` // json or text
	// FlushInterval: lines below warning level are written in batches, at
	// most this long after the first one waiting (default 100ms; 0 writes
	// each line at once). Warnings and errors are written at once.
	FlushInterval Duration `yaml:"flush_interval"`
}

// Policy selects the policy set and bounds its evaluation.
type Policy struct {
	// Dir serves a policy directory, hot-reloaded on change; empty serves the
	// policies embedded in the binary.
	Dir     string   `yaml:"dir"`
	Timeout Duration `yaml:"timeout"`
	// Watch reloads Dir on every change (default true); SIGHUP always reloads.
	Watch *bool `yaml:"watch"`
}

// Watching reports whether a policy directory is watched for changes.
func (p Policy) Watching() bool { return p.Dir != "" && (p.Watch == nil || *p.Watch) }

// Audit configures the tamper-evident audit log.
type Audit struct {
	// Path is the bbolt log file. Required.
	Path string `yaml:"path"`
	// SigningKeyFile is the Ed25519 PEM key that signs checkpoints; or
	// VaultTransitKey names an ed25519 key in Vault's Transit engine
	// (mount VaultTransitMount, default "transit"), which never leaves Vault.
	SigningKeyFile     string   `yaml:"signing_key_file"`
	VaultTransitKey    string   `yaml:"vault_transit_key"`
	VaultTransitMount  string   `yaml:"vault_transit_mount"`
	CheckpointEvery    int      `yaml:"checkpoint_every"`
	CheckpointInterval Duration `yaml:"checkpoint_interval"`
	// CheckpointFile also receives every checkpoint, for shipping elsewhere.
	CheckpointFile string `yaml:"checkpoint_file"`
	// Instance names this gateway in records (default: the host name).
	Instance string `yaml:"instance"`
	// RecordClientIP stores the caller's IP address in records (off by default).
	RecordClientIP bool `yaml:"record_client_ip"`
	// RotateMonthly starts a new file (<path>-YYYY-MM) each UTC month; the
	// chain continues across files.
	RotateMonthly bool `yaml:"rotate_monthly"`
	// Durability: group (default) makes an intent durable before anything
	// is forwarded and an outcome in the next group commit (at most
	// FlushInterval later); strict makes every record durable before its
	// append returns (two fsyncs a request).
	Durability    string   `yaml:"durability"`
	FlushInterval Duration `yaml:"flush_interval"` // default 100ms
	// MinFreeBytes: below this much free space on the log's filesystem,
	// new work is refused (503 audit_disk_low) before the log fills
	// (default 64 MiB; 0 turns the check off).
	MinFreeBytes *int64 `yaml:"min_free_bytes"`
	// VaultAnchor also writes every signed chain head to a Vault KV v2
	// path, whose versions the file's owner cannot rewrite.
	VaultAnchor *VaultPath `yaml:"vault_anchor"`
}

// VaultPath names a Vault KV v2 secret.
type VaultPath struct {
	Mount string `yaml:"mount"`
	Path  string `yaml:"path"`
}

// DefaultMinFreeBytes is audit.min_free_bytes when not set.
const DefaultMinFreeBytes = 64 << 20

// FreeBytesFloor returns audit.min_free_bytes, or its default.
func (a Audit) FreeBytesFloor() int64 {
	if a.MinFreeBytes == nil {
		return DefaultMinFreeBytes
	}
	return *a.MinFreeBytes
}

// Server bounds what clients may hold of the gateway: time to send a
// request, connections, and requests in flight.
type Server struct {
	// ReadHeaderTimeout bounds reading a request's headers (default 10s);
	// ReadTimeout the whole request, body included (default 30s);
	// IdleTimeout a kept-alive connection between requests (default 2m).
	ReadHeaderTimeout Duration `yaml:"read_header_timeout"`
	ReadTimeout       Duration `yaml:"read_timeout"`
	IdleTimeout       Duration `yaml:"idle_timeout"`
	// MaxConnections bounds open connections (default 8192), and
	// MaxConnectionsPerClient those from one client address (default 512);
	// a connection over either is closed at once.
	MaxConnections          int `yaml:"max_connections"`
	MaxConnectionsPerClient int `yaml:"max_connections_per_client"`
	// MaxInFlight bounds model requests being served at once (default
	// 1024); beyond it a request is refused at once with 503 overloaded.
	MaxInFlight int `yaml:"max_in_flight"`
	// DrainDelay is how long a stopping gateway keeps serving, not ready,
	// before it stops accepting connections (default 0s): time for a load
	// balancer to see /readyz fail and send new requests elsewhere.
	DrainDelay Duration `yaml:"drain_delay"`
	// MaxFailedAuthPerMinute bounds the authentication failures one client
	// address may cause per minute (default 120); beyond it, its requests
	// are refused with 429 before any key is checked.
	MaxFailedAuthPerMinute int `yaml:"max_failed_auth_per_minute"`
	// MemoryLimit is the Go runtime's soft memory limit in bytes: near it
	// the garbage collector runs more often instead of letting the heap
	// grow to twice what is live. 0 (the default) takes 90% of the
	// container's memory limit when the process runs under one (cgroup),
	// none otherwise; -1 sets none. GOMEMLIMIT, when set, wins.
	MemoryLimit int64 `yaml:"memory_limit"`
}

// Accounting configures money: the ledger, budgets, and the finance team.
type Accounting struct {
	// Ledger is "bbolt" (default: the journal rides in the audit log) or
	// "postgres" (shared by several replicas).
	Ledger string `yaml:"ledger"`
	// HoldTTL is how long a reservation may stay open (default 15m); one
	// left by a crash is released after it.
	HoldTTL  Duration `yaml:"hold_ttl"`
	Budgets  []Budget `yaml:"budgets"`
	Postgres Postgres `yaml:"postgres"`
	// Finance names the people or systems that may top up credit, with
	// keys of their own (they cannot call models).
	Finance []Auditor `yaml:"finance"`
	// Replicas is how many gateways share the PostgreSQL ledger and rate
	// limits (default 1): each leases at most 1/(16·replicas) of a key's
	// per-minute limit at a time, and uses 1/replicas of it alone while
	// PostgreSQL is unreachable.
	Replicas int `yaml:"replicas"`
	// DevCredit is the credit, in micro-units, the dev tenant starts with
	// under custos serve --dev.
	DevCredit int64 `yaml:"-"`
}

// Budget caps spend or tokens over a UTC calendar period, for a tenant, an
// app or a key.
type Budget struct {
	Tenant    string `yaml:"tenant"`
	App       string `yaml:"app"`    // with tenant: the app's budget
	Key       string `yaml:"key_id"` // a key's budget (its id)
	Period    string `yaml:"period"` // day or month (UTC)
	MaxMicros int64  `yaml:"max_micros"`
	MaxTokens int64  `yaml:"max_tokens"`
	Currency  string `yaml:"currency"`
}

// Postgres is the shared ledger's database; its password comes from Vault.
type Postgres struct {
	DSN      string  `yaml:"dsn"` // without a password
	Password *KeyRef `yaml:"password"`
	// MaxConns bounds the pool (default 8: a small pool is faster on a hot
	// account); Timeout bounds each ledger call, connecting included
	// (default 2s).
	MaxConns int      `yaml:"max_conns"`
	Timeout  Duration `yaml:"timeout"`
}

// Metrics configures the Prometheus endpoint (on by default).
type Metrics struct {
	Enabled *bool `yaml:"enabled"` // default true
	// Listen serves metrics on a listener of their own (host:port);
	// empty serves them on the main listener at Path.
	Listen string `yaml:"listen"`
	Path   string `yaml:"path"` // default /metrics
	// BearerTokenFile, when set, guards the endpoint: scrapers send
	// "Authorization: Bearer <the file's content>".
	BearerTokenFile string `yaml:"bearer_token_file"`
}

// On reports whether metrics are served.
func (m Metrics) On() bool { return m.Enabled == nil || *m.Enabled }

// Tracing configures OpenTelemetry traces (off unless an endpoint is set).
type Tracing struct {
	// OTLPEndpoint is the collector's address: host:port for grpc, or a
	// URL (http://collector:4318) for http.
	OTLPEndpoint string `yaml:"otlp_endpoint"`
	Protocol     string `yaml:"protocol"` // http (default) or grpc
	Insecure     bool   `yaml:"insecure"` // plain text to the collector (no TLS)
	// SampleRatio is the share of requests traced (default 1).
	SampleRatio *float64 `yaml:"sample_ratio"`
	// Propagate sends W3C traceparent to providers (off by default: a
	// trace id tells a provider which requests belong together).
	Propagate bool `yaml:"propagate"`
	// ServiceName names this gateway in traces (default custos).
	ServiceName string `yaml:"service_name"`
}

// CORS lets browser apps on the listed origins call Custos. Off (no origin
// listed) by default.
type CORS struct {
	// AllowedOrigins are exact origins, scheme://host[:port], such as
	// https://clinic.example.org.
	AllowedOrigins []string `yaml:"allowed_origins"`
	// MaxAge is how long a browser may cache a preflight (default 10m).
	MaxAge Duration `yaml:"max_age"`
}

// Routing bounds failover between compliant endpoints.
type Routing struct {
	// MaxAttempts bounds the endpoints tried for one request (default 3).
	MaxAttempts int `yaml:"max_attempts"`
	// FailoverBudget bounds the time spent on attempts before the first
	// byte of an answer (default 2m).
	FailoverBudget Duration `yaml:"failover_budget"`
	// BreakerFailures opens an endpoint's circuit after this many failures
	// in a row (default 5); BreakerCooldown keeps it open (default 30s).
	BreakerFailures int      `yaml:"breaker_failures"`
	BreakerCooldown Duration `yaml:"breaker_cooldown"`
}

// Vault configures the only production source of provider keys. Address,
// CA file and token also honour the standard VAULT_* environment variables.
type Vault struct {
	Address string    `yaml:"address"`
	CAFile  string    `yaml:"ca_file"`
	Auth    VaultAuth `yaml:"auth"`
	// CacheTTL is how long a key read from Vault is fresh (default 5m).
	CacheTTL Duration `yaml:"cache_ttl"`
	// StaleWindow is how long past its TTL a key may serve while Vault is
	// unreachable (default 15m); "0s" fails closed at the TTL.
	StaleWindow *Duration `yaml:"stale_window"`
}

// VaultAuth selects how Custos logs in to Vault.
type VaultAuth struct {
	Method         string `yaml:"method"` // token, approle, kubernetes
	TokenFile      string `yaml:"token_file"`
	RoleIDFile     string `yaml:"role_id_file"`
	SecretIDFile   string `yaml:"secret_id_file"`
	Mount          string `yaml:"mount"`
	KubernetesRole string `yaml:"kubernetes_role"`
	JWTFile        string `yaml:"jwt_file"`
}

// Configured reports whether a Vault key source is configured.
func (v Vault) Configured() bool { return v.Address != "" || v.Auth.Method != "" }

// KeyRef names a provider key in Vault's KV v2 engine.
type KeyRef struct {
	Mount string `yaml:"mount"`
	Path  string `yaml:"path"`
	Field string `yaml:"field"`
}

// Auditor is a person or system allowed to export the audit log, with keys
// of their own: auditor keys cannot call models, app keys cannot export.
type Auditor struct {
	ID   string   `yaml:"id"`
	Keys []AppKey `yaml:"keys"`
}

// Tenant is one customer organisation.
type Tenant struct {
	ID   string `yaml:"id"`
	Apps []App  `yaml:"apps"`
	// Billing: "prepaid" (requests draw down a credit balance, refused with
	// 402 when it is spent), "postpaid" (invoiced monthly, capped by its
	// budgets), or "" (costed and recorded, not charged).
	Billing string `yaml:"billing"`
}

// App is one calling application of a tenant, with the purpose it processes
// data for and the hashes of the keys it may present.
type App struct {
	ID      string   `yaml:"id"`
	Purpose string   `yaml:"purpose"`
	Keys    []AppKey `yaml:"keys"`
	// RateLimit bounds each of the app's keys per minute.
	RateLimit *RateLimit `yaml:"rate_limit"`
}

// RateLimit is an allowance per minute; zero is no limit on that count.
type RateLimit struct {
	RequestsPerMinute int64 `yaml:"requests_per_minute"`
	TokensPerMinute   int64 `yaml:"tokens_per_minute"`
}

// AppKey is a Custos-issued key, known only by its SHA-256 hash.
type AppKey struct {
	ID      string `yaml:"id"`
	SHA256  string `yaml:"sha256"`
	Revoked bool   `yaml:"revoked"`
}

// Endpoint is one provider endpoint Custos may forward to.
type Endpoint struct {
	Name     string `yaml:"name"`
	Kind     string `yaml:"kind"`
	Provider string `yaml:"provider"`
	BaseURL  string `yaml:"base_url"`
	Region   string `yaml:"region"`
	// Jurisdiction overrides the one derived from the region (eu-west → eu).
	Jurisdiction string `yaml:"jurisdiction"`
	// Attributes are claims about the endpoint the policy may read, such as
	// baa or zero_data_retention.
	Attributes map[string]bool `yaml:"attributes"`
	Models     []string        `yaml:"models"`
	Priority   int             `yaml:"priority"`
	Weight     int             `yaml:"weight"`
	// Aliases map a model name callers use to the name this endpoint serves
	// it under; the policy must allow the served model too.
	Aliases map[string]string `yaml:"aliases"`
	// Azure OpenAI: the api-version query parameter, and the deployment
	// serving each model (default: a deployment named like the model).
	APIVersion  string            `yaml:"api_version"`
	Deployments map[string]string `yaml:"deployments"`
	// Key names the provider key in Vault; required unless Keyless.
	Key *KeyRef `yaml:"key"`
	// Keyless marks an endpoint that takes no provider key (a local model
	// server, the dev echo provider).
	Keyless bool `yaml:"keyless"`
}

// Defaults returns the configuration every file and environment override
// starts from.
func Defaults() *Config {
	return &Config{
		Listen: "127.0.0.1:8080",
		Limits: Limits{
			MaxBodyBytes:     10 << 20,
			MaxResponseBytes: 64 << 20,
			MaxJSONDepth:     64,
			MaxJSONValues:    100_000,
			MaxFindings:      50_000,
		},
		Inspection: Inspection{CacheEntries: 16384},
		Upstream: Upstream{
			ConnectTimeout:        Duration(5 * time.Second),
			TLSHandshakeTimeout:   Duration(5 * time.Second),
			ResponseHeaderTimeout: Duration(5 * time.Minute),
			IdleConnTimeout:       Duration(90 * time.Second),
			MaxIdleConnsPerHost:   64,
		},
		Log:    Log{Level: "info", Format: "json", FlushInterval: Duration(100 * time.Millisecond)},
		Policy: Policy{Timeout: Duration(50 * time.Millisecond)},
		Audit:  Audit{CheckpointEvery: 1000, CheckpointInterval: Duration(time.Minute)},
		Server: Server{ReadHeaderTimeout: Duration(10 * time.Second), ReadTimeout: Duration(30 * time.Second),
			IdleTimeout: Duration(2 * time.Minute), MaxConnections: 8192, MaxConnectionsPerClient: 512, MaxInFlight: 1024,
			MaxFailedAuthPerMinute: 120},
		Routing: Routing{MaxAttempts: 3, FailoverBudget: Duration(2 * time.Minute), BreakerFailures: 5,
			BreakerCooldown: Duration(30 * time.Second)},
	}
}

// Load reads the YAML file at path over the defaults, applies environment
// overrides from getenv (os.Getenv when nil) and validates the result.
func Load(path string, getenv func(string) string) (*Config, error) {
	cfg, err := Read(path, getenv)
	if err != nil {
		return nil, err
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	return cfg, nil
}

// Read is Load without the validation, for a caller that applies further
// overrides (command-line flags) and then validates once.
func Read(path string, getenv func(string) string) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	defer f.Close()
	return decode(f, path, getenv)
}

// Parse is Load for an already open reader; name is used in messages.
func Parse(r io.Reader, name string, getenv func(string) string) (*Config, error) {
	cfg, err := decode(r, name, getenv)
	if err != nil {
		return nil, err
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("config %s: %w", name, err)
	}
	return cfg, nil
}

// decode reads YAML over the defaults and applies environment overrides.
func decode(r io.Reader, name string, getenv func(string) string) (*Config, error) {
	cfg := Defaults()
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", name, err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(cfg); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("config %s: %w", name, err)
	}
	if err := cfg.ApplyEnv(getenv); err != nil {
		return nil, fmt.Errorf("config %s: %w", name, err)
	}
	return cfg, nil
}

// ApplyEnv overrides settings from CUSTOS_* environment variables.
func (c *Config) ApplyEnv(getenv func(string) string) error {
	if getenv == nil {
		getenv = os.Getenv
	}
	if v := getenv("VAULT_SKIP_VERIFY"); v != "" {
		if skip, err := strconv.ParseBool(v); err != nil || skip {
			return fmt.Errorf("VAULT_SKIP_VERIFY=%q: Custos always verifies Vault's TLS certificate; unset it, and give a private CA with vault.ca_file or VAULT_CACERT", v)
		}
	}
	if v := getenv("CUSTOS_LISTEN"); v != "" {
		c.Listen = v
	}
	if v := getenv("CUSTOS_TLS_CERT_FILE"); v != "" {
		c.TLS.CertFile = v
	}
	if v := getenv("CUSTOS_TLS_KEY_FILE"); v != "" {
		c.TLS.KeyFile = v
	}
	if v := getenv("CUSTOS_LOG_LEVEL"); v != "" {
		c.Log.Level = v
	}
	if v := getenv("CUSTOS_LOG_FORMAT"); v != "" {
		c.Log.Format = v
	}
	if v := getenv("CUSTOS_LOG_FLUSH_INTERVAL"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			return fmt.Errorf("CUSTOS_LOG_FLUSH_INTERVAL: %q is not a duration such as 100ms", v)
		}
		c.Log.FlushInterval = Duration(d)
	}
	if v := getenv("CUSTOS_POLICY_DIR"); v != "" {
		c.Policy.Dir = v
	}
	if v := getenv("CUSTOS_AUDIT_PATH"); v != "" {
		c.Audit.Path = v
	}
	if v := getenv("CUSTOS_AUDIT_DURABILITY"); v != "" {
		c.Audit.Durability = v
	}
	if v := getenv("CUSTOS_AUDIT_INSTANCE"); v != "" {
		c.Audit.Instance = v
	}
	if v := getenv("CUSTOS_POLICY_TIMEOUT"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			return fmt.Errorf("CUSTOS_POLICY_TIMEOUT: %q is not a duration such as 50ms", v)
		}
		c.Policy.Timeout = Duration(d)
	}
	if v := getenv("CUSTOS_POLICY_WATCH"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("CUSTOS_POLICY_WATCH: %q is not true or false", v)
		}
		c.Policy.Watch = &b
	}
	if v := getenv("CUSTOS_MAX_BODY_BYTES"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return fmt.Errorf("CUSTOS_MAX_BODY_BYTES: %q is not a whole number of bytes", v)
		}
		c.Limits.MaxBodyBytes = n
	}
	return nil
}

var idPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,62}$`)

// Validate checks the whole configuration and reports every problem found,
// each naming the offending field.
func (c *Config) Validate() error {
	var p problems
	c.validateListen(&p)
	c.validateLimits(&p)
	c.validateDurations(&p)
	if c.Upstream.MaxIdleConnsPerHost <= 0 {
		p.bad("upstream.max_idle_conns_per_host", "must be positive")
	}
	c.validateLog(&p)
	c.validateAudit(&p)
	c.validateVault(&p)
	c.validateRouting(&p)
	if c.Audit.CheckpointEvery <= 0 {
		p.bad("audit.checkpoint_every", "must be positive")
	}
	keys := keyHashes{}
	c.validateTenants(&p, keys)
	c.validateAuditors(&p, keys)
	c.validateEndpoints(&p)
	c.validateCORS(&p)
	c.validateServer(&p)
	c.validateTelemetry(&p)
	c.validateAccounting(&p, keys)
	return errors.Join(p...)
}

// validateAccounting checks billing modes, rate limits, budgets and the
// finance team's keys.
func (c *Config) validateAccounting(p *problems, keys keyHashes) {
	for i, t := range c.Tenants {
		if b := t.Billing; b != "" && b != "prepaid" && b != "postpaid" {
			p.bad(fmt.Sprintf("tenants[%d].billing", i), "%q is not prepaid or postpaid", b)
		}
		for j, a := range t.Apps {
			if r := a.RateLimit; r != nil && (r.RequestsPerMinute < 0 || r.TokensPerMinute < 0) {
				p.bad(fmt.Sprintf("tenants[%d].apps[%d].rate_limit", i, j), "limits must not be negative")
			}
		}
	}
	a := c.Accounting
	if a.Ledger != "" && a.Ledger != "bbolt" && a.Ledger != "postgres" {
		p.bad("accounting.ledger", "%q is not bbolt or postgres", a.Ledger)
	}
	if a.Ledger == "postgres" && (a.Postgres.DSN == "" || dsnHasPassword(a.Postgres.DSN)) {
		p.bad("accounting.postgres.dsn", "is required, without a password (the password comes from Vault: accounting.postgres.password)")
	}
	if a.Postgres.MaxConns < 0 || a.Postgres.Timeout < 0 || a.Replicas < 0 {
		p.bad("accounting", "postgres.max_conns, postgres.timeout and replicas must not be negative")
	}
	if a.Ledger != "postgres" && a.Replicas > 1 {
		p.bad("accounting.replicas", "several replicas share money and limits only through the PostgreSQL ledger (accounting.ledger: postgres)")
	}
	for i, b := range a.Budgets {
		bf := fmt.Sprintf("accounting.budgets[%d]", i)
		if (b.Tenant == "") == (b.Key == "") || (b.App != "" && b.Tenant == "") {
			p.bad(bf, "names a tenant (and optionally an app) or a key_id")
		}
		if b.Period != "day" && b.Period != "month" {
			p.bad(bf+".period", "%q is not day or month", b.Period)
		}
		if b.MaxMicros <= 0 && b.MaxTokens <= 0 {
			p.bad(bf, "sets max_micros or max_tokens")
		}
		if b.MaxMicros > 0 && len(b.Currency) != 3 {
			p.bad(bf+".currency", "is required with max_micros (ISO 4217, e.g. USD)")
		}
		if t := c.budgetTenant(b); t == nil || t.Billing == "" {
			p.bad(bf, "applies to no billed tenant (a budget counts only requests of a tenant with billing: prepaid or postpaid)")
		}
	}
	for i, f := range a.Finance {
		for k, key := range f.Keys {
			keys.check(p, fmt.Sprintf("accounting.finance[%d].keys[%d]", i, k), key)
		}
	}
}

// dsnHasPassword reports a connection string that carries a password, in
// either form (key=value, or a URL's user:password@).
func dsnHasPassword(dsn string) bool {
	if strings.Contains(dsn, "password=") {
		return true
	}
	if u, err := url.Parse(dsn); err == nil && u.User != nil {
		_, set := u.User.Password()
		return set
	}
	return false
}

// budgetTenant is the tenant a budget's requests belong to: the one it
// names, or the one whose app holds its key.
func (c *Config) budgetTenant(b Budget) *Tenant {
	for i := range c.Tenants {
		t := &c.Tenants[i]
		if b.Tenant != "" {
			if t.ID == b.Tenant {
				return t
			}
			continue
		}
		for _, a := range t.Apps {
			for _, k := range a.Keys {
				if k.ID == b.Key {
					return t
				}
			}
		}
	}
	return nil
}

// validateTelemetry checks the metrics and tracing sections.
func (c *Config) validateTelemetry(p *problems) {
	if l := c.Metrics.Listen; l != "" {
		if _, _, err := net.SplitHostPort(l); err != nil {
			p.bad("metrics.listen", "%q is not host:port", l)
		}
	}
	if path := c.Metrics.Path; path != "" && !strings.HasPrefix(path, "/") {
		p.bad("metrics.path", "%q must start with /", path)
	}
	if pr := c.Tracing.Protocol; pr != "" && pr != "http" && pr != "grpc" {
		p.bad("tracing.protocol", "%q is not http or grpc", pr)
	}
	if r := c.Tracing.SampleRatio; r != nil && (*r < 0 || *r > 1) {
		p.bad("tracing.sample_ratio", "must be between 0 and 1")
	}
}

// validateServer checks the client-facing bounds.
func (c *Config) validateServer(p *problems) {
	sv := c.Server
	for _, d := range []struct {
		name string
		d    Duration
	}{{"server.read_header_timeout", sv.ReadHeaderTimeout}, {"server.read_timeout", sv.ReadTimeout}, {"server.idle_timeout", sv.IdleTimeout}} {
		if d.d <= 0 {
			p.bad(d.name, "must be a positive duration such as 30s")
		}
	}
	if sv.MemoryLimit < -1 || sv.MemoryLimit > 0 && sv.MemoryLimit < 64<<20 {
		p.bad("server.memory_limit", "must be -1 (none), 0 (from the container's limit) or at least 64 MiB, got %d", sv.MemoryLimit)
	}
	if sv.DrainDelay < 0 || sv.DrainDelay > Duration(10*time.Minute) {
		p.bad("server.drain_delay", "must be between 0s and 10m")
	}
	for _, n := range []struct {
		name string
		n    int
	}{{"server.max_connections", sv.MaxConnections}, {"server.max_connections_per_client", sv.MaxConnectionsPerClient},
		{"server.max_in_flight", sv.MaxInFlight}, {"server.max_failed_auth_per_minute", sv.MaxFailedAuthPerMinute}} {
		if n.n <= 0 {
			p.bad(n.name, "must be positive")
		}
	}
}

// validateCORS checks that every allowed origin is a bare origin.
func (c *Config) validateCORS(p *problems) {
	for i, o := range c.CORS.AllowedOrigins {
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") ||
			u.RawQuery != "" || u.User != nil || strings.HasSuffix(o, "/") {
			p.bad(fmt.Sprintf("cors.allowed_origins[%d]", i), "%q is not an origin such as https://app.example.org", o)
		}
	}
	if c.CORS.MaxAge < 0 {
		p.bad("cors.max_age", "must not be negative")
	}
}

// problems collects what Validate finds, in order.
type problems []error

// bad records a problem with field.
func (p *problems) bad(field, format string, args ...any) {
	*p = append(*p, fmt.Errorf("%s: %s", field, fmt.Sprintf(format, args...)))
}

// validateListen checks the listen address and the TLS file pair.
func (c *Config) validateListen(p *problems) {
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		p.bad("listen", "%q is not host:port", c.Listen)
	}
	if (c.TLS.CertFile == "") != (c.TLS.KeyFile == "") {
		p.bad("tls", "cert_file and key_file must be set together")
	}
}

func (c *Config) validateLimits(p *problems) {
	if c.Limits.MaxBodyBytes <= 0 {
		p.bad("limits.max_body_bytes", "must be positive, got %d", c.Limits.MaxBodyBytes)
	}
	if c.Limits.MaxResponseBytes <= 0 {
		p.bad("limits.max_response_bytes", "must be positive, got %d", c.Limits.MaxResponseBytes)
	}
	if c.Limits.MaxJSONDepth <= 0 || c.Limits.MaxJSONDepth > 1000 {
		p.bad("limits.max_json_depth", "must be between 1 and 1000, got %d", c.Limits.MaxJSONDepth)
	}
	if c.Limits.MaxJSONValues <= 0 {
		p.bad("limits.max_json_values", "must be positive, got %d", c.Limits.MaxJSONValues)
	}
	if c.Limits.MaxFindings <= 0 {
		p.bad("limits.max_findings", "must be positive, got %d", c.Limits.MaxFindings)
	}
	if c.Inspection.CacheEntries < 0 || c.Inspection.CacheEntries > 1<<20 {
		p.bad("inspection.cache_entries", "must be between 0 (off) and 1048576, got %d", c.Inspection.CacheEntries)
	}
}

// validateDurations checks that every timeout and interval, whatever its
// section, is positive.
func (c *Config) validateDurations(p *problems) {
	for name, d := range map[string]Duration{
		"upstream.connect_timeout":         c.Upstream.ConnectTimeout,
		"upstream.tls_handshake_timeout":   c.Upstream.TLSHandshakeTimeout,
		"upstream.response_header_timeout": c.Upstream.ResponseHeaderTimeout,
		"upstream.idle_conn_timeout":       c.Upstream.IdleConnTimeout,
		"policy.timeout":                   c.Policy.Timeout,
		"audit.checkpoint_interval":        c.Audit.CheckpointInterval,
		"routing.failover_budget":          c.Routing.FailoverBudget,
		"routing.breaker_cooldown":         c.Routing.BreakerCooldown,
	} {
		if d <= 0 {
			p.bad(name, "must be a positive duration such as 5s")
		}
	}
}

func (c *Config) validateLog(p *problems) {
	if !slices.Contains([]string{"debug", "info", "warn", "error"}, c.Log.Level) {
		p.bad("log.level", "%q is not one of debug, info, warn, error", c.Log.Level)
	}
	if !slices.Contains([]string{"json", "text"}, c.Log.Format) {
		p.bad("log.format", "%q is not json or text", c.Log.Format)
	}
	if c.Log.FlushInterval < 0 || c.Log.FlushInterval.Std() > 10*time.Second {
		p.bad("log.flush_interval", "%s is not between 0 and 10s", c.Log.FlushInterval.Std())
	}
}

// validateAudit checks that the log has a path and exactly one way to sign
// checkpoints.
func (c *Config) validateAudit(p *problems) {
	if c.Audit.Path == "" {
		p.bad("audit.path", "is required: every request is recorded")
	}
	switch {
	case c.Audit.SigningKeyFile == "" && c.Audit.VaultTransitKey == "":
		p.bad("audit.signing_key_file", "is required (or audit.vault_transit_key): checkpoints are signed (create a key with `custos audit keygen`)")
	case c.Audit.SigningKeyFile != "" && c.Audit.VaultTransitKey != "":
		p.bad("audit.vault_transit_key", "set either signing_key_file or vault_transit_key, not both")
	case c.Audit.VaultTransitKey != "" && !c.Vault.Configured():
		p.bad("audit.vault_transit_key", "needs a vault: section")
	}
	if d := c.Audit.Durability; d != "" && d != "group" && d != "strict" {
		p.bad("audit.durability", "%q is not group or strict", d)
	}
	if c.Audit.FlushInterval < 0 {
		p.bad("audit.flush_interval", "must not be negative")
	}
	if n := c.Audit.MinFreeBytes; n != nil && *n < 0 {
		p.bad("audit.min_free_bytes", "must not be negative")
	}
	if v := c.Audit.VaultAnchor; v != nil && (v.Mount == "" || v.Path == "" || !c.Vault.Configured()) {
		p.bad("audit.vault_anchor", "needs mount, path and a vault: section")
	}
	if !c.Dev && c.Audit.CheckpointFile == "" && c.Audit.VaultAnchor == nil {
		p.bad("audit.checkpoint_file", "is required (or audit.vault_anchor): the signed chain head must also live where the log file's owner cannot rewrite it, so that a cut tail is detected")
	}
}

// validateVault checks the auth method and the settings it needs.
func (c *Config) validateVault(p *problems) {
	if m := c.Vault.Auth.Method; m != "" && m != "token" && m != "approle" && m != "kubernetes" {
		p.bad("vault.auth.method", "%q is not token, approle or kubernetes", m)
	}
	if c.Vault.Auth.Method == "approle" && (c.Vault.Auth.RoleIDFile == "" || c.Vault.Auth.SecretIDFile == "") {
		p.bad("vault.auth", "approle needs role_id_file and secret_id_file")
	}
	if c.Vault.Auth.Method == "kubernetes" && c.Vault.Auth.KubernetesRole == "" {
		p.bad("vault.auth.kubernetes_role", "is required for kubernetes auth")
	}
}

func (c *Config) validateRouting(p *problems) {
	if c.Routing.MaxAttempts <= 0 || c.Routing.MaxAttempts > 10 {
		p.bad("routing.max_attempts", "must be between 1 and 10")
	}
	if c.Routing.BreakerFailures <= 0 {
		p.bad("routing.breaker_failures", "must be positive")
	}
}

// keyHashes maps each app and auditor key hash seen to the field that
// first used it: a key identifies one caller.
type keyHashes map[string]string

// check validates the key at field kf.
func (seen keyHashes) check(p *problems, kf string, key AppKey) {
	h := strings.ToLower(key.SHA256)
	if b, err := hex.DecodeString(h); err != nil || len(b) != sha256.Size {
		p.bad(kf+".sha256", "must be 64 hex digits (the SHA-256 of the key)")
	} else if prev, dup := seen[h]; dup {
		p.bad(kf+".sha256", "same key hash already used at %s", prev)
	} else {
		seen[h] = kf
	}
	if key.ID == "" {
		p.bad(kf+".id", "is required")
	}
}

// validateTenants checks that there is a tenant, and every tenant and app
// id is well formed and unique, every app has a purpose and valid keys.
func (c *Config) validateTenants(p *problems, keys keyHashes) {
	if len(c.Tenants) == 0 {
		p.bad("tenants", "at least one tenant is required")
	}
	tenantSeen := map[string]bool{}
	for i, t := range c.Tenants {
		tf := fmt.Sprintf("tenants[%d]", i)
		if !idPattern.MatchString(t.ID) {
			p.bad(tf+".id", "%q must be lower-case letters, digits, '.', '_' or '-'", t.ID)
		} else if tenantSeen[t.ID] {
			p.bad(tf+".id", "duplicate tenant %q", t.ID)
		}
		tenantSeen[t.ID] = true
		appSeen := map[string]bool{}
		for j, a := range t.Apps {
			af := fmt.Sprintf("%s.apps[%d]", tf, j)
			if !idPattern.MatchString(a.ID) {
				p.bad(af+".id", "%q must be lower-case letters, digits, '.', '_' or '-'", a.ID)
			} else if appSeen[a.ID] {
				p.bad(af+".id", "duplicate app %q in tenant %q", a.ID, t.ID)
			}
			appSeen[a.ID] = true
			if strings.TrimSpace(a.Purpose) == "" {
				p.bad(af+".purpose", "is required (the purpose this app processes data for)")
			}
			for k, key := range a.Keys {
				keys.check(p, fmt.Sprintf("%s.keys[%d]", af, k), key)
			}
		}
	}
}

// validateAuditors checks auditor ids and keys; a key may not also be an
// app's.
func (c *Config) validateAuditors(p *problems, keys keyHashes) {
	auditorSeen := map[string]bool{}
	for i, a := range c.Auditors {
		af := fmt.Sprintf("auditors[%d]", i)
		if !idPattern.MatchString(a.ID) {
			p.bad(af+".id", "%q must be lower-case letters, digits, '.', '_' or '-'", a.ID)
		} else if auditorSeen[a.ID] {
			p.bad(af+".id", "duplicate auditor %q", a.ID)
		}
		auditorSeen[a.ID] = true
		for k, key := range a.Keys {
			keys.check(p, fmt.Sprintf("%s.keys[%d]", af, k), key)
		}
	}
}

// validateEndpoints checks that there is an endpoint and every endpoint
// name is well formed and unique.
func (c *Config) validateEndpoints(p *problems) {
	if len(c.Endpoints) == 0 {
		p.bad("endpoints", "at least one endpoint is required")
	}
	epSeen := map[string]bool{}
	for i, e := range c.Endpoints {
		ef := fmt.Sprintf("endpoints[%d]", i)
		if !idPattern.MatchString(e.Name) {
			p.bad(ef+".name", "%q must be lower-case letters, digits, '.', '_' or '-'", e.Name)
		} else if epSeen[e.Name] {
			p.bad(ef+".name", "duplicate endpoint %q", e.Name)
		}
		epSeen[e.Name] = true
		c.validateEndpoint(p, ef, e)
	}
}

// validateEndpoint checks one endpoint's kind, URL, region, models and key;
// ef names it in messages.
func (c *Config) validateEndpoint(p *problems, ef string, e Endpoint) {
	if !upstream.Known(e.Kind) {
		p.bad(ef+".kind", "%q is not one of %s", e.Kind, strings.Join(upstream.Kinds(), ", "))
	}
	if e.Kind != upstream.KindEcho {
		u, err := url.Parse(e.BaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			p.bad(ef+".base_url", "%q is not an http(s) URL", e.BaseURL)
		} else if u.User != nil {
			p.bad(ef+".base_url", "must not carry credentials; provider keys come from the key source")
		}
	}
	if e.Region == "" {
		p.bad(ef+".region", "is required")
	} else if e.Jurisdiction == "" && residency.JurisdictionOf(e.Region) == "" {
		p.bad(ef+".jurisdiction", "region %q has no known jurisdiction; set one (e.g. eu, us, uk, ch)", e.Region)
	}
	if len(e.Models) == 0 {
		p.bad(ef+".models", "at least one model is required")
	}
	switch {
	case !upstream.NeedsKey(e.Kind):
	case e.Key != nil && e.Keyless:
		p.bad(ef+".key", "an endpoint is either keyless or has a key, not both")
	case e.Key == nil && !e.Keyless:
		p.bad(ef+".key", "is required (a Vault KV v2 mount, path and field), or mark the endpoint keyless: true")
	case e.Key != nil && (e.Key.Mount == "" || e.Key.Path == "" || e.Key.Field == ""):
		p.bad(ef+".key", "needs mount, path and field")
	case e.Key != nil && !c.Vault.Configured():
		p.bad(ef+".key", "names a Vault key but no vault: section is configured")
	}
	for j, m := range e.Models {
		if strings.TrimSpace(m) == "" {
			p.bad(fmt.Sprintf("%s.models[%d]", ef, j), "is empty")
		}
	}
}

// Duration is a time.Duration written in YAML as "5s", "2m".
type Duration time.Duration

// UnmarshalYAML parses a Go duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	var s string
	if err := n.Decode(&s); err != nil {
		return fmt.Errorf("line %d: duration must be a string such as 5s", n.Line)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("line %d: %q is not a duration such as 5s or 2m", n.Line, s)
	}
	*d = Duration(v)
	return nil
}

// Std returns the value as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }
