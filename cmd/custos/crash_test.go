package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestAuditSurvivesSIGKILL kills the server with SIGKILL while requests flow,
// three times over the same log. Each time the log verifies, and every
// request whose response the client received in full has its records.
func TestAuditSurvivesSIGKILL(t *testing.T) {
	bin := buildCustos(t)
	dir := t.TempDir()
	auditPath := filepath.Join(dir, "audit.db")
	acked := map[string]bool{}
	for round := range 3 {
		srv := startServe(t, dir, nil, "serve", "--dev", "--dev-key", "cst_crash", "--listen", "127.0.0.1:0", "--audit", auditPath)
		addr, cmd := srv.addr, srv.cmd

		var mu sync.Mutex
		var wg sync.WaitGroup
		stop := make(chan struct{})
		client := &http.Client{Timeout: 10 * time.Second}
		for g := range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					stream := (g+i)%2 == 0
					body := `{"model":"echo","messages":[{"role":"user","content":"round ` + string(rune('a'+round)) + ` request"}]`
					if stream {
						body += `,"stream":true`
					}
					req, _ := http.NewRequest(http.MethodPost, addr+"/v1/chat/completions", strings.NewReader(body+"}"))
					req.Header.Set("Content-Type", "application/json")
					req.Header.Set("Authorization", "Bearer cst_crash")
					resp, err := client.Do(req)
					if err != nil {
						continue // the server is gone
					}
					b, err := io.ReadAll(resp.Body)
					resp.Body.Close()
					complete := err == nil && resp.StatusCode == 200 &&
						(!stream || bytes.HasSuffix(bytes.TrimSpace(b), []byte("data: [DONE]")))
					if complete {
						mu.Lock()
						acked[resp.Header.Get("x-custos-request-id")] = true
						mu.Unlock()
					}
				}
			}()
		}
		time.Sleep(time.Duration(600+200*round) * time.Millisecond)
		_ = cmd.Process.Signal(syscall.SIGKILL)
		<-srv.exited
		close(stop)
		wg.Wait()

		// Requests in flight at the kill have intents without outcomes: the
		// log is intact but incomplete (exit 3), never tampered (exit 1).
		out, err := exec.Command(bin, "audit", "verify", "--db", auditPath, "--pubkey", filepath.Join(dir, "audit-signing.pem.pub")).CombinedOutput()
		var ee *exec.ExitError
		incomplete := errors.As(err, &ee) && ee.ExitCode() == 3
		if (err != nil && !incomplete) || strings.Contains(string(out), "TAMPERED") {
			t.Fatalf("round %d: verify after SIGKILL: %v\n%s", round, err, out)
		}
		exp, err := exec.Command(bin, "audit", "export", "--db", auditPath, "--format", "jsonl").Output()
		if err != nil {
			t.Fatal(err)
		}
		outcomes, intents := map[string]bool{}, map[string]bool{}
		for _, line := range bytes.Split(bytes.TrimSpace(exp), []byte("\n")) {
			var r struct {
				Kind      string `json:"kind"`
				RequestID string `json:"request_id"`
			}
			if err := json.Unmarshal(line, &r); err != nil {
				t.Fatal(err)
			}
			switch r.Kind {
			case "outcome":
				outcomes[r.RequestID] = true
			case "intent":
				intents[r.RequestID] = true
			}
		}
		missing := 0
		for id := range acked {
			if !outcomes[id] || !intents[id] {
				missing++
			}
		}
		t.Logf("round %d: %d acknowledged responses so far, %d records", round, len(acked), len(outcomes)+len(intents))
		if len(acked) == 0 {
			t.Fatalf("round %d: no request completed before the kill", round)
		}
		if missing > 0 {
			t.Errorf("round %d: %d acknowledged responses lack their intent or outcome record", round, missing)
		}
	}
}
