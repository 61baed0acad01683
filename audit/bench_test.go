package audit_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/custos-gateway/custos/audit"
)

// BenchmarkAppend measures durable appends per second. "single" is one
// caller at a time (one fsync each): the baseline that group commit beats.
func BenchmarkAppend(b *testing.B) {
	signer, _ := newSigner(b)
	for _, bc := range []struct {
		name        string
		parallelism int
	}{{"single", 0}, {"concurrent-128", 64}, {"concurrent-512", 256}} {
		b.Run(bc.name, func(b *testing.B) {
			l, err := audit.Open(filepath.Join(b.TempDir(), "audit.db"), audit.Options{Signer: signer})
			if err != nil {
				b.Fatal(err)
			}
			defer l.Close()
			rec := record(1)
			start := time.Now()
			if bc.parallelism == 0 {
				for b.Loop() {
					if _, err := l.Append(context.Background(), rec); err != nil {
						b.Fatal(err)
					}
				}
			} else {
				b.SetParallelism(bc.parallelism) // × GOMAXPROCS goroutines
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if _, err := l.Append(context.Background(), rec); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "appends/s")
		})
	}
}

func BenchmarkVerify(b *testing.B) {
	path, pub := writeLogFast(b, 200_000)
	b.ResetTimer()
	start := time.Now()
	var n uint64
	for b.Loop() {
		rep, err := audit.Verify(path, audit.VerifyOptions{PublicKey: pub})
		if err != nil || !rep.OK() {
			b.Fatal(err, rep.Problem)
		}
		n += rep.Verified
	}
	b.ReportMetric(float64(n)/time.Since(start).Seconds(), "records/s")
}

func BenchmarkExport(b *testing.B) {
	path, _ := writeLogFast(b, 100_000)
	for _, format := range []string{audit.FormatJSONL, audit.FormatCSV} {
		b.Run(format, func(b *testing.B) {
			start := time.Now()
			total := 0
			for b.Loop() {
				n, err := audit.ExportFile(io.Discard, path, audit.Filter{}, format)
				if err != nil {
					b.Fatal(err)
				}
				total += n
			}
			b.ReportMetric(float64(total)/time.Since(start).Seconds(), "records/s")
		})
	}
}

// writeLogFast fills a log through concurrent appends (group commit).
func writeLogFast(b *testing.B, n int) (string, []byte) {
	b.Helper()
	signer, pub := newSigner(b)
	path := filepath.Join(b.TempDir(), "audit.db")
	l, err := audit.Open(path, audit.Options{Signer: signer, CheckpointEvery: 10_000})
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan struct{})
	per := n / 100
	for g := range 100 {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := range per {
				if _, err := l.Append(context.Background(), record(g*per+i)); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	for range 100 {
		<-done
	}
	l.Close()
	return path, pub
}

// BenchmarkDurability measures what a request costs the log in each mode:
// one request is a durable intent followed by its outcome, as the gateway
// writes them (strict: both wait for their commit; group: the outcome is
// deferred into the next commit). Each reports requests/s, the fsyncs per
// request (bbolt fsyncs twice per commit) and its time per request as a
// multiple of the floor (x-floor): a raw fsync of a small append on the
// same disk, measured in the same benchmark run just before and after the
// requests (the disk is shared, so the floor moves; "fsync-floor" gives its
// absolute figure).
func BenchmarkDurability(b *testing.B) {
	b.Run("fsync-floor", func(b *testing.B) {
		f := floorFile(b)
		start := time.Now()
		for b.Loop() {
			rawFsync(b, f)
		}
		b.ReportMetric(float64(time.Since(start).Microseconds())/float64(b.N), "µs/fsync")
	})
	for _, mode := range []audit.Durability{audit.DurabilityStrict, audit.DurabilityGroup} {
		for _, clients := range []int{1, 64} {
			b.Run(fmt.Sprintf("%s/clients=%d", mode, clients), func(b *testing.B) {
				benchRequests(b, mode, clients)
			})
		}
	}
}

func floorFile(b *testing.B) *os.File {
	f, err := os.Create(filepath.Join(b.TempDir(), "floor"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { f.Close() })
	return f
}

var floorLine = []byte(`{"seq":1,"kind":"intent","request_id":"req_000001"}` + "\n")

func rawFsync(b *testing.B, f *os.File) {
	if _, err := f.Write(floorLine); err != nil {
		b.Fatal(err)
	}
	if err := f.Sync(); err != nil {
		b.Fatal(err)
	}
}

// measureFloor times n raw fsyncs of a small append.
func measureFloor(b *testing.B, f *os.File, n int) time.Duration {
	start := time.Now()
	for range n {
		rawFsync(b, f)
	}
	return time.Since(start)
}

func benchRequests(b *testing.B, mode audit.Durability, clients int) {
	l, err := audit.Open(filepath.Join(b.TempDir(), "audit.db"), audit.Options{Durability: mode})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	f := floorFile(b)
	in, out := intent(1), outcome(1, 0)
	request := func() {
		rc, err := l.Append(context.Background(), in)
		if err != nil {
			b.Fatal(err)
		}
		o := out
		o.IntentSeq = rc.Seq
		if err := l.AppendDeferred(o); err != nil {
			b.Fatal(err)
		}
	}
	const floorN = 50
	floor := measureFloor(b, f, floorN)
	before := l.Stats()
	b.ResetTimer()
	start := time.Now()
	if clients == 1 {
		for range b.N {
			request()
		}
	} else {
		b.SetParallelism(clients / runtime.GOMAXPROCS(0))
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				request()
			}
		})
	}
	elapsed := time.Since(start)
	b.StopTimer()
	if err := l.Flush(); err != nil {
		b.Fatal(err)
	}
	floor += measureFloor(b, f, floorN)
	s := l.Stats()
	commits := float64(s.Commits-before.Commits) + float64(s.Checkpoints-before.Checkpoints)
	perRequest := float64(elapsed.Nanoseconds()) / float64(b.N)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "requests/s")
	b.ReportMetric(2*commits/float64(b.N), "fsyncs/request")
	b.ReportMetric(perRequest/(float64(floor.Nanoseconds())/(2*floorN)), "x-floor")
}

// BenchmarkAppendVsCommit compares one durable Append at one client with
// the bare bbolt commit the gateway's bench takes as the floor (a one-key
// Update on a fresh file, as gateway/bench/disk.go does), the two timed in
// turn in the same run so that both see the same disk. "intent" is a lone
// durable append; "request" is the gateway's pattern, a durable intent
// whose deferred outcome rides in the next commit. It reports the p50 of
// each and their ratio (x-probe).
func BenchmarkAppendVsCommit(b *testing.B) {
	for _, bc := range []struct {
		name     string
		deferred bool
	}{{"intent", false}, {"request", true}} {
		b.Run(bc.name, func(b *testing.B) {
			l, err := audit.Open(filepath.Join(b.TempDir(), "audit.db"), audit.Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer l.Close()
			probe := newCommitProbe(b)
			var appends, probes []time.Duration
			in, out := intent(1), outcome(1, 0)
			for b.Loop() {
				probes = append(probes, probe.commit(b))
				t := time.Now()
				rc, err := l.Append(context.Background(), in)
				appends = append(appends, time.Since(t))
				if err != nil {
					b.Fatal(err)
				}
				if bc.deferred {
					out.IntentSeq = rc.Seq
					if err := l.AppendDeferred(out); err != nil {
						b.Fatal(err)
					}
				}
			}
			a, p := p50(appends), p50(probes)
			b.ReportMetric(float64(a.Microseconds()), "append-p50-µs")
			b.ReportMetric(float64(p.Microseconds()), "probe-p50-µs")
			b.ReportMetric(float64(a)/float64(p), "x-probe")
		})
	}
}

// commitProbe is gateway/bench/disk.go's commit probe: one small record
// per bbolt Update, on a file of its own.
type commitProbe struct {
	db     *bolt.DB
	key    []byte
	value  []byte
	next   uint64
	bucket []byte
}

func newCommitProbe(b *testing.B) *commitProbe {
	db, err := bolt.Open(filepath.Join(b.TempDir(), "commit-probe.db"), 0o600, &bolt.Options{Timeout: time.Second, FreelistType: bolt.FreelistMapType})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	return &commitProbe{db: db, key: make([]byte, 8), value: make([]byte, 256), bucket: []byte("records")}
}

func (c *commitProbe) commit(b *testing.B) time.Duration {
	binary.BigEndian.PutUint64(c.key, c.next)
	c.next++
	t := time.Now()
	err := c.db.Update(func(tx *bolt.Tx) error {
		bk, err := tx.CreateBucketIfNotExists(c.bucket)
		if err != nil {
			return err
		}
		return bk.Put(c.key, c.value)
	})
	if err != nil {
		b.Fatal(err)
	}
	return time.Since(t)
}

func p50(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}
