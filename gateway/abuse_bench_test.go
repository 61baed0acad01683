package gateway_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/custos-gateway/custos/gateway"
	"github.com/custos-gateway/custos/gateway/config"
)

// procKB reads a field of /proc/self/status, in bytes.
func procKB(b testing.TB, field string) int64 {
	b.Helper()
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		b.Skip("no /proc: " + err.Error())
	}
	for _, line := range strings.Split(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, field); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return n << 10
		}
	}
	b.Fatalf("no %s in /proc/self/status", field)
	return 0
}

// resetPeakRSS makes VmHWM start again from the current RSS.
func resetPeakRSS(b testing.TB) {
	runtime.GC()
	debug.FreeOSMemory()
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		b.Skip("cannot reset the peak RSS: " + err.Error())
	}
}

// adversarialBody streams a body of about size bytes: prefix, then part
// repeated, then suffix. It holds no copy of the body.
type adversarialBody struct {
	prefix, part, sep, suffix string
	parts, sent               int
	stage                     int
	pending                   []byte
}

func newAdversarialBody(prefix, part, sep, suffix string, size int) *adversarialBody {
	return &adversarialBody{prefix: prefix, part: part, sep: sep, suffix: suffix, parts: (size - len(prefix) - len(suffix)) / (len(part) + len(sep))}
}

func (a *adversarialBody) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if len(a.pending) == 0 {
			switch {
			case a.stage == 0:
				a.pending, a.stage = []byte(a.prefix), 1
			case a.stage == 1 && a.sent < a.parts:
				a.pending = []byte(a.part)
				if a.sent > 0 {
					a.pending = []byte(a.sep + a.part)
				}
				a.sent++
			case a.stage == 1:
				a.pending, a.stage = []byte(a.suffix), 2
			default:
				if n == 0 {
					return 0, io.EOF
				}
				return n, nil
			}
		}
		c := copy(p[n:], a.pending)
		a.pending = a.pending[c:]
		n += c
	}
	return n, nil
}

// BenchmarkAdversarialBodies sends 12 concurrent 10 MB bodies made of many
// small parts, of each shape, and reports the gateway process's peak RSS
// above its idle level against the 120 MB in flight (goal: at most 4×).
// The bodies are generated as they are sent, so the client holds none.
func BenchmarkAdversarialBodies(b *testing.B) {
	const concurrent = 12
	model := `{"model":"` + unlistedModel + `","messages":[`
	shapes := []adversarialShape{
		{"numbers", model + `{"role":"user","content":[`, `1`, `,`, `]}]}`},
		{"tiny-messages", model, `{"role":"user","content":"a"}`, `,`, `]}`},
		{"short-parts", model + `{"role":"user","content":[`, `{"type":"text","text":"Ward 7 handover for bed four at noon ok"}`, `,`, `]}]}`},
		{"messages-under-the-value-cap", model, `{"role":"user","content":"` + strings.Repeat("Patient stable overnight, obs normal. ", 8) + `"}`, `,`, `]}`},
		{"one-string", model + `{"role":"user","content":"`, `Jane Smith, MRN 00412345, seen 2026-11-30. `, ``, `"}]}`},
		{"nested", `{"model":"` + unlistedModel + `","messages":[{"role":"user","content":"hi"}],"metadata":`, `[`, ``, `]}`},
	}
	h := startGateway(b, func(c *config.Config) { c.Limits.MaxBodyBytes = 11 << 20 })
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: concurrent}}
	// Without a memory limit the collector lets the heap grow to twice what
	// is live; with one (a 512 MiB limit is what the default makes of a
	// container limited to about 570 MiB) the peak is about the live set.
	defer debug.SetMemoryLimit(math.MaxInt64)
	for _, limit := range []int64{-1, 512 << 20} {
		gateway.ApplyMemoryLimit(config.Server{MemoryLimit: limit})
		name := "no-memory-limit"
		if limit > 0 {
			name = "memory-limit-512MiB"
		}
		b.Run(name, func(b *testing.B) { adversarialShapes(b, h, client, shapes) })
	}
}

type adversarialShape struct{ name, prefix, part, sep, suffix string }

// adversarialShapes sends each shape's bodies at once and reports the peak.
func adversarialShapes(b *testing.B, h *harness, client *http.Client, shapes []adversarialShape) {
	const size, concurrent = 10 << 20, 12
	for _, s := range shapes {
		b.Run(s.name, func(b *testing.B) {
			var worst float64
			for b.Loop() {
				resetPeakRSS(b)
				idle := procKB(b, "VmRSS:")
				statuses := make([]int, concurrent)
				var wg sync.WaitGroup
				for i := range concurrent {
					wg.Add(1)
					go func() {
						defer wg.Done()
						req, _ := http.NewRequest(http.MethodPost, h.URL+"/chat/completions", newAdversarialBody(s.prefix, s.part, s.sep, s.suffix, size))
						req.Header.Set("Content-Type", "application/json")
						req.Header.Set("Authorization", "Bearer "+appKey)
						resp, err := client.Do(req)
						if err != nil {
							b.Error(err)
							return
						}
						_, _ = io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
						statuses[i] = resp.StatusCode
					}()
				}
				wg.Wait()
				peak := procKB(b, "VmHWM:") - idle
				worst = max(worst, float64(peak)/float64(size*concurrent))
				b.ReportMetric(float64(peak)/(1<<20), "peak-above-idle-MB")
				slices.Sort(statuses)
				b.Logf("%s: statuses %v, peak %d MB above idle", s.name, slices.Compact(statuses), peak>>20)
			}
			b.ReportMetric(worst, "peak/in-flight")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// BenchmarkFlood measures what an anonymous flood does to a real client:
// its p99 latency alone, then under 500 connections that declare a body
// and never send it plus 20,000 unauthenticated requests at floodRate (from
// other loopback addresses, no key or unknown and revoked keys); the audit
// records the flood added, in bytes; and how long the slow connections
// lived against the body-read timeout. Each iteration runs a fresh gateway
// (use -benchtime 1x).
func BenchmarkFlood(b *testing.B) {
	const readTimeout, floodRate = 2 * time.Second, 2000
	for range b.N {
		h := startGateway(b, func(c *config.Config) {
			c.Server.ReadTimeout = config.Duration(readTimeout)
			c.Server.ReadHeaderTimeout = config.Duration(readTimeout)
		})
		addr := strings.TrimPrefix(strings.TrimSuffix(h.URL, "/v1"), "http://")
		client := &realClient{h: h, c: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}}
		client.until(b, nil, 50) // warm
		alone := client.until(b, nil, 1000)
		before := h.Ledger.Log().Head().Seq
		_, stopSlow := slowBodies(b, addr, "127.0.0.2", 500)
		unauth := floodUnauthenticated(b, addr, "127.0.0.3", 20_000, floodRate)
		flooded := client.until(b, unauth, 0)
		lived := stopSlow()
		grew, n := floodRecords(b, h, before)
		b.ReportMetric(float64(p99(alone).Microseconds()), "p99-alone-µs")
		b.ReportMetric(float64(p99(flooded).Microseconds()), "p99-flooded-µs")
		b.ReportMetric(float64(p99(flooded))/float64(p99(alone)), "p99-ratio")
		b.ReportMetric(float64(grew)/1024, "audit-growth-KB")
		b.ReportMetric(lived.Seconds(), "longest-slow-conn-s")
		b.Logf("flood: %d audit records (%d bytes); real client: %d requests alone, %d under the flood; slow connections lived %.2fs (timeout %s)",
			n, grew, len(alone), len(flooded), lived.Seconds(), readTimeout)
	}
	b.ReportMetric(0, "ns/op")
}

// realClient is an app sending chat requests one at a time.
type realClient struct {
	h *harness
	c *http.Client
}

// until sends requests until done closes (or n are sent) and returns their
// latencies.
func (r *realClient) until(b testing.TB, done <-chan struct{}, n int) []time.Duration {
	var lat []time.Duration
	for i := 0; n == 0 || i < n; i++ {
		select {
		case <-done:
			return lat
		default:
		}
		req, _ := http.NewRequest(http.MethodPost, r.h.URL+"/chat/completions", strings.NewReader(okBody))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+appKey)
		t0 := time.Now()
		resp, err := r.c.Do(req)
		if err != nil {
			b.Fatalf("a real client's request failed: %v", err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatalf("a real client was refused: %d", resp.StatusCode)
		}
		lat = append(lat, time.Since(t0))
	}
	return lat
}

func p99(lat []time.Duration) time.Duration {
	s := slices.Clone(lat)
	slices.Sort(s)
	return s[len(s)*99/100]
}

// floodRecords stops the gateway and sums the stored size of the records
// after seq that are not the real client's (its tenant's).
func floodRecords(b testing.TB, h *harness, seq uint64) (bytes int64, n int) {
	for _, r := range h.records(b) {
		if r.Seq > seq && r.Tenant != hospital {
			j, _ := json.Marshal(r)
			bytes += int64(len(j)) + 64 // the chain header
			n++
		}
	}
	return bytes, n
}

func fileSize(b testing.TB, path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	return fi.Size()
}

// slowBodies opens n unauthenticated connections from src that send their
// headers and a few bytes of a declared body, then nothing. stop waits for the gateway
// to close them and returns the longest lifetime.
func slowBodies(b testing.TB, addr, src string, n int) (*atomic.Int64, func() time.Duration) {
	closed := &atomic.Int64{}
	var longest atomic.Int64
	var wg sync.WaitGroup
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}}
	for i := range n {
		c, err := d.Dial("tcp", addr)
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		key := "" // an anonymous attacker has no key; half send a guess
		if i%2 == 0 {
			key = "Authorization: Bearer cst_guess\r\n"
		}
		fmt.Fprintf(c, "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n%sContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{\"model\":", key)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer c.Close()
			_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
			_, _ = io.Copy(io.Discard, bufio.NewReader(c)) // until the gateway closes it
			closed.Add(1)
			for {
				cur, lived := longest.Load(), int64(time.Since(start))
				if lived <= cur || longest.CompareAndSwap(cur, lived) {
					break
				}
			}
		}()
	}
	return closed, func() time.Duration { wg.Wait(); return time.Duration(longest.Load()) }
}

// floodUnauthenticated sends n requests from src with no key, unknown keys
// and a revoked key, 16 at a time at rate per second in all; the channel
// closes when all are done.
func floodUnauthenticated(b testing.TB, addr, src string, n, rate int) <-chan struct{} {
	start := time.Now()
	done := make(chan struct{})
	tr := &http.Transport{MaxIdleConnsPerHost: 16, DialContext: (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}}).DialContext}
	client := &http.Client{Transport: tr}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := next.Add(1); i <= int64(n); i = next.Add(1) {
				time.Sleep(time.Until(start.Add(time.Duration(i) * time.Second / time.Duration(rate))))
				req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, "http://"+addr+"/v1/chat/completions", bytes.NewReader([]byte(okBody)))
				switch i % 3 {
				case 1:
					req.Header.Set("Authorization", "Bearer cst_guess_"+strconv.FormatInt(i, 36))
				case 2:
					req.Header.Set("Authorization", "Bearer "+revokedKey)
				}
				if resp, err := client.Do(req); err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			}
		}()
	}
	go func() { wg.Wait(); close(done) }()
	return done
}
