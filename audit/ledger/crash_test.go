package ledger_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/custos-gateway/custos/audit"
	"github.com/custos-gateway/custos/audit/ledger"
)

const crashChildEnv = "CUSTOS_LEDGER_CRASH_CHILD"

func TestMain(m *testing.M) {
	if path := os.Getenv(crashChildEnv); path != "" {
		crashChild(path) // runs until killed
		return
	}
	os.Exit(m.Run())
}

// crashChild accounts requests as the gateway does, from 16 goroutines,
// until it is killed: reserve, durable intent, then settle (the outcome
// deferred) or, for one in five, release and an uncharged outcome.
func crashChild(path string) {
	led, log, err := ledger.OpenBolt(path, audit.Options{Instance: "child"}, ledger.Options{})
	if err != nil {
		fmt.Println("open:", err)
		os.Exit(2)
	}
	ctx := context.Background()
	if _, err := led.Account(ctx, "st-marys"); err != nil {
		led.Credit(ctx, audit.Credit{Op: audit.CreditTopUp, Account: "st-marys", Micros: 1 << 50, Currency: "USD"})
	}
	var n atomic.Int64
	pid := os.Getpid()
	for g := range 16 {
		go func() {
			for i := 0; ; i++ {
				id := fmt.Sprintf("p%d-g%d-%d", pid, g, i)
				h, err := led.Reserve(ctx, ledger.Request{RequestID: id, Tenant: "st-marys", App: "a", Currency: "USD", MaxMicros: 1000})
				if err != nil {
					continue
				}
				rc, err := log.Append(ctx, audit.Record{Kind: audit.KindIntent, RequestID: id, Tenant: "st-marys"})
				if err != nil {
					continue
				}
				out := audit.Record{Kind: audit.KindOutcome, IntentSeq: rc.Seq, Tokens: &audit.Tokens{Prompt: 10, Completion: int64(i % 50)}}
				if i%5 == 4 {
					led.Release(ctx, h)
					out.RequestID = id
					log.AppendDeferred(out)
				} else {
					led.Settle(ctx, h, ledger.Charge{Micros: int64(1 + (i*37)%1000), Currency: "USD"}, out)
				}
				if n.Add(1) == 200 {
					fmt.Println("storming")
				}
			}
		}()
	}
	select {}
}

// TestKillDuringAStorm kills a process accounting requests with SIGKILL,
// three times over the same file. Each time the log verifies (intact,
// perhaps incomplete), the journal reconciles with the audit costs and the
// credits to the micro-unit, no request is charged twice, and the reopened
// ledger holds no reservation.
func TestKillDuringAStorm(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.db")
	for round := range 3 {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), crashChildEnv+"="+path)
		stdout, _ := cmd.StdoutPipe()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		line, err := bufio.NewReader(stdout).ReadString('\n')
		if err != nil || line != "storming\n" {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("round %d: child said %q, %v", round, line, err)
		}
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()

		// What the kill left in the write-ahead file is durable; a restart
		// commits it, applying the charges it holds, before anything else.
		pre, err := audit.Verify(path, audit.VerifyOptions{})
		if err != nil || !pre.Intact() {
			t.Fatalf("round %d: audit after SIGKILL: %+v %v", round, pre, err)
		}
		_, restarted, err := ledger.OpenBolt(path, audit.Options{}, ledger.Options{})
		if err != nil {
			t.Fatalf("round %d: restart: %v", round, err)
		}
		if got := restarted.Stats().Recovered; got != pre.Pending {
			t.Errorf("round %d: restart committed %d records, verify counted %d pending", round, got, pre.Pending)
		}
		restarted.Close()
		arep, err := audit.Verify(path, audit.VerifyOptions{})
		if err != nil || !arep.Intact() || arep.Pending != 0 || arep.LastSeq != pre.LastSeq+pre.Pending {
			t.Fatalf("round %d: audit after the restart: %+v %v", round, arep, err)
		}
		rep, err := ledger.VerifyFiles([]string{path})
		if err != nil || !rep.OK() || len(rep.Accounts) != 1 {
			t.Fatalf("round %d: journal after SIGKILL: %+v %v", round, rep, err)
		}
		a := rep.Accounts[0]
		if a.Charges != a.AuditCosts || a.TopUps-a.Charges != a.Balance || a.Balance != a.Stored {
			t.Fatalf("round %d: does not reconcile: %+v", round, a)
		}
		led, log, err := ledger.OpenBolt(path, audit.Options{}, ledger.Options{})
		if err != nil {
			t.Fatal(err)
		}
		acct, err := led.Account(context.Background(), "st-marys")
		if err != nil || acct.Reserved != 0 || acct.Balance != a.Balance || led.Stats().Holds != 0 {
			t.Errorf("round %d: reopened: %+v %v", round, acct, err)
		}
		log.Close()
		incomplete := 0
		if arep.Incomplete != nil {
			incomplete = arep.Incomplete.Count
		}
		t.Logf("round %d: %d records (%d committed at the restart), %d requests charged %d micro-units, %d requests left incomplete by the kill",
			round, arep.Verified, pre.Pending, a.Requests, a.Charges, incomplete)
	}
}
