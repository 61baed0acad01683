package audit_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/custos-gateway/custos/audit"
)

func intent(i int) audit.Record {
	r := record(i)
	r.Kind, r.Status, r.Tokens = audit.KindIntent, 0, nil
	return r
}

func outcome(i int, intentSeq uint64) audit.Record {
	r := record(i)
	r.IntentSeq = intentSeq
	return r
}

// step is one action of a scripted log: open a request, end one, or rotate.
type step struct {
	open   int // request number to open (intent), or -1
	end    int // request number to end (outcome), or -1
	rotate bool
}

func opens(i int) step { return step{open: i, end: -1} }
func ends(i int) step  { return step{open: -1, end: i} }
func rotates() step    { return step{open: -1, end: -1, rotate: true} }

// script writes the steps to a log, rotating into numbered files; it returns
// the files and each request's intent sequence number.
func script(t *testing.T, steps []step) ([]string, map[int]uint64) {
	t.Helper()
	signer, _ := newSigner(t)
	dir := t.TempDir()
	files := []string{filepath.Join(dir, "audit-0.db")}
	l, err := audit.Open(files[0], audit.Options{Signer: signer})
	if err != nil {
		t.Fatal(err)
	}
	seqs := map[int]uint64{}
	ctx := context.Background()
	for _, s := range steps {
		switch {
		case s.rotate:
			files = append(files, filepath.Join(dir, fmt.Sprintf("audit-%d.db", len(files))))
			if err := l.Rotate(files[len(files)-1]); err != nil {
				t.Fatal(err)
			}
		case s.open >= 0:
			rc, err := l.Append(ctx, intent(s.open))
			if err != nil {
				t.Fatal(err)
			}
			seqs[s.open] = rc.Seq
		default:
			if _, err := l.Append(ctx, outcome(s.end, seqs[s.end])); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return files, seqs
}

func TestVerifyReportsIntentsWithoutOutcome(t *testing.T) {
	cases := []struct {
		name      string
		steps     []step
		count     int
		firstOpen int // request whose intent is the first left open
	}{
		{"every request ended", []step{opens(1), ends(1), opens(2), opens(3), ends(3), ends(2)}, 0, 0},
		{"one never ended", []step{opens(1), ends(1), opens(2), opens(3), ends(3)}, 1, 2},
		{"two never ended", []step{opens(1), opens(2), opens(3), ends(2)}, 2, 1},
		{"outcome without intent (refused before forwarding)", []step{opens(1), ends(1), ends(9)}, 0, 0},
		{"nothing but intents", []step{opens(1), opens(2), opens(3)}, 3, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			files, seqs := script(t, tc.steps)
			rep, err := audit.Verify(files[0], audit.VerifyOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if !rep.Intact() {
				t.Fatalf("problem %+v", rep.Problem)
			}
			if tc.count == 0 {
				if !rep.OK() || rep.Incomplete != nil || rep.Status() != audit.StatusIntact {
					t.Fatalf("complete log reported %+v (%s)", rep.Incomplete, rep.Status())
				}
				return
			}
			if rep.OK() || rep.Status() != audit.StatusIncomplete {
				t.Fatalf("incomplete log reported OK (%s)", rep.Status())
			}
			if rep.Incomplete.Count != tc.count || rep.Incomplete.FirstSeq != seqs[tc.firstOpen] {
				t.Errorf("incomplete = %+v, want %d from seq %d", rep.Incomplete, tc.count, seqs[tc.firstOpen])
			}
		})
	}
}

// An outcome may land in the next file: pairing spans the files of a chain.
func TestVerifyFilesPairsAcrossRotation(t *testing.T) {
	files, seqs := script(t, []step{opens(1), ends(1), opens(2), opens(3), rotates(), ends(2), opens(4), ends(4), rotates(), ends(3)})
	if len(files) != 3 {
		t.Fatalf("%d files", len(files))
	}
	alone, err := audit.Verify(files[0], audit.VerifyOptions{})
	if err != nil || alone.Incomplete == nil || alone.Incomplete.Count != 2 || alone.Incomplete.FirstSeq != seqs[2] {
		t.Fatalf("first file alone: %+v %v", alone, err)
	}
	cases := []struct {
		name   string
		files  []string
		status string
		count  int
	}{
		{"in order", files, audit.StatusIntact, 0},
		{"any order", []string{files[2], files[0], files[1]}, audit.StatusIntact, 0},
		{"last file missing", files[:2], audit.StatusIncomplete, 1},
		{"later files alone", files[1:], audit.StatusIntact, 0},
		{"middle file missing", []string{files[0], files[2]}, audit.StatusTampered, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rep, err := audit.VerifyFiles(tc.files, audit.VerifyOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Status() != tc.status {
				t.Fatalf("status %s, want %s (problem %+v, incomplete %+v)", rep.Status(), tc.status, rep.Problem, rep.Incomplete)
			}
			if tc.count > 0 && (rep.Incomplete.Count != tc.count || rep.Incomplete.FirstSeq != seqs[3]) {
				t.Errorf("incomplete %+v, want %d from %d", rep.Incomplete, tc.count, seqs[3])
			}
			if tc.status == audit.StatusTampered && (rep.Problem.Kind != audit.ProblemDeleted || rep.Problem.Seq != rep.Files[0].LastSeq+1) {
				t.Errorf("problem %+v", rep.Problem)
			}
			if tc.status == audit.StatusIntact && (rep.Verified != rep.LastSeq-rep.FirstSeq+1 || len(rep.Files) != len(tc.files)) {
				t.Errorf("verified %d of %d..%d in %d files", rep.Verified, rep.FirstSeq, rep.LastSeq, len(rep.Files))
			}
		})
	}
}

// Two chains that do not continue each other are not one log.
func TestVerifyFilesRejectsAForeignFile(t *testing.T) {
	a, _ := script(t, []step{opens(1), ends(1), rotates(), opens(2), ends(2)})
	b, _ := script(t, []step{opens(1), ends(1), rotates(), opens(7), ends(7)})
	rep, err := audit.VerifyFiles([]string{a[0], b[1]}, audit.VerifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Intact() || rep.Problem.Kind != audit.ProblemReordered || rep.Problem.Seq != 3 {
		t.Fatalf("foreign continuation: %+v", rep.Problem)
	}
}

// FuzzPairingFields: reading kind and intent_seq without decoding agrees
// with decoding, whatever the string fields hold.
func FuzzPairingFields(f *testing.F) {
	f.Add("req_1", "chat", "PERSON", uint64(7), true)
	f.Add(`a","kind":"intent`, `,"intent_seq":9`, "intent_seq", uint64(0), false)
	f.Fuzz(func(t *testing.T, id, route, class string, intentSeq uint64, isOutcome bool) {
		r := record(1)
		r.RequestID, r.Route, r.IntentSeq = id, route, intentSeq
		r.PII = map[string]audit.PIIAction{class: {Count: 1, Action: "block"}}
		if !isOutcome {
			r.Kind = audit.KindIntent
		}
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err) // strings always marshal (invalid UTF-8 as U+FFFD)
		}
		kind, seq := audit.PairingFields(b)
		want := uint64(0)
		if r.Kind == audit.KindOutcome {
			want = intentSeq
		}
		if kind != r.Kind || seq != want {
			t.Fatalf("read (%q, %d) from %s, want (%q, %d)", kind, seq, b, r.Kind, want)
		}
	})
}

func TestRotatedFiles(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"audit.db", "audit-2026-11.db", "audit-2026-10.db", "audit-2026-1.db", "audit-x-2026-10.db", "other-2026-10.db", "audit-2026-10.db.bak"} {
		os.WriteFile(filepath.Join(dir, n), nil, 0o600)
	}
	got, err := audit.RotatedFiles(filepath.Join(dir, "audit.db"))
	want := []string{"audit.db", "audit-2026-10.db", "audit-2026-11.db"}
	if err != nil || len(got) != len(want) {
		t.Fatalf("RotatedFiles = %v, %v; want %v", got, err, want)
	}
	for i := range want {
		if got[i] != filepath.Join(dir, want[i]) {
			t.Errorf("file %d = %s, want %s", i, got[i], want[i])
		}
	}
}
