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
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/custos-gateway/custos/audit"
	"github.com/custos-gateway/custos/audit/ledger"
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
// incomplete, never as intact. The dev tenant pays from prepaid credit,
// cut after the first round to a few dozen requests' worth so that later
// storms run it dry: after every kill the journal verifies and reconciles
// with the audit costs, no request is charged twice, and a restart holds
// nothing.
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
	topUps := int64(10_000_000) // the dev credit, then each round's refill
	var pending int64           // costs the last kill left in the write-ahead file
	var refused atomic.Int64    // 402s: the storm ran the credit dry
	for round := range faultRounds() {
		if round >= 1 {
			// A few dozen requests' worth each round: every storm serves some
			// and then runs the balance dry.
			topUps += setCredit(t, bin, dir, auditPath, 8000)
		}
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
					body := `{"model":"echo","max_tokens":100,"messages":[{"role":"user","content":"round ` + string(rune('a'+round)) + ` request"}]`
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
					if resp.StatusCode == http.StatusPaymentRequired {
						refused.Add(1)
					}
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
		pending = checkJournal(t, bin, dir, auditPath, exp, round, topUps)
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
	if faultRounds() > 1 && refused.Load() == 0 {
		t.Errorf("no request was refused for credit: the storms never ran the balance dry")
	}
	restartHoldsNothing(t, dir, mode, auditPath, pending)
}

// setCredit sets the dev account's credit, offline on the killed
// server's log, to keep micro-units (a top-up or an expiry).
func setCredit(t *testing.T, bin, dir, auditPath string, keep int64) (toppedUp int64) {
	t.Helper()
	bals, err := ledger.Balances(auditPath)
	if err != nil || len(bals) != 1 || bals[0].Account != "dev" {
		t.Fatalf("balances %+v %v", bals, err)
	}
	op := "expire"
	if bals[0].Micros < keep {
		op = "topup"
	}
	amount := ledger.FormatAmount(keep - bals[0].Micros)
	out, err := exec.Command(bin, "credit", "topup", "--db", auditPath, "--account", "dev", "--op", op, "--amount", amount,
		"--currency", "USD", "--signing-key", filepath.Join(dir, "audit-signing.pem")).CombinedOutput()
	if err != nil {
		t.Fatalf("credit %s %s: %v\n%s", op, amount, err, out)
	}
	if op == "topup" {
		return keep - bals[0].Micros
	}
	return 0
}

// checkJournal: after a kill the journal verifies and reconciles with the
// audit records' costs, and no request carries two charges. It returns the
// costs of the records the kill left in the write-ahead file, which the
// next start charges.
func checkJournal(t *testing.T, bin, dir, auditPath string, export []byte, round int, topUps int64) (pending int64) {
	t.Helper()
	out, err := exec.Command(bin, "credit", "verify", "--json", "--db", auditPath, "--pubkey", filepath.Join(dir, "audit-signing.pem.pub")).Output()
	var rep struct {
		Audit  audit.Report  `json:"audit"`
		Ledger ledger.Report `json:"ledger"`
	}
	if err != nil || json.Unmarshal(out, &rep) != nil || len(rep.Ledger.Accounts) != 1 {
		t.Fatalf("round %d: credit verify: %v\n%s", round, err, out)
	}
	charged := map[string]int{}
	var costs int64
	for _, line := range bytes.Split(bytes.TrimSpace(export), []byte("\n")) {
		var r struct {
			Seq       uint64 `json:"seq"`
			RequestID string `json:"request_id"`
			Cost      *struct {
				Micros int64 `json:"micros"`
			} `json:"cost"`
		}
		if json.Unmarshal(line, &r) == nil && r.Cost != nil {
			charged[r.RequestID]++
			// Records the kill left in the write-ahead file are exported
			// but charged when the next start commits them.
			if r.Seq <= rep.Audit.LastSeq {
				costs += r.Cost.Micros
			} else {
				pending += r.Cost.Micros
			}
		}
	}
	for id, n := range charged {
		if n > 1 {
			t.Errorf("round %d: %s charged %d times", round, id, n)
		}
	}
	a := rep.Ledger.Accounts[0]
	if a.Charges != costs || a.AuditCosts != costs || a.Credits-a.Charges != a.Balance || a.Balance < 0 || a.TopUps != topUps {
		t.Errorf("round %d: journal %+v, audit costs %d: want charges = audit costs = credits − balance, top-ups %d", round, a, costs, topUps)
	}
	return pending
}

// restartHoldsNothing starts the server once more on the log: what the
// killed servers held is released, and the balance is the journal's less
// the pending costs the start charges as it commits the records the last
// kill left in the write-ahead file.
func restartHoldsNothing(t *testing.T, dir, mode, auditPath string, pending int64) {
	t.Helper()
	bals, err := ledger.Balances(auditPath)
	if err != nil || len(bals) != 1 {
		t.Fatalf("balances %+v %v", bals, err)
	}
	t.Logf("restart: journal balance %d, %d pending in the write-ahead file", bals[0].Micros, pending)
	srv := startServe(t, dir, []string{"CUSTOS_AUDIT_DURABILITY=" + mode}, "serve", "--dev", "--dev-key", "cst_crash", "--listen", "127.0.0.1:0", "--audit", auditPath)
	req, _ := http.NewRequest(http.MethodGet, srv.addr+"/v1/credits", nil)
	req.Header.Set("Authorization", "Bearer cst_crash")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var c struct {
		Balance  int64 `json:"balance_micros"`
		Reserved int64 `json:"reserved_micros"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&c); err != nil || c.Reserved != 0 || c.Balance != bals[0].Micros-pending {
		t.Errorf("after the kills: credits %+v (%v), want nothing reserved and the journal's balance %d less %d pending",
			c, err, bals[0].Micros, pending)
	}
}
