// Package vaulttest runs a real HashiCorp Vault dev server (v1.13.0, MPL-2.0)
// on 127.0.0.1 for tests. The server is built once from the nested module in
// vaultserver/ and cached outside the work tree by version, so `go test` stays
// the one test command; the first build downloads and compiles Vault (minutes).
//
// It must never be used outside tests.
package vaulttest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"
)

// Version is the Vault release the nested module builds.
const Version = "v1.13.0"

// RootToken is the dev server's root token.
const RootToken = "custos-test-root"

// Binary returns the cached Vault binary, building it on first use. Builds
// from parallel test processes are serialized with a file lock.
func Binary(t testing.TB) string {
	t.Helper()
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	dir := filepath.Join(cache, "custos", "vault-"+Version)
	bin := filepath.Join(dir, "vault")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	lock, err := os.OpenFile(filepath.Join(dir, ".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)
	if _, err := os.Stat(bin); err == nil {
		return bin
	}
	_, file, _, _ := runtime.Caller(0)
	src := filepath.Join(filepath.Dir(file), "vaultserver")
	t.Logf("building Vault %s into %s (first run only; this takes minutes)", Version, bin)
	tmp := bin + ".tmp"
	cmd := exec.Command("go", "build", "-o", tmp, ".")
	cmd.Dir = src
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building Vault: %v\n%s", err, out)
	}
	if err := os.Rename(tmp, bin); err != nil {
		t.Fatal(err)
	}
	return bin
}

// Server is a running Vault dev server.
type Server struct {
	Addr   string // http://127.0.0.1:PORT, or https:// with TLS
	CACert string // with TLS: the CA file that signed the server's certificate
	bin    string
	port   int
	tlsDir string
	cmd    *exec.Cmd
	exited chan struct{}
	t      testing.TB
}

// Start runs a dev server on a free loopback port, stopped when t ends.
func Start(t testing.TB) *Server { return start(t, false) }

// StartTLS runs a dev server that serves TLS with a certificate from its own
// CA (CACert).
func StartTLS(t testing.TB) *Server { return start(t, true) }

func start(t testing.TB, withTLS bool) *Server {
	t.Helper()
	bin := Binary(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	s := &Server{Addr: "http://127.0.0.1:" + strconv.Itoa(port), bin: bin, port: port, t: t}
	if withTLS {
		s.tlsDir = t.TempDir()
		s.Addr = "https://127.0.0.1:" + strconv.Itoa(port)
		s.CACert = filepath.Join(s.tlsDir, "vault-ca.pem")
	}
	s.start()
	t.Cleanup(s.Stop)
	return s
}

func (s *Server) start() {
	s.t.Helper()
	args := []string{"server", "-dev", "-dev-root-token-id=" + RootToken,
		"-dev-listen-address=127.0.0.1:" + strconv.Itoa(s.port), "-dev-no-store-token"}
	if s.tlsDir != "" {
		args = append(args, "-dev-tls", "-dev-tls-cert-dir="+s.tlsDir)
	}
	s.cmd = exec.Command(s.bin, args...)
	s.cmd.Env = append(os.Environ(), "GODEBUG=x509negativeserial=1", "VAULT_ADDR="+s.Addr)
	s.cmd.Stdout, s.cmd.Stderr = nil, nil
	if err := s.cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	s.exited = make(chan struct{})
	go func(c *exec.Cmd, done chan struct{}) { _ = c.Wait(); close(done) }(s.cmd, s.exited)
	deadline := time.Now().Add(60 * time.Second)
	client := http.DefaultClient
	for {
		if s.tlsDir != "" {
			// The CA file appears before it is complete: read it afresh
			// until the server answers with a certificate it signed.
			if pem, err := os.ReadFile(s.CACert); err == nil {
				pool := x509.NewCertPool()
				if pool.AppendCertsFromPEM(pem) {
					client = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
				}
			}
		}
		resp, err := client.Get(s.Addr + "/v1/sys/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		select {
		case <-s.exited:
			s.t.Fatalf("vault dev server exited at start")
		default:
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("vault dev server not healthy after 60s: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop kills the server (its in-memory data is lost).
func (s *Server) Stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	select {
	case <-s.exited:
		return
	default:
	}
	_ = s.cmd.Process.Kill()
	<-s.exited
}

// Restart starts a fresh dev server on the same address (empty, unsealed,
// same root token).
func (s *Server) Restart() {
	s.t.Helper()
	s.Stop()
	s.start()
}

// Client returns a root-token client.
func (s *Server) Client() *api.Client {
	s.t.Helper()
	cfg := api.DefaultConfig()
	cfg.Address = s.Addr
	if s.CACert != "" {
		if err := cfg.ConfigureTLS(&api.TLSConfig{CACert: s.CACert}); err != nil {
			s.t.Fatal(err)
		}
	}
	c, err := api.NewClient(cfg)
	if err != nil {
		s.t.Fatal(err)
	}
	c.SetToken(RootToken)
	return c
}

// PutKV writes a KV v2 secret at mount/path.
func (s *Server) PutKV(mount, path string, data map[string]any) int {
	s.t.Helper()
	v, err := s.Client().KVv2(mount).Put(context.Background(), path, data)
	if err != nil {
		s.t.Fatalf("kv put %s/%s: %v", mount, path, err)
	}
	return v.VersionMetadata.Version
}

// AppRole enables AppRole auth (once) and creates a role bound to a policy
// that may read the given KV v2 paths; it writes role-id and secret-id files
// into dir and returns their paths.
func (s *Server) AppRole(dir, role string, tokenTTL time.Duration, kvPaths ...string) (roleIDFile, secretIDFile string) {
	s.t.Helper()
	c := s.Client()
	auths, err := c.Sys().ListAuth()
	if err != nil {
		s.t.Fatal(err)
	}
	if _, ok := auths["approle/"]; !ok {
		if err := c.Sys().EnableAuthWithOptions("approle", &api.EnableAuthOptions{Type: "approle"}); err != nil {
			s.t.Fatal(err)
		}
	}
	policy := ""
	for _, p := range kvPaths {
		policy += fmt.Sprintf("path %q { capabilities = [\"read\"] }\n", p)
	}
	if err := c.Sys().PutPolicy("custos-"+role, policy); err != nil {
		s.t.Fatal(err)
	}
	if _, err := c.Logical().Write("auth/approle/role/"+role, map[string]any{
		"token_policies": "custos-" + role,
		"token_ttl":      tokenTTL.String(),
		"token_max_ttl":  (20 * tokenTTL).String(),
	}); err != nil {
		s.t.Fatal(err)
	}
	rid, err := c.Logical().Read("auth/approle/role/" + role + "/role-id")
	if err != nil {
		s.t.Fatal(err)
	}
	sid, err := c.Logical().Write("auth/approle/role/"+role+"/secret-id", nil)
	if err != nil {
		s.t.Fatal(err)
	}
	roleIDFile, secretIDFile = filepath.Join(dir, "role-id"), filepath.Join(dir, "secret-id")
	if err := os.WriteFile(roleIDFile, []byte(rid.Data["role_id"].(string)), 0o600); err != nil {
		s.t.Fatal(err)
	}
	if err := os.WriteFile(secretIDFile, []byte(sid.Data["secret_id"].(string)), 0o600); err != nil {
		s.t.Fatal(err)
	}
	return roleIDFile, secretIDFile
}
