package audit_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/custos-gateway/custos/audit"
)

// manualTimer captures the flush timer so a test fires it itself.
type manualTimer struct {
	mu    sync.Mutex
	armed []func()
	asked []time.Duration
}

func (m *manualTimer) after(d time.Duration, f func()) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.armed = append(m.armed, f)
	m.asked = append(m.asked, d)
}

// fire runs every armed timer; each returns once the writer took it.
func (m *manualTimer) fire() int {
	m.mu.Lock()
	fs := m.armed
	m.armed = nil
	m.mu.Unlock()
	for _, f := range fs {
		f()
	}
	return len(fs)
}

func openWith(t *testing.T, opts audit.Options) (*audit.Log, string, *manualTimer) {
	t.Helper()
	timer := &manualTimer{}
	audit.SetAfterFunc(&opts, timer.after)
	path := filepath.Join(t.TempDir(), "audit.db")
	l, err := audit.Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l, path, timer
}

func TestDeferredAppendsCommitLazily(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name string
		opts audit.Options
		// act appends deferred records and whatever should commit them;
		// it returns the head expected afterwards.
		act     func(t *testing.T, l *audit.Log, timer *manualTimer) uint64
		commits uint64
		wal     uint64 // writes to the write-ahead file
	}{
		{"deferred only: nothing committed yet", audit.Options{}, func(t *testing.T, l *audit.Log, _ *manualTimer) uint64 {
			deferN(t, l, 3)
			return 0
		}, 0, 0},
		{"a durable append carries them into the write-ahead file", audit.Options{}, func(t *testing.T, l *audit.Log, timer *manualTimer) uint64 {
			deferN(t, l, 3)
			if rc, err := l.Append(ctx, intent(9)); err != nil || rc.Seq != 4 {
				t.Fatalf("durable append: %+v %v", rc, err)
			}
			if timer.fire() != 1 { // the flush interval then commits them to the log
				t.Fatal("no flush timer armed for the records in the write-ahead file")
			}
			return 4
		}, 1, 1},
		{"strict: a durable append commits", audit.Options{Durability: audit.DurabilityStrict}, func(t *testing.T, l *audit.Log, _ *manualTimer) uint64 {
			if rc, err := l.Append(ctx, intent(9)); err != nil || rc.Seq != 1 || rc.Hash == ([32]byte{}) {
				t.Fatalf("durable append: %+v %v", rc, err)
			}
			return 1
		}, 1, 0},
		{"a full batch commits", audit.Options{MaxBatch: 4}, func(t *testing.T, l *audit.Log, _ *manualTimer) uint64 {
			deferN(t, l, 4)
			return 4
		}, 1, 0},
		{"the flush interval passes", audit.Options{FlushInterval: 250 * time.Millisecond}, func(t *testing.T, l *audit.Log, timer *manualTimer) uint64 {
			deferN(t, l, 2)
			if l.Head().Seq != 0 {
				t.Fatal("committed before the interval passed")
			}
			if timer.fire() != 1 || timer.asked[0] != 250*time.Millisecond {
				t.Fatalf("flush timer armed %v", timer.asked)
			}
			return 2
		}, 1, 0},
		{"a checkpoint commits first", audit.Options{}, func(t *testing.T, l *audit.Log, _ *manualTimer) uint64 {
			deferN(t, l, 2)
			if err := l.Checkpoint(); err != nil {
				t.Fatal(err)
			}
			return 2
		}, 1, 0},
		{"Flush", audit.Options{}, func(t *testing.T, l *audit.Log, _ *manualTimer) uint64 {
			deferN(t, l, 5)
			if err := l.Flush(); err != nil {
				t.Fatal(err)
			}
			return 5
		}, 1, 0},
		{"strict: every deferred append waits for its own commit", audit.Options{Durability: audit.DurabilityStrict}, func(t *testing.T, l *audit.Log, _ *manualTimer) uint64 {
			deferN(t, l, 3)
			return 3
		}, 3, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l, _, timer := openWith(t, tc.opts)
			want := tc.act(t, l, timer)
			if got := l.Head().Seq; got != want {
				t.Errorf("head %d, want %d", got, want)
			}
			if s := l.Stats(); s.Commits != tc.commits || s.Records != want || s.WALWrites != tc.wal {
				t.Errorf("stats: %d commits of %d records, %d write-ahead writes; want %d of %d, %d", s.Commits, s.Records, s.WALWrites, tc.commits, want, tc.wal)
			}
		})
	}
}

func deferN(t *testing.T, l *audit.Log, n int) {
	t.Helper()
	for i := range n {
		if err := l.AppendDeferred(outcome(i, 0)); err != nil {
			t.Fatal(err)
		}
	}
}

// At one client an intent and the previous request's outcome share one
// write to the write-ahead file: one flush of the device per request
// (strict: two commits of two each), the log itself committed in batches.
func TestOneFlushPerRequestAtOneClient(t *testing.T) {
	const n = 50
	for _, tc := range []struct {
		durability   audit.Durability
		commits, wal uint64
	}{{audit.DurabilityGroup, 1, n}, {audit.DurabilityStrict, 2 * n, 0}} {
		t.Run(string(tc.durability), func(t *testing.T) {
			l, path, _ := openWith(t, audit.Options{Durability: tc.durability})
			for i := range n {
				rc, err := l.Append(context.Background(), intent(i))
				if err != nil {
					t.Fatal(err)
				}
				if err := l.AppendDeferred(outcome(i, rc.Seq)); err != nil {
					t.Fatal(err)
				}
			}
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			if s := l.Stats(); s.Commits != tc.commits || s.Records != 2*n || s.WALWrites != tc.wal {
				t.Errorf("%d commits and %d write-ahead writes for %d records, want %d and %d", s.Commits, s.WALWrites, s.Records, tc.commits, tc.wal)
			}
			rep, err := audit.Verify(path, audit.VerifyOptions{})
			if err != nil || !rep.OK() || rep.Verified != 2*n {
				t.Fatalf("verify: %+v %v", rep, err)
			}
		})
	}
}

// A deferred outcome a crash loses shows as an incomplete request: the
// files as they are on disk while the outcome waits (the log and its
// write-ahead file) are what a crash leaves. Verify counts the records
// still in the write-ahead file; opening the copy commits them.
func TestLostDeferredOutcomeIsReportedIncomplete(t *testing.T) {
	l, path, _ := openWith(t, audit.Options{})
	ctx := context.Background()
	rc1, _ := l.Append(ctx, intent(1))
	l.AppendDeferred(outcome(1, rc1.Seq))
	rc2, _ := l.Append(ctx, intent(2)) // carries outcome 1
	if err := l.AppendDeferred(outcome(2, rc2.Seq)); err != nil {
		t.Fatal(err)
	}
	if rc2.Seq != 3 || l.Stats().WALWrites != 2 {
		t.Fatalf("intent 2 at %d, %d write-ahead writes", rc2.Seq, l.Stats().WALWrites)
	}
	crashed := crashCopy(t, path)
	rep, err := audit.Verify(crashed, audit.VerifyOptions{})
	if err != nil || !rep.Intact() || rep.OK() || rep.Pending != 3 || rep.Status() != audit.StatusIncomplete ||
		rep.Incomplete == nil || rep.Incomplete.Count != 1 || rep.Incomplete.FirstSeq != rc2.Seq {
		t.Fatalf("crashed copy: %+v %v", rep, err)
	}
	var exported bytes.Buffer
	if n, err := audit.ExportFile(&exported, crashed, audit.Filter{}, audit.FormatJSONL); err != nil || n != 3 {
		t.Fatalf("export of the crashed copy: %d records, %v", n, err)
	}
	recovered, err := audit.Open(crashed, audit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if s := recovered.Stats(); s.Recovered != 3 || recovered.Head().Seq != 3 {
		t.Fatalf("recovery: %+v head %d", s, recovered.Head().Seq)
	}
	recovered.Close()
	rep, err = audit.Verify(crashed, audit.VerifyOptions{})
	if err != nil || !rep.Intact() || rep.Pending != 0 || rep.LastSeq != 3 || rep.Incomplete == nil || rep.Incomplete.FirstSeq != rc2.Seq {
		t.Fatalf("recovered copy: %+v %v", rep, err)
	}
	if _, err := os.Stat(audit.WALPath(crashed)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("write-ahead file left after a clean close: %v", err)
	}
	l.Close()
	if rep, _ := audit.Verify(path, audit.VerifyOptions{}); !rep.OK() {
		t.Errorf("after Close: %s %+v", rep.Status(), rep.Incomplete)
	}
}

// crashCopy copies the log at path and its write-ahead file as they are
// on disk now.
func crashCopy(t *testing.T, path string) string {
	t.Helper()
	crashed := filepath.Join(t.TempDir(), "crashed.db")
	for from, to := range map[string]string{path: crashed, audit.WALPath(path): audit.WALPath(crashed)} {
		b, err := os.ReadFile(from)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(to, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return crashed
}

func TestRotateCommitsDeferredRecordsFirst(t *testing.T) {
	l, path, _ := openWith(t, audit.Options{})
	deferN(t, l, 3)
	next := filepath.Join(filepath.Dir(path), "next.db")
	if err := l.Rotate(next); err != nil {
		t.Fatal(err)
	}
	deferN(t, l, 2)
	l.Close()
	rep, err := audit.VerifyFiles([]string{path, next}, audit.VerifyOptions{})
	if err != nil || !rep.OK() || rep.Files[0].LastSeq != 3 || rep.LastSeq != 5 {
		t.Fatalf("%+v %v", rep, err)
	}
}

func TestFailedCommitIsReportedAndRecovers(t *testing.T) {
	l, _, _ := openWith(t, audit.Options{})
	if err := l.Healthy(); err != nil {
		t.Fatalf("healthy before: %v", err)
	}
	diskGone := errors.New("input/output error")
	diskBack := failCommits(l, diskGone)
	deferN(t, l, 2)
	if _, err := l.Append(context.Background(), intent(1)); !errors.Is(err, audit.ErrUnavailable) || !errors.Is(err, diskGone) {
		t.Fatalf("append on a failing disk: %v", err)
	}
	s := l.Stats()
	if err := l.Healthy(); !errors.Is(err, audit.ErrUnavailable) || s.CommitErrors != 1 || s.DeferredLost != 2 || s.LastCommitError == "" {
		t.Fatalf("after a failed commit: healthy=%v stats=%+v", err, s)
	}
	diskBack()
	if _, err := l.Append(context.Background(), intent(2)); err != nil {
		t.Fatal(err)
	}
	if err := l.Healthy(); err != nil || l.Stats().LastCommitError != "" {
		t.Errorf("after recovery: %v", err)
	}
	l.Close()
	if err := l.Healthy(); !errors.Is(err, audit.ErrClosed) {
		t.Errorf("closed log healthy: %v", err)
	}
}

func TestStatsAndFreeBytes(t *testing.T) {
	l, _, _ := openWith(t, audit.Options{CheckpointEvery: 10})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 10 {
				if _, err := l.Append(context.Background(), intent(g*10+i)); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	if err := l.Flush(); err != nil {
		t.Fatal(err)
	}
	s := l.Stats()
	if s.WALWrites == 0 || s.WALSeconds.Count != s.WALWrites || s.WALSeconds.Sum <= 0 {
		t.Errorf("write-ahead stats %+v", s)
	}
	if s.Appends != 80 || s.Records != 80 || s.BatchSize.Count != s.Commits || s.BatchSize.Sum != 80 ||
		s.CommitSeconds.Count != s.Commits || s.CommitSeconds.Sum <= 0 || s.Checkpoints == 0 || s.LastCheckpoint.IsZero() {
		t.Errorf("stats %+v", s)
	}
	var inBuckets uint64
	for _, c := range s.BatchSize.Counts {
		inBuckets += c
	}
	if inBuckets != s.Commits || len(s.BatchSize.Counts) != len(s.BatchSize.Bounds)+1 {
		t.Errorf("batch histogram %+v for %d commits", s.BatchSize, s.Commits)
	}
	free, err := l.FreeBytes()
	if err != nil || free == 0 {
		t.Errorf("free bytes %d, %v", free, err)
	}
}

func TestRecordTimeOutOfRangeIsRefused(t *testing.T) {
	l, _, _ := openWith(t, audit.Options{})
	r := intent(1)
	r.Time = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
	if _, err := l.Append(context.Background(), r); !errors.Is(err, audit.ErrInvalid) {
		t.Errorf("append: %v", err)
	}
	if err := l.AppendDeferred(r); !errors.Is(err, audit.ErrInvalid) {
		t.Errorf("deferred: %v", err)
	}
	if _, err := l.Append(context.Background(), intent(2)); err != nil || l.Healthy() != nil {
		t.Errorf("log after refusing: %v %v", err, l.Healthy())
	}
}

func TestUnknownDurabilityIsRefused(t *testing.T) {
	if _, err := audit.Open(filepath.Join(t.TempDir(), "a.db"), audit.Options{Durability: "sometimes"}); err == nil {
		t.Error("opened with an unknown durability")
	}
}

// Each client's records are in the order it appended them, whether its
// durable appends commit on its own goroutine or through the writer: an
// outcome deferred before the next intent precedes it.
func TestRecordsKeepEachClientsOrder(t *testing.T) {
	for _, tc := range []struct {
		durability audit.Durability
		clients    int
	}{{audit.DurabilityGroup, 1}, {audit.DurabilityGroup, 16}, {audit.DurabilityStrict, 16}} {
		t.Run(fmt.Sprintf("%s/clients=%d", tc.durability, tc.clients), func(t *testing.T) {
			const n = 40
			l, path, _ := openWith(t, audit.Options{Durability: tc.durability, CheckpointEvery: 7})
			var wg sync.WaitGroup
			for g := range tc.clients {
				wg.Go(func() { appendRequests(t, l, g, n) })
			}
			wg.Wait()
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			checkClientOrder(t, path, tc.clients*n*2)
		})
	}
}

// appendRequests writes n requests of client g: a durable intent, then its
// outcome deferred.
func appendRequests(t *testing.T, l *audit.Log, g, n int) {
	for i := range n {
		in := intent(i)
		in.RequestID = fmt.Sprintf("c%d", g)
		rc, err := l.Append(context.Background(), in)
		if err != nil {
			t.Error(err)
			return
		}
		out := outcome(i, rc.Seq)
		out.RequestID = in.RequestID
		if err := l.AppendDeferred(out); err != nil {
			t.Error(err)
			return
		}
	}
}

// checkClientOrder reads the file's records and checks that every client's
// alternate intent, outcome, intent, ..., each outcome naming the intent
// just before it.
func checkClientOrder(t *testing.T, path string, want int) {
	t.Helper()
	var out bytes.Buffer
	n, err := audit.ExportFile(&out, path, audit.Filter{}, audit.FormatJSONL)
	if err != nil || n != want {
		t.Fatalf("export: %d records, want %d: %v", n, want, err)
	}
	last := map[string]audit.Record{}
	for line := range bytes.Lines(out.Bytes()) {
		var r audit.Record
		if err := json.Unmarshal(line, &r); err != nil {
			t.Fatal(err)
		}
		prev, seen := last[r.RequestID]
		switch {
		case r.Kind == audit.KindIntent && seen && prev.Kind != audit.KindOutcome,
			r.Kind == audit.KindOutcome && (!seen || prev.Kind != audit.KindIntent || r.IntentSeq != prev.Seq):
			t.Fatalf("client %s: record %d (%s) follows record %d (%s)", r.RequestID, r.Seq, r.Kind, prev.Seq, prev.Kind)
		}
		last[r.RequestID] = r
	}
	rep, err := audit.Verify(path, audit.VerifyOptions{})
	if err != nil || !rep.OK() || rep.Verified != uint64(want) {
		t.Fatalf("verify: %+v %v", rep, err)
	}
}

// Appends racing Close all return: each either reached the file or failed
// with ErrClosed, and none waits for a writer that has gone.
func TestAppendsRacingCloseAllReturn(t *testing.T) {
	for round := range 30 {
		l, path, _ := openWith(t, audit.Options{})
		var written atomic.Int64
		var wg sync.WaitGroup
		for g := range 4 {
			wg.Go(func() {
				for i := 0; ; i++ {
					rec := intent(i)
					var err error
					if (g+i)%2 == 0 {
						_, err = l.Append(context.Background(), rec)
					} else {
						err = l.AppendDeferred(rec)
					}
					if errors.Is(err, audit.ErrClosed) {
						return
					}
					if err != nil {
						t.Error(err)
						return
					}
					written.Add(1)
				}
			})
		}
		for written.Load() < int64(20+round) {
			runtime.Gosched()
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		if !returnsWithin(&wg, 30*time.Second) {
			t.Fatalf("round %d: an append still waits after Close", round)
		}
		var out bytes.Buffer
		n, err := audit.ExportFile(&out, path, audit.Filter{}, audit.FormatJSONL)
		if err != nil || int64(n) != written.Load() {
			t.Fatalf("round %d: %d records in the file, %d appends succeeded: %v", round, n, written.Load(), err)
		}
	}
}
