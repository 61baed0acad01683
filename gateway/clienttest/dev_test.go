package clienttest_test

import (
	"context"
	"crypto/ed25519"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/custos-gateway/custos/audit"
	"github.com/custos-gateway/custos/gateway"
	"github.com/custos-gateway/custos/gateway/auth"
	"github.com/custos-gateway/custos/gateway/config"
)

const devKey = "cst_test_clients_dev_0123456789"

// devCustos is the gateway `custos serve --dev` runs: its embedded
// configuration (tenant dev, the echo provider) served through gateway.Run.
type devCustos struct {
	URL       string // with /v1
	auditPath string
	auditPub  ed25519.PublicKey
	stop      func()
}

// startDev runs the dev configuration until the test ends.
func startDev(t testing.TB) *devCustos {
	t.Helper()
	dir := t.TempDir()
	hash, _ := auth.HashKey(devKey)
	keyFile := filepath.Join(dir, "audit-signing.pem")
	signer, err := audit.GenerateKeyFiles(keyFile, keyFile+".pub")
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.Dev("127.0.0.1:0", hash, filepath.Join(dir, "audit.db"), keyFile)
	cfg.Policy.Timeout = config.Duration(5 * time.Second)
	if err := cfg.Validate(); err != nil {
		t.Fatalf("dev config: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	addr := make(chan net.Addr, 1)
	done := make(chan error, 1)
	go func() {
		done <- gateway.Run(ctx, cfg, gateway.Deps{OnListen: func(a net.Addr) { addr <- a }})
	}()
	d := &devCustos{auditPath: cfg.Audit.Path, auditPub: signer.Public()}
	select {
	case a := <-addr:
		d.URL = "http://" + a.String() + "/v1"
	case err := <-done:
		cancel()
		t.Fatalf("the dev gateway did not start: %v", err)
	}
	stopped := false
	d.stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("dev gateway: %v", err)
		}
	}
	t.Cleanup(d.stop)
	return d
}

// records stops the dev gateway and returns its verified audit records.
func (d *devCustos) records(t testing.TB) []audit.Record {
	t.Helper()
	d.stop()
	return readAudit(t, d.auditPath, d.auditPub)
}
