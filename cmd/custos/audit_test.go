package main

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/custos-gateway/custos/audit"
)

// verifyLog writes a log of requests across a monthly rotation: request 1
// ends in October, request 2 starts in October and ends in November,
// request 3 is left open when open3 is set.
func verifyLog(t *testing.T, open3 bool) (dir string) {
	t.Helper()
	dir = t.TempDir()
	now := time.Date(2026, 10, 31, 23, 59, 0, 0, time.UTC)
	l, err := audit.Open(filepath.Join(dir, "audit.db"), audit.Options{RotateMonthly: true, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	add := func(kind, id string, intent uint64) uint64 {
		rc, err := l.Append(ctx, audit.Record{Kind: kind, RequestID: id, IntentSeq: intent})
		if err != nil {
			t.Fatal(err)
		}
		return rc.Seq
	}
	add(audit.KindOutcome, "r1", add(audit.KindIntent, "r1", 0))
	s2 := add(audit.KindIntent, "r2", 0)
	now = now.Add(2 * time.Minute)
	add(audit.KindOutcome, "r2", s2)
	if open3 {
		add(audit.KindIntent, "r3", 0)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestAuditVerifyExitCodes(t *testing.T) {
	bin := buildCustos(t)
	complete, incomplete := verifyLog(t, false), verifyLog(t, true)
	tampered := filepath.Join(t.TempDir(), "audit.db")
	b, _ := os.ReadFile(filepath.Join(complete, "audit.db"))
	os.WriteFile(tampered, b, 0o600)
	db, err := bolt.Open(tampered, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	db.Update(func(tx *bolt.Tx) error { return tx.Bucket([]byte("records")).Delete([]byte{0, 0, 0, 0, 0, 0, 0, 2}) })
	db.Close()

	cut, anchor := cutAnchoredLog(t)
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"tail cut, head rewritten, no anchor", []string{"--db", cut}, 0, "no anchor given"},
		{"tail cut, head rewritten, with the anchor", []string{"--db", cut, "--checkpoints", anchor}, exitTampered, "TAMPERED at sequence 11: truncated"},
		{"a chain, complete", []string{"--db", filepath.Join(complete, "audit.db"), "--chain"}, 0, "intact"},
		{"both files named", []string{"--db", filepath.Join(complete, "audit-2026-11.db"), "--db", filepath.Join(complete, "audit.db")}, 0, "2 files: 4 record(s)"},
		{"the first month alone", []string{"--db", filepath.Join(complete, "audit.db")}, exitIncomplete, "1 request(s) have an intent record and no outcome record, the first at sequence 3"},
		{"a request left open", []string{"--db", filepath.Join(incomplete, "audit.db"), "--chain"}, exitIncomplete, "the first at sequence 5"},
		{"a record deleted", []string{"--db", tampered}, exitTampered, "TAMPERED at sequence 2: deleted"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, err := exec.Command(bin, append([]string{"audit", "verify"}, tc.args...)...).CombinedOutput()
			code := 0
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != tc.code || !strings.Contains(string(out), tc.want) {
				t.Errorf("exit %d, want %d; output:\n%s\nwant it to say %q", code, tc.code, out, tc.want)
			}
		})
	}
}

// cutAnchoredLog writes 12 records anchored every 5 and cuts the last two
// with the checkpoint after them, rewriting the head.
func cutAnchoredLog(t *testing.T) (cut, anchor string) {
	dir := t.TempDir()
	cut, anchor = filepath.Join(dir, "audit.db"), filepath.Join(dir, "anchor.jsonl")
	l, err := audit.Open(cut, audit.Options{CheckpointEvery: 5, CheckpointFile: anchor})
	if err != nil {
		t.Fatal(err)
	}
	for range 12 {
		if _, err := l.Append(context.Background(), audit.Record{Kind: audit.KindExport}); err != nil {
			t.Fatal(err)
		}
	}
	l.Close()
	db, err := bolt.Open(cut, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Update(func(tx *bolt.Tx) error {
		recs, cps := tx.Bucket([]byte("records")), tx.Bucket([]byte("checkpoints"))
		for _, seq := range []byte{11, 12} {
			recs.Delete([]byte{0, 0, 0, 0, 0, 0, 0, seq})
			cps.Delete([]byte{0, 0, 0, 0, 0, 0, 0, seq})
		}
		head := append([]byte{0, 0, 0, 0, 0, 0, 0, 10}, recs.Get([]byte{0, 0, 0, 0, 0, 0, 0, 10})[32:64]...)
		return tx.Bucket([]byte("meta")).Put([]byte("head"), head)
	})
	if err != nil {
		t.Fatal(err)
	}
	return cut, anchor
}
