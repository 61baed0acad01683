package limits

import (
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
)

var benchLimit = Limit{RequestsPerMinute: MaxLimit, TokensPerMinute: MaxLimit}

// One Reserve and its Settle, against a baseline of one uncontended mutex
// round and map lookup (the least any shared per-key state costs).
func BenchmarkReserveSettle(b *testing.B) {
	l := New(Options{})
	b.Run("custos", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			r, _, err := l.Reserve("key-1", benchLimit, 800)
			if err != nil {
				b.Fatal(err)
			}
			r.Settle(650)
		}
	})
	var mu sync.Mutex
	m := map[string]*int64{"key-1": new(int64)}
	b.Run("baseline-mutex-map", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			mu.Lock()
			*m["key-1"] += 800
			mu.Unlock()
			mu.Lock()
			*m["key-1"] -= 150
			mu.Unlock()
		}
	})
}

// 64 goroutines at once: on distinct keys (spread over the shards) and all
// on one key, against the mutex-and-map baseline under the same contention.
func BenchmarkReserveSettle64(b *testing.B) {
	b.Run("baseline-mutex-map", func(b *testing.B) {
		var mu sync.Mutex
		m := map[string]*int64{"key-1": new(int64)}
		b.SetParallelism(max(64/runtime.GOMAXPROCS(0), 1))
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				mu.Lock()
				*m["key-1"] += 800
				mu.Unlock()
				mu.Lock()
				*m["key-1"] -= 150
				mu.Unlock()
			}
		})
	})
	for _, keys := range []int{64, 1} {
		b.Run(strconv.Itoa(keys)+"-keys", func(b *testing.B) {
			l := New(Options{})
			var next atomic.Int64
			b.SetParallelism(max(64/runtime.GOMAXPROCS(0), 1))
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				key := "key-" + strconv.FormatInt(next.Add(1)%int64(keys), 10)
				for pb.Next() {
					r, _, err := l.Reserve(key, benchLimit, 800)
					if err != nil {
						b.Error(err)
						return
					}
					r.Settle(650)
				}
			})
		})
	}
}
