package main

import (
	"bufio"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/custos-gateway/custos/policies"
)

func copyPolicies(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.CopyFS(dir, policies.FS); err != nil {
		t.Fatal(err)
	}
	return dir
}

func run(t *testing.T, bin string, args ...string) (string, int) {
	t.Helper()
	out, err := exec.Command(bin, args...).CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return string(out), code
}

func TestPolicyCommands(t *testing.T) {
	bin := buildCustos(t)

	out, code := run(t, bin, "policy", "test")
	if code != 0 || !regexp.MustCompile(`(?m)^\d+ passed, 0 failed$`).MatchString(out) {
		t.Errorf("policy test (embedded): exit %d\n%s", code, out)
	}
	out, code = run(t, bin, "policy", "check")
	if code != 0 || strings.TrimSpace(out) != "ok" {
		t.Errorf("policy check (embedded): exit %d\n%s", code, out)
	}

	// A failing Rego test makes `policy test` exit 1.
	dir := copyPolicies(t)
	p := filepath.Join(dir, "custos_test.rego")
	b, _ := os.ReadFile(p)
	os.WriteFile(p, []byte(strings.Replace(string(b), `d.actions == {"EMAIL": "mask"}`, `d.actions == {"EMAIL": "allow"}`, 1)), 0o644)
	out, code = run(t, bin, "policy", "test", dir)
	if code != 1 || !strings.Contains(out, "FAIL data.custos_test.test_emails_masked") {
		t.Errorf("policy test with a failing test: exit %d\n%s", code, out)
	}

	// An unformatted file and a deny rule without METADATA fail `policy check`.
	dir = copyPolicies(t)
	os.WriteFile(filepath.Join(dir, "extra.rego"), []byte("package custos\n\ndeny contains r if {\n  input.app == \"x\"\n  r := {\"code\": \"x\", \"message\": \"m\"}\n}\n"), 0o644)
	out, code = run(t, bin, "policy", "check", dir)
	for _, want := range []string{"extra.rego: not formatted", "no METADATA custom.code", "no METADATA custom.control"} {
		if code != 1 || !strings.Contains(out, want) {
			t.Errorf("policy check: exit %d, want %q in\n%s", code, want, out)
		}
	}

	// eval prints the decision and the rules that fired.
	in := filepath.Join(t.TempDir(), "input.json")
	os.WriteFile(in, []byte(`{"tenant":"st-marys","app":"clinical-assistant","purpose":"marketing","model":"gpt-4o",
		"candidates":[{"endpoint":"azure-openai-eu","provider":"azure","region":"eu-west","jurisdiction":"eu"}],
		"findings":{"CREDIT_CARD":1}}`), 0o644)
	out, code = run(t, bin, "policy", "eval", "--input", in)
	for _, want := range []string{`"allow": false`, "deny rules that fired:", "Purpose limitation [purpose_not_permitted]", "Blocked data classes [pii_blocked]", `"sha256": "`} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("policy eval: exit %d, want %q in\n%s", code, want, out)
		}
	}
	os.WriteFile(in, []byte(`{"tenant":"st-marys","prompt":"text is not policy input"}`), 0o644)
	if out, code = run(t, bin, "policy", "eval", "--input", in); code != 1 || !strings.Contains(out, `unknown field "prompt"`) {
		t.Errorf("policy eval with an unknown field: exit %d\n%s", code, out)
	}
}

// TestServeReloadsPoliciesOnSIGHUP: with watching off, an officer's edit takes
// effect on SIGHUP, and a broken edit leaves the last good set serving.
func TestServeReloadsPoliciesOnSIGHUP(t *testing.T) {
	dir := copyPolicies(t)
	srv := startServe(t, t.TempDir(), []string{"CUSTOS_POLICY_WATCH=false"},
		"serve", "--dev", "--dev-key", "cst_hup", "--listen", "127.0.0.1:0", "--policies", dir)
	addr, cmd, stderr := srv.addr, srv.cmd, srv.stderr
	status := func() int {
		req, _ := http.NewRequest(http.MethodPost, addr+"/v1/chat/completions",
			strings.NewReader(`{"model":"echo","messages":[{"role":"user","content":"hi"}]}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer cst_hup")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if s := status(); s != 200 {
		t.Fatalf("before the edit: %d", s)
	}
	// The officer removes echo from the dev tenant's models.
	p := filepath.Join(dir, "tenants", "data.json")
	b, _ := os.ReadFile(p)
	os.WriteFile(p, []byte(strings.Replace(string(b), `"models": ["echo"]`, `"models": []`, 1)), 0o644)
	time.Sleep(300 * time.Millisecond)
	if s := status(); s != 200 {
		t.Fatalf("with watching off, the edit applied before SIGHUP: %d", s)
	}
	waitStatus := func(want int) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for status() != want {
			if time.Now().After(deadline) {
				t.Fatalf("status never became %d; stderr:\n%s", want, stderr.String())
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	cmd.Process.Signal(syscall.SIGHUP)
	waitStatus(403)

	// A broken edit is refused on SIGHUP; the last good set keeps deciding.
	os.WriteFile(filepath.Join(dir, "access.rego"), []byte("package custos\n\ndeny contains r if {\n"), 0o644)
	cmd.Process.Signal(syscall.SIGHUP)
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(stderr.String(), "policy reload refused") {
		if time.Now().After(deadline) {
			t.Fatalf("broken edit not reported; stderr:\n%s", stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if s := status(); s != 403 {
		t.Errorf("after a refused edit: %d, want the last good set's 403", s)
	}
}

// served is a running `custos serve` child process.
type served struct {
	addr   string
	cmd    *exec.Cmd
	stderr *lockedBuffer
	exited chan struct{}
}

// startServe runs the built binary with args in dir (extra environment in
// env), waits for the address it prints, and kills it when the test ends
// unless the test has stopped it.
func startServe(t *testing.T, dir string, env []string, args ...string) *served {
	t.Helper()
	cmd := exec.Command(buildCustos(t), args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	stdout, _ := cmd.StdoutPipe()
	s := &served{cmd: cmd, stderr: &lockedBuffer{}}
	cmd.Stderr = s.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	sc := bufio.NewScanner(stdout)
	for s.addr == "" && sc.Scan() {
		if m := regexp.MustCompile(`listening on (http://\S+)`).FindStringSubmatch(sc.Text()); m != nil {
			s.addr = m[1]
		}
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	if s.addr == "" {
		t.Fatalf("custos %v did not start; stderr:\n%s", args, s.stderr.String())
	}
	s.exited = exited
	return s
}

// lockedBuffer collects a child's output while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
