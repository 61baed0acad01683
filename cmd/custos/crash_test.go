package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// faultRounds is how many kills a crash test makes: 3, or
// CUSTOS_FAULT_ROUNDS for the long fault suite.
func faultRounds() int {
	if n, err := strconv.Atoi(os.Getenv("CUSTOS_FAULT_ROUNDS")); err == nil && n > 0 {
		return n
	}
	return 3
}

// TestAuditSurvivesSIGKILL kills the server with SIGKILL while requests flow,
// over and over on the same log, in both durability modes. Each time the
// log is intact, and every request whose response the client received in
// full has its intent record; under strict durability its outcome record
// too, and under group durability a lost outcome is reported by verify as
// incomplete, never as intact.
func TestAuditSurvivesSIGKILL(t *testing.T) {
	for _, mode := range []string{"strict", "group"} {
		t.Run(mode, func(t *testing.T) { sigkillRounds(t, mode) })
	}
}

func sigkillRounds(t *testing.T, mode string) {
	bin := buildCustos(t)
	dir := t.TempDir()
	auditPath := filepath.Join(dir, "audit.db")
	acked := map[string]bool{}
	for round := range faultRounds() {
		srv := startServe(t, dir, []string{"CUSTOS_AUDIT_DURABILITY=" + mode}, "serve", "--dev", "--dev-key", "cst_crash", "--listen", "127.0.0.1:0", "--audit", auditPath)
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
		time.Sleep(time.Duration(600+200*(round%4)) * time.Millisecond)
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
		noIntent, noOutcome := 0, 0
		for id := range acked {
			if !intents[id] {
				noIntent++
			}
			if !outcomes[id] {
				noOutcome++
			}
		}
		t.Logf("round %d: %d acknowledged responses so far, %d records; %d acknowledged lack an outcome (reported incomplete)",
			round, len(acked), len(outcomes)+len(intents), noOutcome)
		switch {
		case len(acked) == 0:
			t.Fatalf("round %d: no request completed before the kill", round)
		case noIntent > 0:
			t.Errorf("round %d: %d acknowledged responses lack their intent record", round, noIntent)
		case mode == "strict" && noOutcome > 0:
			t.Errorf("round %d: strict durability, yet %d acknowledged responses lack their outcome record", round, noOutcome)
		case noOutcome > 0 && !incomplete:
			t.Errorf("round %d: %d outcomes lost, yet verify did not report the log incomplete", round, noOutcome)
		}
	}
}
