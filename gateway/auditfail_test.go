package gateway_test

import (
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/custos-gateway/custos/audit"
	"github.com/custos-gateway/custos/gateway/config"
	"github.com/custos-gateway/custos/policies"
	"github.com/custos-gateway/custos/policy"
)

// mountTmpfs mounts a small tmpfs for the audit log. It needs root; CI runs as
// root and sets CUSTOS_REQUIRE_ROOT_TESTS so that these tests can never be
// skipped there.
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		if os.Getenv("CUSTOS_REQUIRE_ROOT_TESTS") != "" {
			t.Fatal("this test needs root (to mount a tmpfs) and CUSTOS_REQUIRE_ROOT_TESTS is set")
		}
		t.Skip("needs root to mount a tmpfs; run as root (CI does)")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Fatalf("mount tmpfs: %v %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("umount", "-l", dir).Run() })
	return dir
}

func countIntents(t *testing.T, h *harness) int {
	n := 0
	for _, r := range h.records(t) {
		if r.Kind == audit.KindIntent {
			n++
		}
	}
	return n
}

// A full disk: requests are refused with audit_unavailable, nothing reaches
// the provider without a durable intent, and freeing space recovers.
func TestFullDiskFailsClosedAndRecovers(t *testing.T) {
	dir := mountTmpfs(t, "4m")
	// No free-space floor: this is about a disk that fills regardless.
	h := startGatewayWith(t, func(c *config.Config) { c.Audit.MinFreeBytes = new(int64) }, policy.FromFS(policies.FS, "policies"), dir)
	h.allowIncomplete = true // outcomes that could not be written are the point
	send := func() (int, string) {
		resp := h.post(t, "/v1/chat/completions", "application/json", appKey, okBody)
		defer resp.Body.Close()
		if resp.StatusCode == 200 {
			io.Copy(io.Discard, resp.Body)
			return 200, ""
		}
		_, code := openAIError(t, resp)
		return resp.StatusCode, code
	}
	if s, _ := send(); s != 200 {
		t.Fatalf("before: %d", s)
	}
	// Fill the file system.
	filler := filepath.Join(dir, "filler")
	f, err := os.Create(filler)
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 64<<10)
	for {
		if _, err := f.Write(chunk); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			break
		}
	}
	f.Close()
	refused := 0
	for range 3000 {
		s, code := send()
		if s == 200 {
			// The log may still reuse pages it already owns, and the
			// write-ahead file is preallocated: requests are refused once
			// a commit of the batch to the log fails.
			continue
		}
		if s != 503 || code != "audit_unavailable" {
			t.Fatalf("full disk: %d %s, want 503 audit_unavailable", s, code)
		}
		refused++
		if refused >= 5 {
			break
		}
	}
	if refused == 0 {
		t.Fatal("no request was refused on a full disk")
	}
	os.Remove(filler)
	if s, code := send(); s != 200 {
		t.Fatalf("after freeing space: %d %s", s, code)
	}
	// Nothing was forwarded without its intent on disk.
	if intents := countIntents(t, h); intents != h.Sim.Requests() {
		t.Errorf("%d intents for %d forwarded requests", intents, h.Sim.Requests())
	}
}

// Below the free-space floor new work is refused with 503 audit_disk_low
// (and /readyz says so) before the log fills; freeing space recovers.
func TestDiskHeadroomRefusesBeforeTheLogFills(t *testing.T) {
	dir := mountTmpfs(t, "16m")
	floor := int64(8 << 20)
	h := startGatewayWith(t, func(c *config.Config) { c.Audit.MinFreeBytes = &floor }, policy.FromFS(policies.FS, "policies"), dir)
	if resp := h.post(t, "/v1/chat/completions", "application/json", appKey, okBody); resp.StatusCode != 200 {
		t.Fatalf("before: %d", resp.StatusCode)
	}
	filler := filepath.Join(dir, "filler")
	if err := os.WriteFile(filler, make([]byte, 10<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	waitFor := func(want int) (int, string) {
		deadline := time.Now().Add(5 * time.Second)
		for {
			resp := h.post(t, "/v1/chat/completions", "application/json", appKey, okBody)
			code := ""
			if resp.StatusCode != 200 {
				_, code = openAIError(t, resp)
			} else {
				io.Copy(io.Discard, resp.Body)
			}
			if resp.StatusCode == want || time.Now().After(deadline) {
				return resp.StatusCode, code
			}
			time.Sleep(100 * time.Millisecond) // free space is read at most once a second
		}
	}
	if s, code := waitFor(503); s != 503 || code != "audit_disk_low" {
		t.Fatalf("below the floor: %d %s, want 503 audit_disk_low", s, code)
	}
	if s, checks := readyz(t, h); s != 503 || checks["audit"] != "disk space low" {
		t.Errorf("readiness below the floor: %d %v", s, checks)
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	if s, _ := waitFor(200); s != 200 {
		t.Errorf("after freeing space: %d", s)
	}
}
