package ledger_test

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/custos-gateway/custos/audit"
	"github.com/custos-gateway/custos/audit/ledger"
)

// benchDirs are where the benchmarks put their files: memory (tmpfs: the
// fsync costs nothing, so what remains is the accounting's own work) and
// the disk (fsyncs included).
func benchDirs(b *testing.B) map[string]string {
	dirs := map[string]string{"disk": b.TempDir()}
	if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
		d, err := os.MkdirTemp("/dev/shm", "custos-bench-")
		if err == nil {
			b.Cleanup(func() { os.RemoveAll(d) })
			dirs["tmpfs"] = d
		}
	}
	return dirs
}

// plainRequest is what the gateway writes for a request without
// accounting: a durable intent and a deferred outcome.
func plainRequest(b *testing.B, log *audit.Log, id string) {
	rc, err := log.Append(ctx, audit.Record{Kind: audit.KindIntent, RequestID: id, Tenant: "st-marys", App: "a", KeyID: "k"})
	if err != nil {
		b.Fatal(err)
	}
	out := audit.Record{Kind: audit.KindOutcome, RequestID: id, IntentSeq: rc.Seq, Tenant: "st-marys", App: "a", KeyID: "k", Status: 200,
		Tokens: &audit.Tokens{Prompt: 120, Completion: 45}, Cost: &audit.Cost{Micros: 731, Currency: "USD", PriceVersion: "p1"}}
	if err := log.AppendDeferred(out); err != nil {
		b.Fatal(err)
	}
}

// accountedRequest writes the same records with the money: reserve, the
// durable intent, and Settle (whose outcome is deferred).
func accountedRequest(b *testing.B, led *ledger.BoltLedger, id string) {
	h, err := led.Reserve(ctx, ledger.Request{RequestID: id, Tenant: "st-marys", App: "a", KeyID: "k", Currency: "USD", MaxMicros: 5000, MaxTokens: 4096})
	if err != nil {
		b.Fatal(err)
	}
	rc, err := led.Log().Append(ctx, audit.Record{Kind: audit.KindIntent, RequestID: id, Tenant: "st-marys", App: "a", KeyID: "k"})
	if err != nil {
		b.Fatal(err)
	}
	out := audit.Record{Kind: audit.KindOutcome, IntentSeq: rc.Seq, Status: 200, Tokens: &audit.Tokens{Prompt: 120, Completion: 45}}
	if err := led.Settle(ctx, h, ledger.Charge{Micros: 731, Currency: "USD", PriceVersion: "p1"}, out); err != nil {
		b.Fatal(err)
	}
}

func openPair(b *testing.B, dir string) (*audit.Log, *ledger.BoltLedger) {
	plain, err := audit.Open(filepath.Join(dir, fmt.Sprint("plain-", time.Now().UnixNano(), ".db")), audit.Options{})
	if err != nil {
		b.Fatal(err)
	}
	budgets := []ledger.Budget{{Scope: ledger.ScopeApp("st-marys", "a"), Period: ledger.Day, MaxMicros: 1 << 60, Currency: "USD"},
		{Scope: ledger.ScopeKey("k"), Period: ledger.Month, MaxTokens: 1 << 60}}
	led, _, err := ledger.OpenBolt(filepath.Join(dir, fmt.Sprint("ledger-", time.Now().UnixNano(), ".db")), audit.Options{}, ledger.Options{Budgets: budgets})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := led.Credit(ctx, audit.Credit{Op: audit.CreditTopUp, Account: "st-marys", Micros: 1 << 60, Currency: "USD"}); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { plain.Close(); led.Log().Close() })
	return plain, led
}

// BenchmarkAccounting measures what reserve + settle (with an app and a key
// budget) add to a request's audit appends, against the same appends
// without accounting, in the same run: the two alternate in blocks of 20
// requests per client, at one client and at 64, so that a shared machine's
// drift falls on both alike. It reports wall time and CPU time (user +
// system, of the process) per request; overhead-* is the difference.
func BenchmarkAccounting(b *testing.B) {
	for name, dir := range benchDirs(b) {
		for _, clients := range []int{1, 64} {
			b.Run(fmt.Sprintf("%s/clients=%d", name, clients), func(b *testing.B) {
				plain, led := openPair(b, dir)
				var p, a cost
				block := 20 * clients
				for done := 0; done < b.N; done += block {
					n := min(block, b.N-done)
					p = p.add(phase(n, clients, func(id string) { plainRequest(b, plain, fmt.Sprint(done, id)) }))
					a = a.add(phase(n, clients, func(id string) { accountedRequest(b, led, fmt.Sprint(done, id)) }))
				}
				report(b, p, a, b.N)
			})
		}
	}
}

type cost struct{ wall, cpu time.Duration }

func (c cost) add(d cost) cost { return cost{c.wall + d.wall, c.cpu + d.cpu} }

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// phase runs n requests from the given number of goroutines.
func phase(n, clients int, request func(id string)) cost {
	var wg sync.WaitGroup
	cpu0, start := cpuTime(), time.Now()
	for g := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := g; i < n; i += clients {
				request(fmt.Sprint("r", i))
			}
		}()
	}
	wg.Wait()
	return cost{time.Since(start), cpuTime() - cpu0}
}

func storm(n int, request func(id string)) { phase(n, 64, request) }

func report(b *testing.B, plain, accounted cost, n int) {
	per := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / float64(n) / 1e3 }
	b.ReportMetric(per(plain.wall), "plain-µs/request")
	b.ReportMetric(per(accounted.wall), "accounted-µs/request")
	b.ReportMetric(per(accounted.wall)-per(plain.wall), "overhead-µs/request")
	b.ReportMetric(per(plain.cpu), "plain-cpu-µs/request")
	b.ReportMetric(per(accounted.cpu), "accounted-cpu-µs/request")
	b.ReportMetric(per(accounted.cpu)-per(plain.cpu), "overhead-cpu-µs/request")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkJournalVerify measures offline replay of a journal of 200,000
// charges in a log of 400,000 records (every record read; each charge's
// balance recomputed and checked against the one it states; the stored
// balances and budget spend compared at the end), per second of wall time
// and per second of the process's CPU time (steadier on a shared machine).
func BenchmarkJournalVerify(b *testing.B) {
	dirs := benchDirs(b)
	dir := dirs["tmpfs"]
	if dir == "" {
		dir = dirs["disk"]
	}
	path := filepath.Join(dir, "journal.db")
	budgets := []ledger.Budget{{Scope: ledger.ScopeApp("st-marys", "a"), Period: ledger.Day, MaxMicros: 1 << 60, Currency: "USD"}}
	led, log, err := ledger.OpenBolt(path, audit.Options{CheckpointEvery: 100_000}, ledger.Options{Budgets: budgets})
	if err != nil {
		b.Fatal(err)
	}
	led.Credit(ctx, audit.Credit{Op: audit.CreditTopUp, Account: "st-marys", Micros: 1 << 60, Currency: "USD"})
	storm(200_000, func(id string) { accountedRequest(b, led, id) })
	log.Close()
	b.ResetTimer()
	var entries, records uint64
	start, cpu0 := time.Now(), cpuTime()
	for b.Loop() {
		rep, err := ledger.VerifyFiles([]string{path})
		if err != nil || !rep.OK() {
			b.Fatal(err, rep.Problem)
		}
		entries, records = entries+rep.Entries, records+rep.Records
	}
	wall, cpu := time.Since(start).Seconds(), (cpuTime() - cpu0).Seconds()
	b.ReportMetric(float64(entries)/wall, "entries/s")
	b.ReportMetric(float64(records)/wall, "records/s")
	b.ReportMetric(float64(entries)/cpu, "entries/cpu-s")
}
