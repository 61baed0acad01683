package audit_test

import (
	"context"
	"io"
	"path/filepath"
	"testing"
	"time"

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
