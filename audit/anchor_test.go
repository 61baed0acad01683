package audit_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/custos-gateway/custos/audit"
)

// memAnchor keeps checkpoints in memory; block, when set, holds each
// delivery until it is closed.
type memAnchor struct {
	mu    sync.Mutex
	got   []audit.Checkpoint
	block chan struct{}
	fail  error
}

func (m *memAnchor) Anchor(ctx context.Context, cp audit.Checkpoint) error {
	if m.block != nil {
		select {
		case <-m.block:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if m.fail != nil {
		return m.fail
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.got = append(m.got, cp)
	return nil
}

func (m *memAnchor) seqs() []uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []uint64
	for _, cp := range m.got {
		out = append(out, cp.Seq)
	}
	return out
}

// anchoredLog writes n records, a checkpoint every 10, anchored in a file
// and in memory.
func anchoredLog(t testing.TB, n int) (path, anchorFile string, mem *memAnchor, pubKey []byte) {
	t.Helper()
	signer, pub := newSigner(t)
	dir := t.TempDir()
	path, anchorFile = filepath.Join(dir, "audit.db"), filepath.Join(dir, "anchor.jsonl")
	mem = &memAnchor{}
	l, err := audit.Open(path, audit.Options{Signer: signer, CheckpointEvery: 10, Anchors: []audit.Anchor{audit.NewFileAnchor(anchorFile), mem}})
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if _, err := l.Append(context.Background(), record(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return path, anchorFile, mem, pub
}

// cutTail deletes the records after keep and the file's checkpoints after
// them, and rewrites the head: what an attacker with the file would do.
func cutTail(t *testing.T, path string, keep uint64) string {
	return tamper(t, path, func(r, m, cps *bolt.Bucket) {
		c := r.Cursor()
		for k, _ := c.Seek(key(keep + 1)); k != nil; k, _ = c.Seek(key(keep + 1)) {
			r.Delete(k)
		}
		cc := cps.Cursor()
		for k, _ := cc.Seek(key(keep + 1)); k != nil; k, _ = cc.Seek(key(keep + 1)) {
			cps.Delete(k)
		}
		var h [40]byte
		binary.BigEndian.PutUint64(h[:], keep)
		copy(h[8:], r.Get(key(keep))[32:64])
		m.Put([]byte("head"), h[:])
	})
}

func TestAnchorCatchesATailCutWithARewrittenHead(t *testing.T) {
	path, anchorFile, mem, pub := anchoredLog(t, 60)
	if got := mem.seqs(); len(got) != 6 || got[0] != 10 || got[5] != 60 {
		t.Fatalf("the memory anchor received %v, want every checkpoint 10..60", got)
	}
	data, _ := os.ReadFile(anchorFile)
	anchored, err := audit.ReadCheckpointFile(data, "audit.db")
	if err != nil || len(anchored) != 6 {
		t.Fatalf("anchor file: %d checkpoints, %v", len(anchored), err)
	}
	intact, err := audit.Verify(path, audit.VerifyOptions{PublicKey: pub, Checkpoints: anchored})
	if err != nil || !intact.OK() || intact.Anchored != 60 || intact.AnchoredRecords != 60 {
		t.Fatalf("intact log with its anchor: %+v %v", intact, err)
	}
	for _, cut := range []uint64{1, 5, 10, 15, 40, 59} {
		keep := 60 - cut
		cutFile := cutTail(t, path, keep)
		without, err := audit.Verify(cutFile, audit.VerifyOptions{PublicKey: pub})
		if err != nil || !without.OK() {
			t.Fatalf("cut %d: without the anchor the cut is invisible, yet: %+v %v", cut, without.Problem, err)
		}
		with, err := audit.Verify(cutFile, audit.VerifyOptions{PublicKey: pub, Checkpoints: anchored})
		if err != nil || with.OK() || with.Problem.Kind != audit.ProblemTruncated || with.Problem.Seq != keep+1 {
			t.Errorf("cut %d: with the anchor: %+v %v", cut, with.Problem, err)
		}
		if wantAnchored := keep / 10 * 10; with.Anchored != wantAnchored {
			t.Errorf("cut %d: anchored %d, want %d", cut, with.Anchored, wantAnchored)
		}
	}
}

// A slow anchor never holds up an append; Close waits for it.
func TestSlowAnchorDoesNotDelayAppends(t *testing.T) {
	slow := &memAnchor{block: make(chan struct{})}
	l, err := audit.Open(filepath.Join(t.TempDir(), "a.db"), audit.Options{CheckpointEvery: 10, Anchors: []audit.Anchor{slow}})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 30 {
		if _, err := l.Append(context.Background(), record(i)); err != nil {
			t.Fatal(err)
		}
	}
	l.Flush() // the writer has finished the last commit and its checkpoint
	if n := len(slow.seqs()); n != 0 || l.Stats().Checkpoints != 3 {
		t.Fatalf("%d delivered while blocked, %d checkpoints", n, l.Stats().Checkpoints)
	}
	close(slow.block)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if got := slow.seqs(); len(got) != 3 || got[0] != 10 || got[2] != 30 {
		t.Errorf("delivered %v", got)
	}
	if s := l.Stats().Anchors; s.Delivered != 3 || s.LastSeq != 30 || s.Failed != 0 {
		t.Errorf("anchor stats %+v", s)
	}
}

func TestFailingAnchorIsCountedAndFailsClose(t *testing.T) {
	down := &memAnchor{fail: errors.New("vault sealed")}
	l, err := audit.Open(filepath.Join(t.TempDir(), "a.db"), audit.Options{CheckpointEvery: 5, Anchors: []audit.Anchor{down}})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 7 {
		if _, err := l.Append(context.Background(), record(i)); err != nil {
			t.Fatalf("append with the anchor down: %v", err)
		}
	}
	err = l.Close()
	if err == nil || !strings.Contains(err.Error(), "vault sealed") {
		t.Errorf("close: %v", err)
	}
	if s := l.Stats().Anchors; s.Failed != 2 || s.LastError == "" || s.LastSeq != 0 {
		t.Errorf("anchor stats %+v", s)
	}
}

func TestCheckpointFileToleratesATornLastLine(t *testing.T) {
	good := `{"seq":10,"head":"` + strings.Repeat("a", 64) + `","time":"2026-11-30T00:00:00Z"}`
	cases := []struct {
		name string
		data string
		n    int
		ok   bool
	}{
		{"complete", good + "\n" + good + "\n", 2, true},
		{"torn last write", good + "\n" + good[:20], 1, true},
		{"damaged in the middle", good + "\n" + good[:20] + "\n" + good + "\n", 0, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cps, err := audit.ReadCheckpointFile([]byte(tc.data), "")
			if (err == nil) != tc.ok || len(cps) != tc.n {
				t.Errorf("%d checkpoints, %v", len(cps), err)
			}
		})
	}
}

func TestUnauthCounterAggregatesPerSourceAndWindow(t *testing.T) {
	t0 := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	c := audit.NewUnauthCounter(time.Minute, 2)
	steps := []struct {
		at     time.Duration
		source string
		code   string
		ended  int // records of ended windows returned
	}{
		{0, "10.0.0.1", "invalid_api_key", 0},
		{10 * time.Second, "10.0.0.1", "missing_api_key", 0},
		{20 * time.Second, "10.0.0.2", "invalid_api_key", 0},
		{30 * time.Second, "10.0.0.3", "invalid_api_key", 0}, // beyond the bound: folded
		{40 * time.Second, "10.0.0.4", "invalid_api_key", 0},
		{70 * time.Second, "10.0.0.1", "invalid_api_key", 3},
	}
	var ended []audit.Record
	for _, s := range steps {
		out := c.Note(t0.Add(s.at), s.source, "/v1/chat/completions", s.code)
		if len(out) != s.ended {
			t.Fatalf("at %v: %d records, want %d", s.at, len(out), s.ended)
		}
		ended = append(ended, out...)
	}
	want := map[string]int64{"10.0.0.1": 2, "10.0.0.2": 1, audit.OtherSources: 2}
	if ended[0].Unauthenticated.Source != audit.OtherSources || ended[1].Unauthenticated.Source != "10.0.0.1" {
		t.Fatalf("records not in source order: %s, %s", ended[0].Unauthenticated.Source, ended[1].Unauthenticated.Source)
	}
	for _, r := range ended {
		u := r.Unauthenticated
		if r.Kind != audit.KindUnauthenticated || u.Count != want[u.Source] || !u.WindowStart.Equal(t0) || u.WindowSecs != 60 || u.Routes["/v1/chat/completions"] != u.Count {
			t.Errorf("record %+v", u)
		}
	}
	if got := ended[1].Unauthenticated.Codes; got["invalid_api_key"] != 1 || got["missing_api_key"] != 1 {
		t.Errorf("codes %v", got)
	}
	if out := c.Due(t0.Add(90 * time.Second)); len(out) != 0 {
		t.Errorf("window not ended yet, %d records", len(out))
	}
	if out := c.Due(t0.Add(2 * time.Minute)); len(out) != 1 || out[0].Unauthenticated.Count != 1 {
		t.Errorf("due: %+v", out)
	}
	c.Note(t0.Add(3*time.Minute), "10.0.0.9", "/v1/messages", "invalid_api_key")
	if out := c.Drain(); len(out) != 1 || c.Drain() != nil {
		t.Errorf("drain: %+v", out)
	}
}

// slowSigner signs once release is closed, saying when a signature is
// asked for.
type slowSigner struct {
	*audit.KeyFileSigner
	asked   chan struct{}
	release chan struct{}
}

func (s *slowSigner) Sign(msg []byte) ([]byte, error) {
	s.asked <- struct{}{}
	<-s.release
	return s.KeyFileSigner.Sign(msg)
}

// The append that makes a checkpoint due is answered before the head is
// signed (a Vault signature is a network round trip), whether appends
// come one at a time or together.
func TestSigningDoesNotDelayTheAppendThatMakesACheckpointDue(t *testing.T) {
	for _, clients := range []int{1, 4} {
		t.Run(fmt.Sprintf("clients=%d", clients), func(t *testing.T) {
			key, pub := newSigner(t)
			s := &slowSigner{KeyFileSigner: key, asked: make(chan struct{}, 1), release: make(chan struct{})}
			path := filepath.Join(t.TempDir(), "a.db")
			l, err := audit.Open(path, audit.Options{Signer: s, CheckpointEvery: clients})
			if err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			for i := range clients {
				wg.Go(func() {
					if _, err := l.Append(context.Background(), record(i)); err != nil {
						t.Error(err)
					}
				})
			}
			if !returnsWithin(&wg, 5*time.Second) {
				t.Fatal("an append waits for the checkpoint's signature")
			}
			<-s.asked
			close(s.release)
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			rep, err := audit.Verify(path, audit.VerifyOptions{PublicKey: pub})
			if err != nil || !rep.OK() || rep.Verified != uint64(clients) {
				t.Fatalf("verify: %+v %v", rep, err)
			}
		})
	}
}
