package keysource_test

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"

	"github.com/custos-gateway/custos/audit"
	"github.com/custos-gateway/custos/gateway/keysource"
	"github.com/custos-gateway/custos/gateway/keysource/vaulttest"
)

// Distinctive key values: none may ever reach a log line or an error.
const (
	keyV1 = "sk-CANARY-v1-7f3a9d2e4b"
	keyV2 = "sk-CANARY-v2-c81e0a5f93"
)

type logBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func tokenFile(t *testing.T) string {
	p := filepath.Join(t.TempDir(), "token")
	os.WriteFile(p, []byte(vaulttest.RootToken+"\n"), 0o600)
	return p
}

var openaiRef = map[string]keysource.Ref{"openai-eu": {Mount: "secret", Path: "custos/openai", Field: "api_key"}}

// newSource starts a source and checks, when the test ends, that no key
// value reached its log.
func newSource(t *testing.T, v *vaulttest.Server, opts keysource.Options) (*keysource.Source, *logBuffer) {
	t.Helper()
	logs := &logBuffer{}
	opts.Address = v.Addr
	opts.Logger = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s, err := keysource.New(context.Background(), opts, openaiRef)
	if err != nil {
		t.Fatalf("new: %v", err)
	}
	t.Cleanup(func() {
		s.Close()
		for _, k := range []string{keyV1, keyV2} {
			if strings.Contains(logs.String(), k) {
				t.Errorf("a key value reached the log:\n%s", logs.String())
			}
		}
	})
	return s, logs
}

func waitFor(t *testing.T, within time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestKeyReadWithTokenAuth(t *testing.T) {
	v := vaulttest.Start(t)
	v.PutKV("secret", "custos/openai", map[string]any{"api_key": keyV1})
	s, _ := newSource(t, v, keysource.Options{AuthMethod: keysource.AuthToken, TokenFile: tokenFile(t)})
	got, err := s.Key(context.Background(), "openai-eu")
	if err != nil || got != keyV1 {
		t.Fatalf("key = %q, %v", got, err)
	}
	if _, err := s.Key(context.Background(), "nope"); !errors.Is(err, keysource.ErrUnknownEndpoint) {
		t.Errorf("unknown endpoint: %v", err)
	}
}

func TestMissingPathFailsAtStartWithAClearError(t *testing.T) {
	v := vaulttest.Start(t)
	v.PutKV("secret", "custos/other", map[string]any{"api_key": keyV1})
	_, err := keysource.New(context.Background(), keysource.Options{Address: v.Addr, TokenFile: tokenFile(t)}, openaiRef)
	if err == nil || !strings.Contains(err.Error(), "openai-eu") || !strings.Contains(err.Error(), "secret/custos/openai#api_key") {
		t.Fatalf("err = %v; want it to name the endpoint and the path", err)
	}
	// A field that is not there is as clear.
	v.PutKV("secret", "custos/openai", map[string]any{"key": keyV1})
	_, err = keysource.New(context.Background(), keysource.Options{Address: v.Addr, TokenFile: tokenFile(t)}, openaiRef)
	if err == nil || !strings.Contains(err.Error(), `no string field "api_key"`) || strings.Contains(err.Error(), keyV1) {
		t.Fatalf("err = %v", err)
	}
}

func TestAppRoleLoginAndTokenRenewal(t *testing.T) {
	v := vaulttest.Start(t)
	v.PutKV("secret", "custos/openai", map[string]any{"api_key": keyV1})
	roleID, secretID := v.AppRole(t.TempDir(), "custos", 2*time.Second, "secret/data/custos/*")
	s, _ := newSource(t, v, keysource.Options{
		AuthMethod: keysource.AuthAppRole, RoleIDFile: roleID, SecretIDFile: secretID, TTL: 500 * time.Millisecond,
	})
	if k, err := s.Key(context.Background(), "openai-eu"); err != nil || k != keyV1 {
		t.Fatalf("key = %q, %v", k, err)
	}
	// The 2s token is renewed by the LifetimeWatcher and keeps working.
	waitFor(t, 15*time.Second, "token renewals", func() bool { _, r := s.Stats(); return r >= 2 })
	if _, err := s.Refresh(context.Background(), "openai-eu"); err != nil {
		t.Fatalf("read with a renewed token: %v", err)
	}
}

func TestRotationIsPickedUpWithinTheTTL(t *testing.T) {
	v := vaulttest.Start(t)
	v.PutKV("secret", "custos/openai", map[string]any{"api_key": keyV1})
	ttl := 600 * time.Millisecond
	s, logs := newSource(t, v, keysource.Options{TokenFile: tokenFile(t), TTL: ttl})
	v.PutKV("secret", "custos/openai", map[string]any{"api_key": keyV2})
	rotated := time.Now()
	waitFor(t, 3*ttl, "the new key version", func() bool { k, _ := s.Key(context.Background(), "openai-eu"); return k == keyV2 })
	if d := time.Since(rotated); d > ttl+200*time.Millisecond {
		t.Errorf("rotation took %v, TTL is %v", d, ttl)
	}
	if !strings.Contains(logs.String(), `"msg":"provider key rotated"`) {
		t.Errorf("rotation not logged:\n%s", logs.String())
	}
}

func TestForcedRefresh(t *testing.T) {
	v := vaulttest.Start(t)
	v.PutKV("secret", "custos/openai", map[string]any{"api_key": keyV1})
	s, _ := newSource(t, v, keysource.Options{TokenFile: tokenFile(t), TTL: time.Hour})
	v.PutKV("secret", "custos/openai", map[string]any{"api_key": keyV2})
	if k, _ := s.Key(context.Background(), "openai-eu"); k != keyV1 {
		t.Fatalf("cached key = %q before the forced refresh", k)
	}
	if k, err := s.Refresh(context.Background(), "openai-eu"); err != nil || k != keyV2 {
		t.Fatalf("refresh = %q, %v", k, err)
	}
	if k, _ := s.Key(context.Background(), "openai-eu"); k != keyV2 {
		t.Errorf("key after refresh = %q", k)
	}
}

// Vault stopped mid-run: the cached key serves for the stale window, then
// requests fail closed, and the source recovers by itself when Vault is back.
func TestVaultDownStaleWindowThenUnavailableThenRecovery(t *testing.T) {
	v := vaulttest.Start(t)
	v.PutKV("secret", "custos/openai", map[string]any{"api_key": keyV1})
	ttl, stale := 300*time.Millisecond, time.Second
	clock := newClock()
	s, logs := newSource(t, v, keysource.Options{TokenFile: tokenFile(t), TTL: ttl, StaleWindow: stale, Now: clock.Now})
	v.Stop()
	for _, at := range []time.Duration{0, ttl, ttl + stale/2, ttl + stale} {
		clock.Set(at)
		if k, err := s.Key(context.Background(), "openai-eu"); err != nil || k != keyV1 {
			t.Fatalf("within the stale window (%v after the read): %q, %v", at, k, err)
		}
	}
	clock.Set(ttl + stale + time.Millisecond)
	if _, err := s.Key(context.Background(), "openai-eu"); !errors.Is(err, keysource.ErrUnavailable) {
		t.Fatalf("past the stale window: %v, want ErrUnavailable", err)
	}
	if err := s.Ready(); !errors.Is(err, keysource.ErrUnavailable) {
		t.Errorf("Ready past the stale window: %v", err)
	}
	waitFor(t, 5*time.Second, "the refresher to notice the outage", func() bool {
		return strings.Contains(logs.String(), "vault unreachable")
	})
	if _, err := s.Refresh(context.Background(), "openai-eu"); !errors.Is(err, keysource.ErrUnavailable) || strings.Contains(err.Error(), keyV1) {
		t.Errorf("refresh with Vault down: %v", err)
	}
	v.Restart()
	v.PutKV("secret", "custos/openai", map[string]any{"api_key": keyV2})
	waitFor(t, 10*time.Second, "recovery after Vault returns", func() bool {
		k, err := s.Key(context.Background(), "openai-eu")
		return err == nil && k == keyV2
	})
	if !strings.Contains(logs.String(), "vault unreachable") || !strings.Contains(logs.String(), "vault reachable again") {
		t.Errorf("outage not logged:\n%s", logs.String())
	}
}

func TestStaleWindowZeroFailsClosedAtTTL(t *testing.T) {
	v := vaulttest.Start(t)
	v.PutKV("secret", "custos/openai", map[string]any{"api_key": keyV1})
	ttl := 300 * time.Millisecond
	clock := newClock()
	s, _ := newSource(t, v, keysource.Options{TokenFile: tokenFile(t), TTL: ttl, NoStale: true, Now: clock.Now})
	v.Stop()
	clock.Set(ttl)
	if _, err := s.Key(context.Background(), "openai-eu"); err != nil {
		t.Errorf("stale window 0, at TTL: %v", err)
	}
	clock.Set(ttl + time.Millisecond)
	if _, err := s.Key(context.Background(), "openai-eu"); !errors.Is(err, keysource.ErrUnavailable) {
		t.Errorf("stale window 0, past TTL: %v", err)
	}
}

// testClock is a clock the test moves: Set(d) puts it d after its start.
type testClock struct {
	start time.Time
	at    atomic.Int64
}

func newClock() *testClock { return &testClock{start: time.Now()} }

func (c *testClock) Now() time.Time { return c.start.Add(time.Duration(c.at.Load())) }

func (c *testClock) Set(d time.Duration) { c.at.Store(int64(d)) }

// BenchmarkKey: the hot path is a cache hit, with no allocation and no lock.
func BenchmarkKey(b *testing.B) {
	v := vaulttest.Start(b)
	v.PutKV("secret", "custos/openai", map[string]any{"api_key": keyV1})
	p := filepath.Join(b.TempDir(), "token")
	os.WriteFile(p, []byte(vaulttest.RootToken), 0o600)
	s, err := keysource.New(context.Background(), keysource.Options{Address: v.Addr, TokenFile: p}, openaiRef)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.Key(ctx, "openai-eu"); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// Audit checkpoints signed by a Vault Transit Ed25519 key verify offline
// with the exported public key, and not with another.
func TestTransitSignerForAuditCheckpoints(t *testing.T) {
	v := vaulttest.Start(t)
	c := v.Client()
	if err := c.Sys().Mount("transit", &api.MountInput{Type: "transit"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Logical().Write("transit/keys/custos-audit", map[string]any{"type": "ed25519"}); err != nil {
		t.Fatal(err)
	}
	s, err := keysource.New(context.Background(), keysource.Options{Address: v.Addr, TokenFile: tokenFile(t)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	signer, err := s.TransitSigner(context.Background(), "", "custos-audit")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	pubFile := filepath.Join(dir, "transit.pub")
	os.WriteFile(pubFile, signer.PublicKeyPEM(), 0o644)
	path := filepath.Join(dir, "audit.db")
	l, err := audit.Open(path, audit.Options{Signer: signer, CheckpointEvery: 5})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 12 {
		if _, err := l.Append(context.Background(), audit.Record{Kind: audit.KindOutcome, RequestID: fmt.Sprint(i)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	pub, err := audit.LoadPublicKey(pubFile)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := audit.Verify(path, audit.VerifyOptions{PublicKey: pub})
	if err != nil || !rep.OK() || rep.Checkpoints != 3 || rep.LastCheckpoint != 12 {
		t.Fatalf("verify with the Transit public key: %+v %v", rep, err)
	}
	other, _, _ := ed25519.GenerateKey(nil)
	if rep, _ := audit.Verify(path, audit.VerifyOptions{PublicKey: other}); rep.OK() {
		t.Error("checkpoints verified with an unrelated key")
	}
}

// The client to Vault verifies TLS: with the CA file it reads keys, without
// it the connection is refused.
func TestVaultTLSIsVerified(t *testing.T) {
	v := vaulttest.StartTLS(t)
	v.PutKV("secret", "custos/openai", map[string]any{"api_key": keyV1})
	t.Setenv("VAULT_CACERT", "")
	t.Setenv("VAULT_SKIP_VERIFY", "")
	s, _ := newSource(t, v, keysource.Options{TokenFile: tokenFile(t), CACert: v.CACert})
	if k, err := s.Key(context.Background(), "openai-eu"); err != nil || k != keyV1 {
		t.Fatalf("with the CA file: %q %v", k, err)
	}
	_, err := keysource.New(context.Background(), keysource.Options{Address: v.Addr, TokenFile: tokenFile(t)}, openaiRef)
	if err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("without the CA file: %v; want a certificate error", err)
	}
	// The client library would turn verification off for VAULT_SKIP_VERIFY;
	// Custos refuses to start instead, with or without a CA file.
	for _, skip := range []string{"true", "1", "yes-please"} {
		t.Setenv("VAULT_SKIP_VERIFY", skip)
		for _, ca := range []string{"", v.CACert} {
			_, err := keysource.New(context.Background(), keysource.Options{Address: v.Addr, TokenFile: tokenFile(t), CACert: ca}, openaiRef)
			if !errors.Is(err, keysource.ErrInsecureTLS) {
				t.Errorf("VAULT_SKIP_VERIFY=%s, CA %q: %v; want ErrInsecureTLS", skip, ca, err)
			}
		}
	}
	t.Setenv("VAULT_SKIP_VERIFY", "false")
	if _, err := keysource.New(context.Background(), keysource.Options{Address: v.Addr, TokenFile: tokenFile(t), CACert: v.CACert}, openaiRef); err != nil {
		t.Errorf("VAULT_SKIP_VERIFY=false: %v", err)
	}
}
