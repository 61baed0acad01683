package keysource

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/vault/api"
	"github.com/hashicorp/vault/api/auth/approle"
	"github.com/hashicorp/vault/api/auth/kubernetes"
)

// Errors Key and Refresh report; neither carries a key.
var (
	// ErrUnavailable: no key fresh enough to use (Vault unreachable past the
	// stale window, or never read).
	ErrUnavailable = errors.New("keysource: provider key unavailable")
	// ErrUnknownEndpoint: the endpoint has no key configured.
	ErrUnknownEndpoint = errors.New("keysource: no key configured for endpoint")
)

// Ref locates a key in a KV v2 secrets engine.
type Ref struct {
	Mount string // e.g. "secret"
	Path  string // e.g. "custos/openai"
	Field string // e.g. "api_key"
}

func (r Ref) String() string { return r.Mount + "/" + r.Path + "#" + r.Field }

// Auth methods.
const (
	AuthToken      = "token"
	AuthAppRole    = "approle"
	AuthKubernetes = "kubernetes"
)

// Options configure the Vault key source. Address, CACert and the token fall
// back to the standard VAULT_* environment variables.
type Options struct {
	Address string // VAULT_ADDR when empty
	CACert  string // PEM CA file for Vault's TLS; VAULT_CACERT when empty

	AuthMethod   string // token (default), approle, kubernetes
	TokenFile    string // token auth: file holding the token; VAULT_TOKEN when empty
	RoleIDFile   string // approle
	SecretIDFile string // approle
	AuthMount    string // approle/kubernetes mount path, default the method name
	K8sRole      string // kubernetes
	JWTFile      string // kubernetes service-account token, default the in-cluster path

	TTL         time.Duration // how long a read key is fresh (default 5m)
	StaleWindow time.Duration // how long past TTL a key may serve while Vault is down (default 15m; 0 allowed via NoStale)
	NoStale     bool          // StaleWindow 0: fail closed as soon as TTL passes
	Logger      *slog.Logger
	// Now is the clock keys are aged by (tests); time.Now when nil. The
	// background refresher's pace is real time either way.
	Now func() time.Time
}

// Source serves provider keys from an in-memory cache refreshed from Vault.
// Key is lock-free and allocation-free on a cache hit.
type Source struct {
	client  *api.Client
	opts    Options
	log     *slog.Logger
	entries map[string]*entry // endpoint → entry; fixed after New

	mu           sync.Mutex // serializes logins
	cancel       context.CancelFunc
	done         chan struct{}
	logins       atomic.Int64
	renewals     atomic.Int64
	readFailures atomic.Int64 // key reads that failed
}

type entry struct {
	ref     Ref
	cur     atomic.Pointer[cached]
	refresh sync.Mutex // one Vault read per entry at a time
}

type cached struct {
	key     string
	version int
	fetched time.Time
}

// New logs in to Vault and reads every key; it fails, naming the endpoint
// and path, if any cannot be read, so that a gateway never starts without
// its keys. The background refresher runs until Close.
func New(ctx context.Context, opts Options, refs map[string]Ref) (*Source, error) {
	if opts.TTL <= 0 {
		opts.TTL = 5 * time.Minute
	}
	if opts.StaleWindow <= 0 && !opts.NoStale {
		opts.StaleWindow = 15 * time.Minute
	}
	if opts.NoStale {
		opts.StaleWindow = 0
	}
	if opts.AuthMethod == "" {
		opts.AuthMethod = AuthToken
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := RefuseSkipVerify(os.Getenv); err != nil {
		return nil, err
	}
	cfg := api.DefaultConfig() // reads VAULT_ADDR, VAULT_CACERT, ...
	if cfg.Error != nil {
		return nil, fmt.Errorf("keysource: vault config: %w", cfg.Error)
	}
	if opts.Address != "" {
		cfg.Address = opts.Address
	}
	if opts.CACert != "" {
		if err := cfg.ConfigureTLS(&api.TLSConfig{CACert: opts.CACert}); err != nil {
			return nil, fmt.Errorf("keysource: vault CA file: %w", err)
		}
	}
	cfg.Timeout = 10 * time.Second
	cfg.MaxRetries = 1
	client, err := api.NewClient(cfg)
	if err != nil {
		return nil, fmt.Errorf("keysource: vault client: %w", err)
	}
	client.ClearToken()
	rctx, cancel := context.WithCancel(context.Background())
	s := &Source{client: client, opts: opts, log: log, entries: map[string]*entry{},
		cancel: cancel, done: make(chan struct{})}
	fail := func(err error) (*Source, error) {
		cancel()
		close(s.done)
		return nil, err
	}
	for ep, ref := range refs {
		if ref.Mount == "" || ref.Path == "" || ref.Field == "" {
			return fail(fmt.Errorf("keysource: endpoint %s: key needs mount, path and field", ep))
		}
		s.entries[ep] = &entry{ref: ref}
	}
	if err := s.login(ctx); err != nil {
		return fail(err)
	}
	for ep, e := range s.entries {
		if err := s.read(ctx, ep, e); err != nil {
			return fail(err)
		}
	}
	go s.refresher(rctx)
	return s, nil
}

// ErrInsecureTLS means the environment asks to skip verifying Vault's TLS
// certificate, which Custos never does.
var ErrInsecureTLS = errors.New("keysource: VAULT_SKIP_VERIFY is set; Custos always verifies Vault's TLS certificate: unset it, and give a private CA with vault.ca_file or VAULT_CACERT")

// RefuseSkipVerify fails when VAULT_SKIP_VERIFY (read through getenv) is
// set to anything but false: the Vault client library would silently turn
// TLS verification off.
func RefuseSkipVerify(getenv func(string) string) error {
	v := getenv("VAULT_SKIP_VERIFY")
	if v == "" {
		return nil
	}
	if skip, err := strconv.ParseBool(v); err == nil && !skip {
		return nil
	}
	return ErrInsecureTLS
}

// Key returns the endpoint's key from the cache. It never calls Vault: the
// background refresher keeps keys fresh. Past TTL plus the stale window the
// key is refused (ErrUnavailable).
func (s *Source) Key(_ context.Context, endpoint string) (string, error) {
	e := s.entries[endpoint]
	if e == nil {
		return "", ErrUnknownEndpoint
	}
	c := e.cur.Load()
	if c == nil || s.expired(c) {
		return "", ErrUnavailable
	}
	return c.key, nil
}

// Ready reports whether every key can be served: none is past its TTL plus
// the stale window. The error names the first endpoint that is not.
func (s *Source) Ready() error {
	for ep, e := range s.entries {
		if c := e.cur.Load(); c == nil || s.expired(c) {
			return fmt.Errorf("%w: endpoint %s", ErrUnavailable, ep)
		}
	}
	return nil
}

// expired: past TTL plus the stale window.
func (s *Source) expired(c *cached) bool {
	return s.opts.Now().Sub(c.fetched) > s.opts.TTL+s.opts.StaleWindow
}

// Oldest returns the age of the least recently read key (zero when none).
func (s *Source) Oldest() time.Duration {
	var oldest time.Duration
	for _, e := range s.entries {
		if c := e.cur.Load(); c != nil {
			oldest = max(oldest, s.opts.Now().Sub(c.fetched))
		}
	}
	return oldest
}

// Refresh reads the endpoint's key from Vault now (after a provider refused
// the cached one) and returns it.
func (s *Source) Refresh(ctx context.Context, endpoint string) (string, error) {
	e := s.entries[endpoint]
	if e == nil {
		return "", ErrUnknownEndpoint
	}
	if err := s.read(ctx, endpoint, e); err != nil {
		return "", fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return e.cur.Load().key, nil
}

// ReadFailures counts key reads from Vault that failed (metrics).
func (s *Source) ReadFailures() int64 { return s.readFailures.Load() }

// Stats counts logins and token renewals, for tests and metrics.
func (s *Source) Stats() (logins, renewals int64) { return s.logins.Load(), s.renewals.Load() }

// Close stops the background refresher and token renewal.
func (s *Source) Close() {
	s.cancel()
	<-s.done
}

// read fetches one key and caches it. Errors name the path, never the value.
func (s *Source) read(ctx context.Context, endpoint string, e *entry) error {
	e.refresh.Lock()
	defer e.refresh.Unlock()
	sec, err := s.client.KVv2(e.ref.Mount).Get(ctx, e.ref.Path)
	if err != nil && isPermissionDenied(err) {
		// The token may have expired or Vault restarted: log in again, once.
		if lerr := s.login(ctx); lerr == nil {
			sec, err = s.client.KVv2(e.ref.Mount).Get(ctx, e.ref.Path)
		}
	}
	if err != nil {
		s.readFailures.Add(1)
		return fmt.Errorf("keysource: endpoint %s: reading %s: %s", endpoint, e.ref, vaultCause(err))
	}
	v, ok := sec.Data[e.ref.Field].(string)
	if !ok || v == "" {
		s.readFailures.Add(1)
		return fmt.Errorf("keysource: endpoint %s: %s has no string field %q", endpoint, e.ref, e.ref.Field)
	}
	version := 0
	if sec.VersionMetadata != nil {
		version = sec.VersionMetadata.Version
	}
	prev := e.cur.Load()
	e.cur.Store(&cached{key: v, version: version, fetched: s.opts.Now()})
	if prev != nil && prev.version != version {
		s.log.Info("provider key rotated", "endpoint", endpoint, "vault_path", e.ref.String(), "version", version)
	}
	return nil
}

// refresher re-reads every key at half its TTL, so rotation is picked up
// within the TTL and requests never wait for Vault; failures back off and
// are retried until Vault returns.
func (s *Source) refresher(ctx context.Context) {
	defer close(s.done)
	interval := s.opts.TTL / 2
	if interval < 50*time.Millisecond {
		interval = 50 * time.Millisecond
	}
	t := time.NewTimer(interval)
	defer t.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		var errs []error
		for ep, e := range s.entries {
			if err := s.read(ctx, ep, e); err != nil {
				errs = append(errs, err)
			}
		}
		next := interval
		switch {
		case len(errs) > 0:
			next = min(interval, time.Second)
			if !failing {
				s.log.Warn("vault unreachable; serving cached keys within the stale window",
					"error", errors.Join(errs...).Error(), "stale_window", s.opts.StaleWindow.String())
			}
			failing = true
		case failing:
			s.log.Info("vault reachable again; keys refreshed")
			failing = false
		}
		t.Reset(next)
	}
}

// login authenticates with the configured method and, for a renewable token,
// starts a LifetimeWatcher that renews it and logs in again when it ends.
func (s *Source) login(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var secret *api.Secret
	var err error
	switch s.opts.AuthMethod {
	case AuthToken:
		tok := os.Getenv("VAULT_TOKEN")
		if s.opts.TokenFile != "" {
			b, ferr := os.ReadFile(s.opts.TokenFile)
			if ferr != nil {
				return fmt.Errorf("keysource: token file: %w", ferr)
			}
			tok = strings.TrimSpace(string(b))
		}
		if tok == "" {
			return errors.New("keysource: token auth needs a token file or VAULT_TOKEN")
		}
		s.client.SetToken(tok)
		s.logins.Add(1)
		return nil
	case AuthAppRole:
		roleID, rerr := os.ReadFile(s.opts.RoleIDFile)
		if rerr != nil {
			return fmt.Errorf("keysource: approle role id file: %w", rerr)
		}
		opts := []approle.LoginOption{approle.WithMountPath(orDefault(s.opts.AuthMount, "approle"))}
		a, aerr := approle.NewAppRoleAuth(strings.TrimSpace(string(roleID)), &approle.SecretID{FromFile: s.opts.SecretIDFile}, opts...)
		if aerr != nil {
			return fmt.Errorf("keysource: approle: %w", aerr)
		}
		secret, err = s.client.Auth().Login(ctx, a)
	case AuthKubernetes:
		opts := []kubernetes.LoginOption{kubernetes.WithMountPath(orDefault(s.opts.AuthMount, "kubernetes"))}
		if s.opts.JWTFile != "" {
			opts = append(opts, kubernetes.WithServiceAccountTokenPath(s.opts.JWTFile))
		}
		a, aerr := kubernetes.NewKubernetesAuth(s.opts.K8sRole, opts...)
		if aerr != nil {
			return fmt.Errorf("keysource: kubernetes auth: %w", aerr)
		}
		secret, err = s.client.Auth().Login(ctx, a)
	default:
		return fmt.Errorf("keysource: unknown auth method %q", s.opts.AuthMethod)
	}
	if err != nil {
		return fmt.Errorf("keysource: %s login: %s", s.opts.AuthMethod, vaultCause(err))
	}
	s.logins.Add(1)
	if secret != nil && secret.Auth != nil && secret.Auth.Renewable {
		go s.watchToken(secret)
	}
	return nil
}

// watchToken renews the client token until renewal ends, then logs in again.
func (s *Source) watchToken(secret *api.Secret) {
	w, err := s.client.NewLifetimeWatcher(&api.LifetimeWatcherInput{Secret: secret})
	if err != nil {
		s.log.Warn("vault token cannot be renewed", "error", err.Error())
		return
	}
	go w.Start()
	defer w.Stop()
	for {
		select {
		case <-s.done:
			return
		case <-w.RenewCh():
			s.renewals.Add(1)
		case err := <-w.DoneCh():
			if err != nil {
				s.log.Warn("vault token renewal ended; logging in again", "error", vaultCause(err))
			}
			for {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				lerr := s.login(ctx)
				cancel()
				if lerr == nil {
					return // login started a new watcher
				}
				select {
				case <-s.done:
					return
				case <-time.After(time.Second):
				}
			}
		}
	}
}

func isPermissionDenied(err error) bool {
	var re *api.ResponseError
	return errors.As(err, &re) && (re.StatusCode == 403 || re.StatusCode == 401)
}

// vaultCause summarizes a Vault error without request or response bodies.
func vaultCause(err error) string {
	var re *api.ResponseError
	if errors.As(err, &re) {
		return fmt.Sprintf("vault answered %d", re.StatusCode)
	}
	if errors.Is(err, api.ErrSecretNotFound) {
		return "secret not found"
	}
	msg := err.Error()
	if len(msg) > 200 {
		msg = msg[:200]
	}
	return msg
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}
