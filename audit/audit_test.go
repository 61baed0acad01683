package audit_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/binary"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/custos-gateway/custos/audit"
)

func newSigner(t testing.TB) (*audit.KeyFileSigner, ed25519.PublicKey) {
	t.Helper()
	dir := t.TempDir()
	s, err := audit.GenerateKeyFiles(filepath.Join(dir, "k.pem"), filepath.Join(dir, "k.pub"))
	if err != nil {
		t.Fatal(err)
	}
	pub, err := audit.LoadPublicKey(filepath.Join(dir, "k.pub"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := audit.LoadSigner(filepath.Join(dir, "k.pem")); err != nil {
		t.Fatal(err)
	}
	return s, pub
}

func record(i int) audit.Record {
	return audit.Record{
		Kind: audit.KindOutcome, RequestID: fmt.Sprintf("req_%06d", i), Tenant: []string{"st-marys", "northbank"}[i%2],
		App: "clinical-assistant", Purpose: "treatment", Route: "chat.completions",
		ModelRequested: "gpt-4o", ModelServed: "gpt-4o", Endpoint: "azure-openai-eu", Provider: "azure", Region: "eu-west",
		PolicyRevision: "2026-11-27.1+sha256:abc", Decision: &audit.Decision{Allow: true},
		PII:    map[string]audit.PIIAction{"PERSON": {Count: 2, Action: "pseudonymize"}},
		Tokens: &audit.Tokens{Prompt: 120, Completion: 45}, LatencyMS: 812, Status: 200,
	}
}

// writeLog makes a real log of n records with a checkpoint every `every`.
func writeLog(t testing.TB, n, every int) (string, ed25519.PublicKey) {
	t.Helper()
	signer, pub := newSigner(t)
	path := filepath.Join(t.TempDir(), "audit.db")
	l, err := audit.Open(path, audit.Options{Instance: "gw-1", Signer: signer, CheckpointEvery: every})
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
	return path, pub
}

func TestAppendVerifyExport(t *testing.T) {
	path, pub := writeLog(t, 250, 100)
	rep, err := audit.Verify(path, audit.VerifyOptions{PublicKey: pub})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() || rep.Verified != 250 || rep.LastSeq != 250 || rep.Checkpoints != 3 || rep.LastCheckpoint != 250 {
		t.Fatalf("report = %+v (problem %+v)", rep, rep.Problem)
	}

	var jsonl bytes.Buffer
	n, err := audit.ExportFile(&jsonl, path, audit.Filter{Tenant: "northbank"}, audit.FormatJSONL)
	if err != nil || n != 125 {
		t.Fatalf("jsonl export: %d records, %v", n, err)
	}
	first, _, _ := strings.Cut(jsonl.String(), "\n")
	var r audit.Record
	if err := json.Unmarshal([]byte(first), &r); err != nil || r.Seq != 2 || r.Tenant != "northbank" || r.Instance != "gw-1" {
		t.Errorf("first exported record = %+v, %v", r, err)
	}

	var csvOut bytes.Buffer
	n, err = audit.ExportFile(&csvOut, path, audit.Filter{}, audit.FormatCSV)
	if err != nil || n != 250 {
		t.Fatalf("csv export: %d, %v", n, err)
	}
	rows, err := csv.NewReader(&csvOut).ReadAll()
	if err != nil || len(rows) != 251 || rows[0][0] != "seq" || rows[1][22] != "PERSON:2:pseudonymize" {
		t.Errorf("csv: %d rows, header %v, err %v", len(rows), rows[0], err)
	}
	for _, row := range rows {
		if len(row) != len(rows[0]) {
			t.Fatalf("ragged CSV row %v", row)
		}
	}

	from := time.Now().Add(time.Hour)
	if n, _ := audit.ExportFile(io.Discard, path, audit.Filter{From: from}, audit.FormatJSONL); n != 0 {
		t.Errorf("export from the future gave %d records", n)
	}
}

func TestConcurrentAppendsAreAllDurableAndChained(t *testing.T) {
	signer, pub := newSigner(t)
	path := filepath.Join(t.TempDir(), "audit.db")
	l, err := audit.Open(path, audit.Options{Signer: signer, CheckpointEvery: 500})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	seqs := make(chan uint64, 4000)
	for g := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 100 {
				rc, err := l.Append(context.Background(), record(g*100+i))
				if err != nil {
					t.Error(err)
					return
				}
				seqs <- rc.Seq
			}
		}()
	}
	wg.Wait()
	close(seqs)
	seen := map[uint64]bool{}
	for s := range seqs {
		if seen[s] {
			t.Fatalf("sequence %d handed out twice", s)
		}
		seen[s] = true
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Append(context.Background(), record(0)); !errors.Is(err, audit.ErrClosed) {
		t.Errorf("append after close: %v", err)
	}
	rep, err := audit.Verify(path, audit.VerifyOptions{PublicKey: pub})
	if err != nil || !rep.OK() || rep.Verified != 4000 {
		t.Fatalf("verify: %+v %v", rep, err)
	}
}

func TestReopenContinuesTheChain(t *testing.T) {
	signer, pub := newSigner(t)
	path := filepath.Join(t.TempDir(), "audit.db")
	for round := range 3 {
		l, err := audit.Open(path, audit.Options{Signer: signer})
		if err != nil {
			t.Fatal(err)
		}
		for i := range 10 {
			rc, err := l.Append(context.Background(), record(i))
			if err != nil || rc.Seq != uint64(round*10+i+1) {
				t.Fatalf("round %d: seq %d, %v", round, rc.Seq, err)
			}
		}
		l.Close()
	}
	if rep, err := audit.Verify(path, audit.VerifyOptions{PublicKey: pub}); err != nil || !rep.OK() || rep.Verified != 30 {
		t.Fatalf("verify: %+v %v", rep, err)
	}
}

func TestRotationContinuesTheChainAcrossFiles(t *testing.T) {
	signer, pub := newSigner(t)
	dir := t.TempDir()
	cpFile := filepath.Join(dir, "checkpoints.jsonl")
	first, second := filepath.Join(dir, "audit-2026-10.db"), filepath.Join(dir, "audit-2026-11.db")
	l, err := audit.Open(first, audit.Options{Signer: signer, CheckpointFile: cpFile})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		l.Append(context.Background(), record(i))
	}
	if err := l.Flush(); err != nil { // the head moves when the batch is committed
		t.Fatal(err)
	}
	head := l.Head()
	if err := l.Rotate(second); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		rc, _ := l.Append(context.Background(), record(i))
		if rc.Seq != uint64(21+i) {
			t.Fatalf("sequence after rotation = %d", rc.Seq)
		}
	}
	l.Close()
	r1, err := audit.Verify(first, audit.VerifyOptions{PublicKey: pub})
	if err != nil || !r1.OK() || r1.LastSeq != 20 {
		t.Fatalf("first file: %+v %v", r1, err)
	}
	r2, err := audit.Verify(second, audit.VerifyOptions{PublicKey: pub})
	if err != nil || !r2.OK() || r2.FirstSeq != 21 || r2.LastSeq != 25 {
		t.Fatalf("second file: %+v %v", r2, err)
	}
	if r2.Chain.Prev != fmt.Sprintf("%x", head.Hash) || r2.Chain.PreviousFile != first {
		t.Errorf("second file's chain %+v does not continue the first's head %x", r2.Chain, head.Hash)
	}
	data, _ := os.ReadFile(cpFile)
	cps, err := audit.ReadCheckpointFile(data, "")
	if err != nil || len(cps) != 2 {
		t.Errorf("checkpoint file holds %d checkpoints (%v), want 2", len(cps), err)
	}
}

// tamper edits a copy of the log through bbolt, as an attacker with write
// access to the file would.
func tamper(t *testing.T, src string, edit func(records, meta, cps *bolt.Bucket)) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "copy.db")
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(dst, b, 0o600)
	db, err := bolt.Open(dst, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		edit(tx.Bucket([]byte("records")), tx.Bucket([]byte("meta")), tx.Bucket([]byte("checkpoints")))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	return dst
}

func key(seq uint64) []byte {
	var k [8]byte
	binary.BigEndian.PutUint64(k[:], seq)
	return k[:]
}

func TestTamperIsDetectedAtTheRightRecord(t *testing.T) {
	path, pub := writeLog(t, 100, 25) // checkpoints at 25, 50, 75, 100
	_, wrongPub := newSigner(t)
	wrong, _ := newSigner(t)

	flipByteInFile := func() string {
		// A raw edit of the file, as with a hex editor: change one character
		// of record 42's request id.
		b, _ := os.ReadFile(path)
		i := bytes.Index(b, []byte("req_000041"))
		if i < 0 {
			t.Fatal("record not found in file")
		}
		b[i+9] = '9'
		dst := filepath.Join(t.TempDir(), "flipped.db")
		os.WriteFile(dst, b, 0o600)
		return dst
	}
	cases := []struct {
		name string
		file func() string
		pub  ed25519.PublicKey
		seq  uint64
		kind string
	}{
		{"intact", func() string { return path }, pub, 0, ""},
		{"byte flipped in the file", flipByteInFile, pub, 42, audit.ProblemModified},
		{"record modified through bbolt", func() string {
			return tamper(t, path, func(r, _, _ *bolt.Bucket) {
				v := bytes.Clone(r.Get(key(60)))
				v = bytes.Replace(v, []byte(`"status":200`), []byte(`"status":201`), 1)
				r.Put(key(60), v)
			})
		}, pub, 60, audit.ProblemModified},
		{"record deleted", func() string {
			return tamper(t, path, func(r, _, _ *bolt.Bucket) { r.Delete(key(30)) })
		}, pub, 30, audit.ProblemDeleted},
		{"two records swapped", func() string {
			return tamper(t, path, func(r, _, _ *bolt.Bucket) {
				a, b := bytes.Clone(r.Get(key(70))), bytes.Clone(r.Get(key(71)))
				r.Put(key(70), b)
				r.Put(key(71), a)
			})
		}, pub, 70, audit.ProblemReordered},
		{"tail truncated, head rewritten", func() string {
			return tamper(t, path, func(r, m, _ *bolt.Bucket) {
				for s := uint64(91); s <= 100; s++ {
					r.Delete(key(s))
				}
				h := make([]byte, 40)
				binary.BigEndian.PutUint64(h, 90)
				m.Put([]byte("head"), h)
			})
		}, pub, 91, audit.ProblemTruncated},
		{"tail truncated, head left", func() string {
			return tamper(t, path, func(r, _, _ *bolt.Bucket) {
				for s := uint64(98); s <= 100; s++ {
					r.Delete(key(s))
				}
			})
		}, pub, 98, audit.ProblemTruncated},
		{"checkpoints re-signed with a wrong key", func() string {
			return tamper(t, path, func(_, _, cps *bolt.Bucket) {
				cps.ForEach(func(k, v []byte) error {
					var cp audit.Checkpoint
					json.Unmarshal(v, &cp)
					sig, _ := wrong.Sign(cp.Message())
					cp.Sig = base64Std(sig)
					cp.KeyID = wrong.KeyID()
					b, _ := json.Marshal(cp)
					return cps.Put(k, b)
				})
			})
		}, pub, 1, audit.ProblemBadSignature},
		{"intact log, verified with another key", func() string { return path }, wrongPub, 1, audit.ProblemBadSignature},
		{"a checkpoint moved to another head", func() string {
			return tamper(t, path, func(_, _, cps *bolt.Bucket) {
				var cp audit.Checkpoint
				json.Unmarshal(cps.Get(key(75)), &cp)
				cp.Head = strings.Repeat("0", 64)
				b, _ := json.Marshal(cp)
				cps.Put(key(75), b)
			})
		}, pub, 51, audit.ProblemCheckpoint},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rep, err := audit.Verify(tc.file(), audit.VerifyOptions{PublicKey: tc.pub})
			if err != nil {
				t.Fatal(err)
			}
			if tc.kind == "" {
				if !rep.OK() {
					t.Fatalf("intact log reported %+v", rep.Problem)
				}
				return
			}
			if rep.OK() {
				t.Fatalf("tampering not detected: %+v", rep)
			}
			if rep.Problem.Seq != tc.seq || rep.Problem.Kind != tc.kind {
				t.Errorf("problem = %+v, want %s at %d", rep.Problem, tc.kind, tc.seq)
			}
			if rep.Verified != tc.seq-1 && tc.kind != audit.ProblemTruncated && tc.kind != audit.ProblemBadSignature && tc.kind != audit.ProblemCheckpoint {
				t.Errorf("verified %d records before the problem at %d", rep.Verified, tc.seq)
			}
		})
	}
}

// Truncation past the file's last checkpoint is caught by the checkpoints
// shipped to a second location.
func TestExternalCheckpointsCatchTruncation(t *testing.T) {
	signer, pub := newSigner(t)
	dir := t.TempDir()
	path, cpFile := filepath.Join(dir, "audit.db"), filepath.Join(dir, "cp.jsonl")
	l, _ := audit.Open(path, audit.Options{Signer: signer, CheckpointEvery: 10, CheckpointFile: cpFile})
	for i := range 40 {
		l.Append(context.Background(), record(i))
	}
	l.Close()
	// The attacker removes the last records, their checkpoints and fixes the head.
	cut := tamper(t, path, func(r, m, cps *bolt.Bucket) {
		for s := uint64(21); s <= 40; s++ {
			r.Delete(key(s))
			cps.Delete(key(s))
		}
		var h [40]byte
		binary.BigEndian.PutUint64(h[:], 20)
		copy(h[8:], r.Get(key(20))[32:64])
		m.Put([]byte("head"), h[:])
	})
	if rep, _ := audit.Verify(cut, audit.VerifyOptions{PublicKey: pub}); !rep.OK() {
		t.Fatalf("without external checkpoints the cut is invisible, yet: %+v", rep.Problem)
	}
	data, _ := os.ReadFile(cpFile)
	cps, _ := audit.ReadCheckpointFile(data, "audit.db")
	rep, err := audit.Verify(cut, audit.VerifyOptions{PublicKey: pub, Checkpoints: cps})
	if err != nil || rep.OK() || rep.Problem.Kind != audit.ProblemTruncated || rep.Problem.Seq != 21 {
		t.Fatalf("with external checkpoints: %+v %v", rep.Problem, err)
	}
}

func TestRecordsCarryNoContentFields(t *testing.T) {
	// The record type is the guarantee: every string field is metadata.
	b, _ := json.Marshal(record(1))
	for _, forbidden := range []string{"prompt\":\"", "content", "message", "text"} {
		if bytes.Contains(b, []byte(forbidden)) {
			t.Errorf("record JSON has a %q field: %s", forbidden, b)
		}
	}
}

func TestMonthlyRotation(t *testing.T) {
	signer, pub := newSigner(t)
	dir := t.TempDir()
	now := time.Date(2026, 11, 30, 23, 59, 0, 0, time.UTC)
	l, err := audit.Open(filepath.Join(dir, "audit.db"), audit.Options{Signer: signer, RotateMonthly: true, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		l.Append(context.Background(), record(i))
	}
	now = now.Add(2 * time.Minute) // December
	for i := range 2 {
		l.Append(context.Background(), record(i))
	}
	if err := l.Flush(); err != nil { // the commit after the month ended rotates
		t.Fatal(err)
	}
	if got := l.Path(); got != filepath.Join(dir, "audit-2026-12.db") {
		t.Errorf("writing to %s after the month ended", got)
	}
	l.Close()
	r1, _ := audit.Verify(filepath.Join(dir, "audit.db"), audit.VerifyOptions{PublicKey: pub})
	r2, _ := audit.Verify(filepath.Join(dir, "audit-2026-12.db"), audit.VerifyOptions{PublicKey: pub})
	if !r1.OK() || !r2.OK() || r1.LastSeq != 3 || r2.FirstSeq != 4 || r2.LastSeq != 5 {
		t.Errorf("rotated files: %+v / %+v", r1, r2)
	}
}

// A restart after a monthly rotation continues the newest file: the chain
// goes on from its head (not from the base file's older one, which would
// fork it), and the next month still starts a file of its own.
func TestRestartAfterMonthlyRotationContinuesTheNewestFile(t *testing.T) {
	signer, pub := newSigner(t)
	dir := t.TempDir()
	base := filepath.Join(dir, "audit.db")
	now := time.Date(2026, 11, 30, 23, 59, 0, 0, time.UTC)
	open := func() *audit.Log {
		t.Helper()
		l, err := audit.Open(base, audit.Options{Signer: signer, RotateMonthly: true, Now: func() time.Time { return now }})
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	appendN := func(l *audit.Log, n int) {
		t.Helper()
		for i := range n {
			if _, err := l.Append(context.Background(), record(i)); err != nil {
				t.Fatal(err)
			}
		}
	}
	l := open()
	appendN(l, 3)
	now = now.Add(2 * time.Minute) // December: rotates
	appendN(l, 2)
	l.Close()

	cases := []struct {
		name     string
		now      time.Time
		wantPath string // the file written after the restart
		first    uint64 // its first sequence number
	}{
		{"same month", time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC), "audit-2026-12.db", 4},
		{"a later month", time.Date(2027, 1, 1, 0, 5, 0, 0, time.UTC), "audit-2027-01.db", 7},
	}
	for _, tc := range cases {
		now = tc.now
		l := open()
		appendN(l, 1)
		if err := l.Flush(); err != nil {
			t.Fatal(err)
		}
		if got := l.Path(); got != filepath.Join(dir, tc.wantPath) {
			t.Errorf("%s: writing to %s, want %s", tc.name, got, tc.wantPath)
		}
		l.Close()
		r, err := audit.Verify(filepath.Join(dir, tc.wantPath), audit.VerifyOptions{PublicKey: pub})
		if err != nil || !r.OK() || r.FirstSeq != tc.first {
			t.Errorf("%s: %s: %+v %v", tc.name, tc.wantPath, r, err)
		}
	}
	wantLast := map[string]uint64{"audit.db": 3, "audit-2026-12.db": 6, "audit-2027-01.db": 7}
	for name, last := range wantLast {
		r, err := audit.Verify(filepath.Join(dir, name), audit.VerifyOptions{PublicKey: pub})
		if err != nil {
			t.Errorf("%s: %v", name, err)
		} else if !r.OK() || r.LastSeq != last {
			t.Errorf("%s: last %d, want %d (%+v)", name, r.LastSeq, last, r)
		}
	}
}

// A base file reopened in a later month than its last record, before any
// rotation, is continued in that month's file: each file holds one month.
func TestReopenInALaterMonthRotatesTheBaseFile(t *testing.T) {
	signer, pub := newSigner(t)
	dir := t.TempDir()
	base := filepath.Join(dir, "audit.db")
	now := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	for _, month := range []time.Time{now, now.AddDate(0, 0, 12)} { // November, then December
		now = month
		l, err := audit.Open(base, audit.Options{Signer: signer, RotateMonthly: true, Now: func() time.Time { return now }})
		if err != nil {
			t.Fatal(err)
		}
		for i := range 2 {
			if _, err := l.Append(context.Background(), record(i)); err != nil {
				t.Fatal(err)
			}
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
	}
	for name, want := range map[string][2]uint64{"audit.db": {1, 2}, "audit-2026-12.db": {3, 4}} {
		r, err := audit.Verify(filepath.Join(dir, name), audit.VerifyOptions{PublicKey: pub})
		if err != nil {
			t.Errorf("%s: %v", name, err)
		} else if !r.OK() || r.FirstSeq != want[0] || r.LastSeq != want[1] {
			t.Errorf("%s: records %d..%d, want %d..%d (%+v)", name, r.FirstSeq, r.LastSeq, want[0], want[1], r)
		}
	}
}

// Open refuses a rotation set whose newest file cannot be where the chain
// goes on: continuing it, or the file before it, would fork the chain or
// lose records.
func TestOpenRefusesARotationSetThatDoesNotContinue(t *testing.T) {
	nov := time.Date(2026, 11, 30, 23, 59, 0, 0, time.UTC)
	dec := nov.Add(2 * time.Minute)
	// rotated writes November into audit.db and December into
	// audit-2026-12.db, and returns the directory.
	rotated := func(t *testing.T) string {
		t.Helper()
		dir := t.TempDir()
		now := nov
		l, err := audit.Open(filepath.Join(dir, "audit.db"), audit.Options{RotateMonthly: true, Now: func() time.Time { return now }})
		if err != nil {
			t.Fatal(err)
		}
		l.Append(context.Background(), record(1))
		now = dec
		l.Append(context.Background(), record(2))
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	cases := []struct {
		name  string
		spoil func(t *testing.T, dir string)
		want  string // in the error; "" opens
	}{
		{"intact", func(*testing.T, string) {}, ""},
		{"a file of a later month than now", func(t *testing.T, dir string) {
			copyFile(t, filepath.Join(dir, "audit-2026-12.db"), filepath.Join(dir, "audit-2099-12.db"))
		}, "dated after the current month"},
		{"an empty file left by an interrupted rotation", func(t *testing.T, dir string) {
			copyFile(t, filepath.Join(dir, "audit-2026-12.db"), filepath.Join(dir, "audit-2026-11.db")) // keeps December newest
			db, err := bolt.Open(filepath.Join(dir, "audit-2026-12.db.tmp"), 0o600, nil)
			if err != nil {
				t.Fatal(err)
			}
			db.Close()
			os.Rename(filepath.Join(dir, "audit-2026-12.db.tmp"), filepath.Join(dir, "audit-2026-12.db"))
		}, "holds no chain"},
		{"the base file forked past the newest file's start", func(t *testing.T, dir string) {
			now := dec
			l, err := audit.Open(filepath.Join(dir, "audit.db"), audit.Options{Now: func() time.Time { return now }}) // as before the fix
			if err != nil {
				t.Fatal(err)
			}
			l.Append(context.Background(), record(3))
			l.Close()
		}, "audit.db ends at 2 with"},
		{"an older file holds records written ahead", func(t *testing.T, dir string) {
			src, _, _ := openWith(t, audit.Options{}) // its flush timer never fires
			for i := range 2 {
				if _, err := src.Append(context.Background(), intent(i)); err != nil {
					t.Fatal(err)
				}
			}
			copyFile(t, audit.WALPath(src.Path()), audit.WALPath(filepath.Join(dir, "audit.db"))) // frames 1 and 2; its head is 1
		}, "written ahead but not committed (1,"},
		{"a month that does not exist is not part of the set", func(t *testing.T, dir string) {
			copyFile(t, filepath.Join(dir, "audit-2026-12.db"), filepath.Join(dir, "audit-2026-13.db"))
		}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := rotated(t)
			tc.spoil(t, dir)
			now := dec.Add(time.Hour)
			l, err := audit.Open(filepath.Join(dir, "audit.db"), audit.Options{RotateMonthly: true, Now: func() time.Time { return now }})
			if tc.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				defer l.Close()
				if p := l.Path(); p != filepath.Join(dir, "audit-2026-12.db") || l.Head().Seq != 2 {
					t.Errorf("continues %s at %d", p, l.Head().Seq)
				}
				return
			}
			if err == nil {
				l.Close()
				t.Fatalf("opened %s", l.Path())
			}
			if !errors.Is(err, audit.ErrRotationSet) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want ErrRotationSet with %q", err, tc.want)
			}
		})
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}
