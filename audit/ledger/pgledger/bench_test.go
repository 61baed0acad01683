package pgledger_test

import (
	"fmt"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/custos-gateway/custos/audit"
	"github.com/custos-gateway/custos/audit/ledger"
	"github.com/custos-gateway/custos/audit/ledger/pgledger"
	"github.com/custos-gateway/custos/audit/ledger/pgledger/pgtest"
)

// benchSetup is one hot account on PostgreSQL (through the ledger), the
// same pool for bare round trips, and the bbolt ledger: the baselines are
// measured in the same run, alternating with the ledger.
type benchSetup struct {
	pg   *pgledger.Ledger
	pool *pgxpool.Pool
	bolt *ledger.BoltLedger
	seq  atomic.Int64
}

func newBench(b *testing.B, withBudgets bool) *benchSetup {
	opts := ledger.Options{}
	if withBudgets {
		opts.Budgets = []ledger.Budget{{Scope: ledger.ScopeApp("st-marys", "a"), Period: ledger.Day, MaxMicros: 1 << 60, Currency: "USD"},
			{Scope: ledger.ScopeKey("k"), Period: ledger.Month, MaxTokens: 1 << 60}}
	}
	r := openReplica(b, pgtest.Shared(b).Database(b), "gw-1", pgledger.Options{Options: opts})
	bolt, log, err := ledger.OpenBolt(filepath.Join(b.TempDir(), "bolt.db"), audit.Options{Instance: "gw-1"}, opts)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { log.Close() })
	for _, l := range []ledger.Ledger{r.led, bolt} {
		if _, err := l.Credit(ctx, audit.Credit{Op: audit.CreditTopUp, Account: "st-marys", Micros: 1 << 60, Currency: "USD"}); err != nil {
			b.Fatal(err)
		}
	}
	return &benchSetup{pg: r.led, pool: r.pool, bolt: bolt}
}

// request reserves and settles one request, as the gateway does.
func (s *benchSetup) request(b *testing.B, l ledger.Ledger) {
	rid := fmt.Sprint("b", s.seq.Add(1))
	h, err := l.Reserve(ctx, ledger.Request{RequestID: rid, Tenant: "st-marys", App: "a", KeyID: "k", Currency: "USD", MaxMicros: 5000, MaxTokens: 4096})
	if err != nil {
		b.Fatal(err)
	}
	out := audit.Record{Kind: audit.KindOutcome, Status: 200, Tokens: &audit.Tokens{Prompt: 120, Completion: 45}}
	if err := l.Settle(ctx, h, ledger.Charge{Micros: 731, Currency: "USD", PriceVersion: "p1"}, out); err != nil {
		b.Fatal(err)
	}
}

func (s *benchSetup) selectOne(b *testing.B) {
	var one int
	if err := s.pool.QueryRow(ctx, `SELECT 1`).Scan(&one); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkReserveSettleLatency records the latency of every reserve +
// settle at one client on PostgreSQL over loopback and reports p50 and
// p99, beside a bare SELECT 1 round trip on the same pool and the bbolt
// ledger, alternating one of each so that a shared machine's drift falls
// on all alike.
func BenchmarkReserveSettleLatency(b *testing.B) {
	for _, budgets := range []bool{false, true} {
		b.Run(fmt.Sprintf("budgets=%v", budgets), func(b *testing.B) {
			s := newBench(b, budgets)
			pg, one, bolt := make([]time.Duration, 0, b.N), make([]time.Duration, 0, b.N), make([]time.Duration, 0, b.N)
			timed := func(into *[]time.Duration, f func()) {
				start := time.Now()
				f()
				*into = append(*into, time.Since(start))
			}
			b.ResetTimer()
			for range b.N {
				timed(&pg, func() { s.request(b, s.pg) })
				timed(&one, func() { s.selectOne(b) })
				timed(&bolt, func() { s.request(b, s.bolt) })
			}
			b.StopTimer()
			for _, m := range []struct {
				name string
				d    []time.Duration
			}{{"pg", pg}, {"select1", one}, {"bolt", bolt}} {
				b.ReportMetric(percentile(m.d, 50), m.name+"-p50-µs")
				b.ReportMetric(percentile(m.d, 99), m.name+"-p99-µs")
			}
			b.ReportMetric(percentile(pg, 50)/percentile(one, 50), "pg/select1-p50")
			b.ReportMetric(0, "ns/op")
		})
	}
}

func percentile(d []time.Duration, p int) float64 {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	if len(s) == 0 {
		return 0
	}
	return float64(s[min(len(s)-1, len(s)*p/100)].Nanoseconds()) / 1e3
}

// BenchmarkHotAccount runs, from 64 goroutines through one replica's pool
// on one tenant's account: reservations alone (the admission decision),
// and whole requests (reserve + settle); beside them, as baselines in the
// same run, bare SELECT 1 round trips from 64 goroutines on the same pool
// (the ceiling the server and the loopback allow) and the bbolt ledger at
// 64. The four alternate in blocks. It reports each rate and the server's
// CPU time per operation (steadier than rates on a shared machine).
func BenchmarkHotAccount(b *testing.B) {
	const clients = 64
	for _, budgets := range []bool{false, true} {
		b.Run(fmt.Sprintf("budgets=%v", budgets), func(b *testing.B) {
			s := newBench(b, budgets)
			cluster := pgtest.Shared(b)
			var reserve, request, one, bolt phaseCost
			block := 16 * clients
			b.ResetTimer()
			for done := 0; done < b.N; done += block {
				n := min(block, b.N-done)
				reserve.add(cluster, n, clients, func() { s.reserve(b) })
				request.add(cluster, n, clients, func() { s.request(b, s.pg) })
				one.add(cluster, n, clients, func() { s.selectOne(b) })
				bolt.add(cluster, n, clients, func() { s.request(b, s.bolt) })
			}
			b.StopTimer()
			b.ReportMetric(reserve.rate(b.N), "pg-reservations/s")
			b.ReportMetric(request.rate(b.N), "pg-requests/s")
			b.ReportMetric(one.rate(b.N), "select1/s")
			b.ReportMetric(bolt.rate(b.N), "bolt-requests/s")
			b.ReportMetric(reserve.serverCPU(b.N), "pg-cpu-µs/reservation")
			b.ReportMetric(request.serverCPU(b.N), "pg-cpu-µs/request")
			b.ReportMetric(one.serverCPU(b.N), "pg-cpu-µs/select1")
			b.ReportMetric(request.rate(b.N)/one.rate(b.N), "requests/select1")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// reserve reserves for one request, not settling it (the account holds
// enough for every hold the benchmark takes).
func (s *benchSetup) reserve(b *testing.B) {
	rid := fmt.Sprint("h", s.seq.Add(1))
	if _, err := s.pg.Reserve(ctx, ledger.Request{RequestID: rid, Tenant: "st-marys", App: "a", KeyID: "k", Currency: "USD", MaxMicros: 5000, MaxTokens: 4096}); err != nil {
		b.Fatal(err)
	}
}

// phaseCost adds up the wall time and the server's CPU time of phases.
type phaseCost struct{ wall, cpu time.Duration }

func (p *phaseCost) add(c *pgtest.Cluster, n, clients int, f func()) {
	cpu := c.CPU()
	p.wall += parallel(n, clients, f)
	p.cpu += c.CPU() - cpu
}

func (p *phaseCost) rate(n int) float64 { return float64(n) / p.wall.Seconds() }

func (p *phaseCost) serverCPU(n int) float64 { return float64(p.cpu.Microseconds()) / float64(n) }

// parallel runs f n times from the given number of goroutines and returns
// the wall time.
func parallel(n, clients int, f func()) time.Duration {
	var wg sync.WaitGroup
	var next atomic.Int64
	start := time.Now()
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(n) {
				f()
			}
		}()
	}
	wg.Wait()
	return time.Since(start)
}
