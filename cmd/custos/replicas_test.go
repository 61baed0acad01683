package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/custos-gateway/custos/audit/ledger"
	"github.com/custos-gateway/custos/audit/ledger/pgledger"
	"github.com/custos-gateway/custos/audit/ledger/pgledger/pgtest"
	"github.com/custos-gateway/custos/gateway/auth"
	"github.com/custos-gateway/custos/gateway/providertest"
	"github.com/custos-gateway/custos/policies"
	"github.com/custos-gateway/custos/policy"
	"github.com/custos-gateway/custos/policy/pricing"
)

// fleet is several `custos serve` processes sharing one ledger, in front
// of one provider simulator.
type fleet struct {
	t                         *testing.T
	dir, backend, dsn         string
	n                         int
	sim                       *providertest.OpenAI
	appKey, bankKey, finKey   string
	appHash, bankHash, finHsh string
	srvs                      []*served
}

func newFleet(t *testing.T, backend, dsn string, n int, holdTTL string) *fleet {
	f := &fleet{t: t, dir: t.TempDir(), backend: backend, dsn: dsn, n: n, sim: providertest.NewOpenAI(t)}
	f.appKey, f.appHash, _, _ = auth.NewKey()
	f.bankKey, f.bankHash, _, _ = auth.NewKey()
	f.finKey, f.finHsh, _, _ = auth.NewKey()
	bin := buildCustos(t)
	for i := range n {
		if out, err := exec.Command(bin, "audit", "keygen", "--out", f.path(i, ".pem")).CombinedOutput(); err != nil {
			t.Fatalf("keygen: %v %s", err, out)
		}
		if err := os.WriteFile(f.path(i, ".yaml"), []byte(f.config(i, holdTTL)), 0o600); err != nil {
			t.Fatal(err)
		}
		f.srvs = append(f.srvs, f.start(i))
	}
	return f
}

func (f *fleet) path(i int, ext string) string {
	return filepath.Join(f.dir, fmt.Sprintf("r%d%s", i, ext))
}

func (f *fleet) start(i int) *served {
	return startServe(f.t, f.dir, nil, "serve", "--config", f.path(i, ".yaml"))
}

// config is replica i's configuration: a prepaid hospital, an unbilled
// bank, a finance key, the ledger.
func (f *fleet) config(i int, holdTTL string) string {
	ledgerCfg := "  ledger: bbolt\n"
	if f.backend == "postgres" {
		ledgerCfg = fmt.Sprintf("  ledger: postgres\n  postgres: {dsn: %q}\n  replicas: %d\n", f.dsn, f.n)
	}
	return fmt.Sprintf(`listen: 127.0.0.1:0
server: {max_connections_per_client: 2048}
audit: {path: %[1]s.db, signing_key_file: %[1]s.pem, checkpoint_file: %[1]s.checkpoints, instance: r%[2]d}
accounting:
%[3]s  hold_ttl: %[4]s
  finance: [{id: finance, keys: [{id: kf, sha256: %[5]s}]}]
tenants:
  - id: st-marys
    billing: prepaid
    apps: [{id: clinical-assistant, purpose: treatment, keys: [{id: k1, sha256: %[6]s}]}]
  - id: northbank
    apps: [{id: support-bot, purpose: customer-support, keys: [{id: k2, sha256: %[7]s}]}]
endpoints:
  - {name: azure-openai-eu, kind: openai, provider: azure, base_url: %[8]q, region: eu-west, models: [gpt-4o-mini], keyless: true}
`, filepath.Join(f.dir, fmt.Sprintf("r%d", i)), i, ledgerCfg, holdTTL, f.finHsh, f.appHash, f.bankHash, f.sim.URL)
}

// do sends one request to replica i and returns its status and body.
func (f *fleet) do(i int, method, path, key, body string) (int, string) {
	req, _ := http.NewRequest(method, f.srvs[i].addr+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// credits reads the hospital's account through replica i's finance route.
func (f *fleet) credits(i int) (balance, reserved, available int64) {
	status, body := f.do(i, http.MethodGet, "/admin/credits?account=st-marys", f.finKey, "")
	var c struct {
		Balance   int64 `json:"balance_micros"`
		Reserved  int64 `json:"reserved_micros"`
		Available int64 `json:"available_micros"`
	}
	if status != 200 || json.Unmarshal([]byte(body), &c) != nil {
		f.t.Errorf("credits on r%d: %d %s", i, status, body)
	}
	return c.Balance, c.Reserved, c.Available
}

// stop ends every replica still running with SIGTERM (a drain).
func (f *fleet) stop() {
	for _, s := range f.srvs {
		select {
		case <-s.exited:
			continue
		default:
		}
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		<-s.exited
	}
}

const stormBody = `{"model":"gpt-4o-mini","max_tokens":256,"messages":[{"role":"user","content":"Summarise the handover for bed 7 in two lines."}]}`

// maxHold is the most one storm request may hold: its whole body taken as
// the prompt bound (the gateway's bound is lower).
func maxHold(t *testing.T) int64 {
	e, err := policy.New(context.Background(), policy.FromFS(policies.FS, "policies"), policy.Options{})
	if err != nil {
		t.Fatal(err)
	}
	table, _ := e.Prices()
	c, err := table.MaxCost(pricing.Request{PromptTokens: int64(len(stormBody)) + 64, MaxTokens: 256}, "gpt-4o-mini", "azure-openai-eu", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return c.Amount
}

// storm sends n concurrent requests spread over the replicas, half of them
// streamed, and counts the answers by status; kill, when set, runs once a
// tenth of them have been answered.
func (f *fleet) storm(n int, kill func()) map[int]int {
	var mu sync.Mutex
	statuses := map[int]int{}
	var answered atomic.Int64
	var once sync.Once
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			body := stormBody
			if i%2 == 1 {
				body = strings.Replace(body, `"max_tokens":256,`, `"max_tokens":256,"stream":true,`, 1)
			}
			status, _ := f.do(i%f.n, http.MethodPost, "/v1/chat/completions", f.appKey, body)
			mu.Lock()
			statuses[status]++
			mu.Unlock()
			if kill != nil && answered.Add(1) == int64(n/10) {
				once.Do(kill)
			}
		}()
	}
	close(start)
	wg.Wait()
	return statuses
}

// watchBalance samples the account on replica 0 until stop closes and
// counts the samples whose holds exceeded the balance.
func (f *fleet) watchBalance(stop <-chan struct{}) <-chan int {
	out := make(chan int, 1)
	go func() {
		over := 0
		for {
			select {
			case <-stop:
				out <- over
				return
			case <-time.After(20 * time.Millisecond):
			}
			if _, _, avail := f.credits(0); avail < 0 {
				over++
			}
		}
	}()
	return out
}

// auditCosts exports a replica's log and sums the costs its outcome
// records charge to the hospital, by request id.
func auditCosts(t *testing.T, path string) (map[string]int64, map[string]bool) {
	t.Helper()
	out, err := exec.Command(buildCustos(t), "audit", "export", "--db", path, "--format", "jsonl").Output()
	if err != nil {
		t.Fatalf("export %s: %v", path, err)
	}
	costs, intents := map[string]int64{}, map[string]bool{}
	for _, line := range bytes.Split(bytes.TrimSpace(out), []byte("\n")) {
		var r struct {
			Kind      string `json:"kind"`
			RequestID string `json:"request_id"`
			Cost      *struct {
				Micros  int64  `json:"micros"`
				Account string `json:"account"`
			} `json:"cost"`
		}
		if json.Unmarshal(line, &r) != nil {
			t.Fatalf("%s: unreadable record", path)
		}
		if r.Kind == "intent" {
			intents[r.RequestID] = true
		}
		if r.Kind == "outcome" && r.Cost != nil && r.Cost.Account == "st-marys" {
			costs[r.RequestID] = r.Cost.Micros
		}
	}
	return costs, intents
}

// journal is the hospital's account as the ledger's own verification
// replays it, and the charges it holds per request.
type journal struct {
	topups, charges, balance int64
	byRequest                map[string]int64
	missing                  []pgledger.Pair
}

func (f *fleet) journal() journal {
	t := f.t
	var dbs []string
	for i := range f.n {
		dbs = append(dbs, "--db", f.path(i, ".db"))
	}
	if f.backend == "bbolt" {
		out, err := exec.Command(buildCustos(t), append([]string{"credit", "verify", "--json", "--pubkey", f.path(0, ".pem.pub")}, dbs...)...).Output()
		var rep struct {
			Ledger ledger.Report `json:"ledger"`
		}
		if err != nil || json.Unmarshal(out, &rep) != nil || len(rep.Ledger.Accounts) != 1 {
			t.Fatalf("credit verify: %v %s", err, out)
		}
		a := rep.Ledger.Accounts[0]
		return journal{topups: a.TopUps, charges: a.Charges, balance: a.Balance}
	}
	out, err := exec.Command(buildCustos(t), append([]string{"credit", "reconcile", "--json", "--postgres", f.dsn}, dbs...)...).Output()
	var ee *exec.ExitError
	var rep struct {
		Ledger pgledger.Report         `json:"ledger"`
		Rec    pgledger.Reconciliation `json:"reconciliation"`
	}
	if (err != nil && !errors.As(err, &ee)) || json.Unmarshal(out, &rep) != nil || !rep.Ledger.OK() || len(rep.Ledger.Accounts) != 1 {
		t.Fatalf("credit reconcile: %v %s", err, out)
	}
	if len(rep.Rec.Uncharged) > 0 || len(rep.Rec.Different) > 0 {
		t.Errorf("reconciliation: %d uncharged, %d different", len(rep.Rec.Uncharged), len(rep.Rec.Different))
	}
	a := rep.Ledger.Accounts[0]
	return journal{topups: a.TopUps, charges: a.Charges, balance: a.Balance, missing: rep.Rec.MissingOutcome}
}

// checkStorm: every 200 was paid for and none of the refused reached the
// provider; the journal, the replicas' audit costs and the balance agree.
func (f *fleet) checkStorm(statuses map[int]int, credit int64, killed int) {
	t := f.t
	// With a replica killed mid-storm, its holds (up to its third of the
	// credit) stay held until their TTL and its requests die with it, so
	// fewer are served before the credit runs dry.
	minServed := 100
	if killed >= 0 {
		minServed = 50
	}
	if statuses[200] < minServed || statuses[402] == 0 || statuses[200]+statuses[402]+statuses[0] != 600 || (killed < 0 && statuses[0] > 0) {
		t.Errorf("statuses %v: want about 150 served, the rest refused with 402", statuses)
	}
	if f.sim.Requests() < statuses[200] || (killed < 0 && f.sim.Requests() != statuses[200]) {
		t.Errorf("the provider saw %d requests for %d served", f.sim.Requests(), statuses[200])
	}
	j := f.journal()
	var costs int64
	for i := range f.n {
		c, intents := auditCosts(t, f.path(i, ".db"))
		for _, m := range c {
			costs += m
		}
		for _, miss := range j.missing {
			if miss.Replica == fmt.Sprintf("r%d", i) && (i != killed || !intents[miss.RequestID]) {
				t.Errorf("charged without an outcome on r%d (killed: r%d): %+v", i, killed, miss)
			}
		}
	}
	var missing int64
	for _, m := range j.missing {
		missing += m.Micros
	}
	if j.topups != credit || j.charges != costs+missing || j.topups-j.balance != j.charges || j.balance < 0 {
		t.Errorf("journal %+v (missing outcomes %d), audit costs %d, credit %d", j, missing, costs, credit)
	}
	t.Logf("%s, %d replicas: statuses %v (0: the connection died with its replica); charged %s of %s; %d charges without an outcome record",
		f.backend, f.n, statuses, ledger.FormatAmount(j.charges), ledger.FormatAmount(credit), len(j.missing))
}

// 600 concurrent requests over three replicas on one PostgreSQL ledger
// (and over one replica on the bbolt ledger) against credit for about
// 150: holds never exceed the balance, the rest are refused with 402
// before any provider call, and the journal, the audit logs' costs and
// the balance agree to the micro-unit.
func TestReplicasShareOneLedger(t *testing.T) {
	cluster, err := pgtest.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cluster.Close() })
	for _, c := range []struct {
		backend string
		n       int
	}{{"postgres", 3}, {"bbolt", 1}} {
		t.Run(fmt.Sprintf("%s/%d", c.backend, c.n), func(t *testing.T) {
			f := newFleet(t, c.backend, cluster.Database(t), c.n, "15m")
			f.sim.SetDefault(providertest.Behaviour{Latency: 300 * time.Millisecond})
			credit := 150 * maxHold(t)
			if status, body := f.do(0, http.MethodPost, "/admin/credits", f.finKey,
				fmt.Sprintf(`{"account":"st-marys","amount":%q,"currency":"USD","reference":"INV-1"}`, ledger.FormatAmount(credit))); status != 200 {
				t.Fatalf("top-up: %d %s", status, body)
			}
			stop := make(chan struct{})
			over := f.watchBalance(stop)
			statuses := f.storm(600, nil)
			close(stop)
			if n := <-over; n > 0 {
				t.Errorf("the holds exceeded the balance in %d samples", n)
			}
			f.stop()
			f.checkStorm(statuses, credit, -1)
			f.checkMergedExport()
		})
	}
}

// One of three replicas killed with SIGKILL mid-storm: the others release
// its holds once their TTL has passed, and the journal still reconciles
// with the audit logs (a charge whose outcome record died with the killed
// replica is listed, and was forwarded: its intent is in that log).
func TestKilledReplicasHoldsAreReclaimed(t *testing.T) {
	cluster, err := pgtest.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cluster.Close() })
	f := newFleet(t, "postgres", cluster.Database(t), 3, "3s")
	f.sim.SetDefault(providertest.Behaviour{Latency: 1500 * time.Millisecond})
	credit := 150 * maxHold(t)
	if status, body := f.do(0, http.MethodPost, "/admin/credits", f.finKey,
		fmt.Sprintf(`{"account":"st-marys","amount":%q,"currency":"USD"}`, ledger.FormatAmount(credit))); status != 200 {
		t.Fatalf("top-up: %d %s", status, body)
	}
	var heldAtKill int64
	statuses := f.storm(600, func() {
		_ = f.srvs[1].cmd.Process.Signal(syscall.SIGKILL)
		<-f.srvs[1].exited
		_, heldAtKill, _ = f.credits(0)
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, reserved, _ := f.credits(0); reserved == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the killed replica's holds were not reclaimed after their TTL")
		}
		time.Sleep(200 * time.Millisecond)
	}
	if heldAtKill == 0 {
		t.Errorf("nothing was held when the replica died: the test proves nothing")
	}
	f.stop()
	f.checkStorm(statuses, credit, 1)
}

// PostgreSQL stopped mid-run: prepaid requests are refused with 503
// ledger_unavailable and nothing of them is forwarded; an unbilled
// tenant is still served; once PostgreSQL is back, prepaid requests are
// served again with no repair, and the journal reconciles.
func TestLedgerDownFailsClosedAndRecovers(t *testing.T) {
	cluster, err := pgtest.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cluster.Close() })
	f := newFleet(t, "postgres", cluster.Database(t), 1, "15m")
	if status, body := f.do(0, http.MethodPost, "/admin/credits", f.finKey, `{"account":"st-marys","amount":"5","currency":"USD"}`); status != 200 {
		t.Fatalf("top-up: %d %s", status, body)
	}
	hospital := func() (int, string) { return f.do(0, http.MethodPost, "/v1/chat/completions", f.appKey, stormBody) }
	bank := func() int {
		s, _ := f.do(0, http.MethodPost, "/v1/chat/completions", f.bankKey, stormBody)
		return s
	}
	if s, b := hospital(); s != 200 {
		t.Fatalf("before: %d %s", s, b)
	}
	if err := cluster.Stop(); err != nil {
		t.Fatal(err)
	}
	seen := f.sim.Requests()
	for range 5 {
		if s, b := hospital(); s != 503 || !strings.Contains(b, "ledger_unavailable") {
			t.Errorf("prepaid with the ledger down: %d %s", s, b)
		}
	}
	if f.sim.Requests() != seen {
		t.Errorf("%d prepaid requests were forwarded unpaid", f.sim.Requests()-seen)
	}
	if s := bank(); s != 200 {
		t.Errorf("an unbilled tenant with the ledger down: %d", s)
	}
	if s, b := f.do(0, http.MethodGet, "/readyz", "", ""); s != 200 || !strings.Contains(b, `"ledger"`) {
		t.Errorf("readyz with the ledger down and an unbilled tenant: %d %s", s, b)
	}
	if err := cluster.Resume(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		s, b := hospital()
		if s == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after PostgreSQL came back: %d %s", s, b)
		}
		time.Sleep(200 * time.Millisecond)
	}
	f.stop()
	j := f.journal()
	costs, _ := auditCosts(t, f.path(0, ".db"))
	var sum int64
	for _, c := range costs {
		sum += c
	}
	if len(costs) < 2 || j.charges != sum || len(j.missing) != 0 || j.topups-j.balance != j.charges {
		t.Errorf("journal %+v, audit costs %d over %d requests", j, sum, len(costs))
	}
}

// checkMergedExport: one export of every replica's file holds each file's
// records, merged by time, and each file verifies with its own key.
func (f *fleet) checkMergedExport() {
	t := f.t
	bin := buildCustos(t)
	var args []string
	total := 0
	for i := range f.n {
		args = append(args, "--db", f.path(i, ".db"))
		if out, err := exec.Command(bin, "audit", "verify", "--db", f.path(i, ".db"), "--pubkey", f.path(i, ".pem.pub")).CombinedOutput(); err != nil {
			t.Errorf("r%d's log does not verify: %v %s", i, err, out)
		}
		out, err := exec.Command(bin, "audit", "export", "--db", f.path(i, ".db")).Output()
		if err != nil {
			t.Fatal(err)
		}
		total += bytes.Count(out, []byte("\n"))
	}
	out, err := exec.Command(bin, append([]string{"audit", "export"}, args...)...).Output()
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.Split(bytes.TrimSpace(out), []byte("\n"))
	instances := map[string]int{}
	var last time.Time
	for _, line := range lines {
		var r struct {
			Time     time.Time `json:"time"`
			Instance string    `json:"instance"`
		}
		if err := json.Unmarshal(line, &r); err != nil {
			t.Fatal(err)
		}
		if r.Time.Before(last) {
			t.Errorf("merged export out of time order at %s", r.Time)
			break
		}
		last = r.Time
		instances[r.Instance]++
	}
	if len(lines) != total || len(instances) != f.n {
		t.Errorf("merged export: %d records from %v, want %d from %d replicas", len(lines), instances, total, f.n)
	}
}
