package audit_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/custos-gateway/custos/audit"
)

// appendIntents appends n intents durably and returns the last sequence
// number.
func appendIntents(t *testing.T, l *audit.Log, from, n int) uint64 {
	t.Helper()
	var last uint64
	for i := range n {
		rc, err := l.Append(context.Background(), intent(from+i))
		if err != nil {
			t.Fatal(err)
		}
		last = rc.Seq
	}
	return last
}

// What a crash leaves in the write-ahead file, and what opening the log
// then commits: only whole frames that continue the log's head.
func TestWriteAheadFileRecovery(t *testing.T) {
	cases := []struct {
		name string
		// damage changes the crashed copy's write-ahead file.
		damage  func(t *testing.T, wal string)
		pending uint64 // what Verify counts and Open commits
		openErr string
	}{
		{"intact", func(*testing.T, string) {}, 5, ""},
		{"last frame torn", func(t *testing.T, wal string) { cutFrameTail(t, wal, 5) }, 4, ""},
		{"last frame flipped", func(t *testing.T, wal string) { flipInFrame(t, wal, 5) }, 4, ""},
		{"first frame flipped", func(t *testing.T, wal string) { flipInFrame(t, wal, 1) }, 0, ""},
		{"a frame of another file", func(t *testing.T, wal string) { replaceWAL(t, wal, 40) }, 0, "does not continue"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l, path, _ := openWith(t, audit.Options{})
			appendIntents(t, l, 0, 3)
			if err := l.Flush(); err != nil { // 3 in the log, the file starts again
				t.Fatal(err)
			}
			appendIntents(t, l, 3, 5) // 4..8 in the write-ahead file only
			crashed := crashCopy(t, path)
			tc.damage(t, audit.WALPath(crashed))
			rep, err := audit.Verify(crashed, audit.VerifyOptions{})
			if tc.openErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.openErr) {
					t.Fatalf("verify: %+v %v", rep, err)
				}
				if _, err := audit.Open(crashed, audit.Options{}); err == nil || !strings.Contains(err.Error(), tc.openErr) {
					t.Fatalf("open: %v, want an error saying %q", err, tc.openErr)
				}
				return
			}
			if err != nil || !rep.Intact() || rep.LastSeq != 3 || rep.Pending != tc.pending {
				t.Fatalf("verify: %+v %v", rep, err)
			}
			r, err := audit.Open(crashed, audit.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if s := r.Stats(); s.Recovered != tc.pending {
				t.Errorf("recovered %d, want %d", s.Recovered, tc.pending)
			}
			if seq := appendIntents(t, r, 100, 1); seq != 3+tc.pending+1 {
				t.Errorf("next append at %d, want %d", seq, 3+tc.pending+1)
			}
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}
			rep, err = audit.Verify(crashed, audit.VerifyOptions{})
			if err != nil || !rep.Intact() || rep.Pending != 0 || rep.LastSeq != 3+tc.pending+1 {
				t.Fatalf("after recovery: %+v %v", rep, err)
			}
		})
	}
}

// Frames of an earlier pass over the file, past the current pass's end,
// are never taken for records: their sequence numbers are lower.
func TestWriteAheadFileIgnoresEarlierPasses(t *testing.T) {
	l, path, _ := openWith(t, audit.Options{})
	appendIntents(t, l, 0, 20) // a long first pass
	if err := l.Flush(); err != nil {
		t.Fatal(err)
	}
	appendIntents(t, l, 20, 2) // a short second pass over its start
	rep, err := audit.Verify(crashCopy(t, path), audit.VerifyOptions{})
	if err != nil || rep.LastSeq != 20 || rep.Pending != 2 {
		t.Fatalf("%+v %v", rep, err)
	}
	recs, err := audit.PendingRecords(path, 20)
	if err != nil || len(recs) != 2 || recs[0].Seq != 21 || recs[1].Seq != 22 || recs[0].RequestID != intent(20).RequestID {
		t.Fatalf("pending %+v %v", recs, err)
	}
}

// A failing write to the write-ahead file fails the durable append and the
// deferred records it would have carried; nothing of them is committed.
// A failing commit of what the file holds keeps those records and refuses
// durable appends until a commit succeeds.
func TestWriteAheadFailures(t *testing.T) {
	l, path, _ := openWith(t, audit.Options{})
	ctx := context.Background()
	held := appendIntents(t, l, 0, 2) // in the write-ahead file
	diskGone := errors.New("input/output error")
	diskBack := failCommits(l, diskGone)
	if err := l.Flush(); !errors.Is(err, diskGone) {
		t.Fatalf("flush on a failing disk: %v", err)
	}
	if _, err := l.Append(ctx, intent(5)); !errors.Is(err, audit.ErrUnavailable) {
		t.Fatalf("durable append while the log cannot commit: %v", err)
	}
	if err := l.Healthy(); !errors.Is(err, audit.ErrUnavailable) {
		t.Fatalf("healthy while stuck: %v", err)
	}
	diskBack()
	rc, err := l.Append(ctx, intent(6))
	if err != nil || rc.Seq != held+1 {
		t.Fatalf("append after the disk came back: %+v %v (the held records end at %d)", rc, err, held)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	rep, err := audit.Verify(path, audit.VerifyOptions{})
	if err != nil || !rep.Intact() || rep.Pending != 0 || rep.LastSeq != held+1 {
		t.Fatalf("%+v %v", rep, err)
	}
	if _, err := os.Stat(audit.WALPath(path)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("write-ahead file left after a clean close: %v", err)
	}
}

// frameAt returns the offset and length of the k-th frame (from 1) of the
// write-ahead file's current pass.
func frameAt(t *testing.T, b []byte, k int) (off, n int) {
	t.Helper()
	for i := 1; ; i++ {
		if off+16 > len(b) {
			t.Fatalf("no frame %d", k)
		}
		n = 16 + int(binary.BigEndian.Uint32(b[off:]))
		if i == k {
			return off, n
		}
		off += n
	}
}

func rewrite(t *testing.T, wal string, f func(b []byte)) {
	t.Helper()
	b, err := os.ReadFile(wal)
	if err != nil {
		t.Fatal(err)
	}
	f(b)
	if err := os.WriteFile(wal, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// cutFrameTail zeroes the end of frame k, as a write cut by power loss.
func cutFrameTail(t *testing.T, wal string, k int) {
	rewrite(t, wal, func(b []byte) {
		off, n := frameAt(t, b, k)
		clear(b[off+n-5 : off+n])
	})
}

func flipInFrame(t *testing.T, wal string, k int) {
	rewrite(t, wal, func(b []byte) {
		off, n := frameAt(t, b, k)
		b[off+n/2] ^= 0x40
	})
}

// replaceWAL leaves one well-formed frame, numbered seq, at the start.
func replaceWAL(t *testing.T, wal string, seq uint64) {
	rewrite(t, wal, func(b []byte) {
		body, _ := json.Marshal(audit.Record{Seq: seq, Kind: audit.KindIntent})
		crc := crc32.MakeTable(crc32.Castagnoli)
		var hdr [16]byte
		binary.BigEndian.PutUint32(hdr[0:], uint32(len(body)))
		binary.BigEndian.PutUint64(hdr[8:], seq)
		binary.BigEndian.PutUint32(hdr[4:], crc32.Update(crc32.Checksum(hdr[8:], crc), crc, body))
		clear(b)
		copy(b, append(hdr[:], body...))
	})
}

// FuzzWALFrames: the frames of a pass, followed by an earlier pass's
// leftovers, cut short or with a byte changed anywhere, read back as a
// prefix of what was written: never a frame out of order, never a
// damaged one, never an earlier pass's.
func FuzzWALFrames(f *testing.F) {
	f.Add(uint64(1), "a,b,c", uint64(0), uint16(0), uint16(0), byte(0))
	f.Add(uint64(40), "req-1,req-2", uint64(7), uint16(60), uint16(3), byte(0x40))
	f.Fuzz(func(t *testing.T, first uint64, idList string, stale uint64, cut, at uint16, flip byte) {
		first = 1 + first%(1<<40)
		ids := strings.Split(idList, ",")
		b := audit.EncodeFrames(first, ids)
		whole := len(b)
		// An earlier pass: lower numbers, after this pass's end.
		b = append(b, audit.EncodeFrames(first-min(first-1, 1+stale%8), []string{"old", "older"})...)
		if cut > 0 {
			b = b[:len(b)-int(cut)%len(b)]
		}
		damaged := flip != 0 && len(b) > 0
		if damaged {
			b[int(at)%len(b)] ^= flip
		}
		got := audit.ReadFrames(b)
		if len(got) > len(ids) {
			t.Fatalf("read %d frames, %d written: %v", len(got), len(ids), got)
		}
		for i, seq := range got {
			if seq != first+uint64(i) {
				t.Fatalf("frame %d numbered %d, want %d", i, seq, first+uint64(i))
			}
		}
		if !damaged && len(b) >= whole && len(got) != len(ids) {
			t.Fatalf("undamaged: read %d of %d frames", len(got), len(ids))
		}
	})
}

// openingJournal begins every file it creates with an opening record, as
// the credit journal does for a file continuing one with balances.
type openingJournal struct{}

func (openingJournal) Open(_ *bolt.Tx, created bool) (*audit.Record, error) {
	if !created {
		return nil, nil
	}
	return &audit.Record{Kind: audit.KindOpening, Opening: &audit.Opening{}}, nil
}
func (openingJournal) Apply(*bolt.Tx, []audit.Written) error { return nil }
func (openingJournal) Committed(error)                       {}

// Monthly rotation and the write-ahead file: the month's first record is
// numbered after the new file's opening record (the number its append
// returned is the one committed), the write-ahead file follows the file
// being written, and a crash in the new month is recovered by opening
// that file, without rotating again.
func TestWriteAheadAcrossMonthlyRotation(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 11, 30, 23, 59, 0, 0, time.UTC)
	opts := audit.Options{RotateMonthly: true, Journal: openingJournal{}, Now: func() time.Time { return now }}
	base := filepath.Join(dir, "audit.db")
	l, err := audit.Open(base, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	appendIntents(t, l, 0, 2) // the base file's opening record, then 2..3
	now = now.Add(2 * time.Minute)
	december := filepath.Join(dir, "audit-2026-12.db")
	got := appendIntents(t, l, 2, 3)
	// The base file: opening + 2 intents (1..3); December: opening at 4,
	// intents 5..7.
	if got != 7 || l.Path() != december {
		t.Fatalf("last intent at %d in %s, want 7 in %s", got, l.Path(), december)
	}
	if _, err := os.Stat(audit.WALPath(base)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the base file's write-ahead file is left after rotation: %v", err)
	}
	crashed := crashCopy(t, december)
	rep, err := audit.Verify(crashed, audit.VerifyOptions{})
	if err != nil || !rep.Intact() || rep.LastSeq != 4 || rep.Pending != 3 {
		t.Fatalf("crashed December: %+v %v", rep, err)
	}
	r, err := audit.Open(crashed, opts)
	if err != nil {
		t.Fatal(err)
	}
	if s := r.Stats(); s.Recovered != 3 || r.Path() != crashed {
		t.Errorf("recovered %d into %s", s.Recovered, r.Path())
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	recs := exportAll(t, crashed)
	if len(recs) != 4 || recs[0].Kind != audit.KindOpening || recs[3].Seq != 7 || recs[3].RequestID != intent(4).RequestID {
		t.Fatalf("December after recovery: %+v", recs)
	}
}

// A log reopened strict after a crash under group durability commits what
// the write-ahead file held and then writes none.
func TestStrictReopenCommitsWhatWasWrittenAhead(t *testing.T) {
	l, path, _ := openWith(t, audit.Options{})
	appendIntents(t, l, 0, 4)
	crashed := crashCopy(t, path)
	r, err := audit.Open(crashed, audit.Options{Durability: audit.DurabilityStrict})
	if err != nil {
		t.Fatal(err)
	}
	if s := r.Stats(); s.Recovered != 4 {
		t.Errorf("recovered %d, want 4", s.Recovered)
	}
	if rc, err := r.Append(context.Background(), intent(9)); err != nil || rc.Seq != 5 {
		t.Fatalf("append after the strict reopen: %+v %v", rc, err)
	}
	if _, err := os.Stat(audit.WALPath(crashed)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a strict log kept a write-ahead file: %v", err)
	}
	r.Close()
}

func exportAll(t *testing.T, path string) []audit.Record {
	t.Helper()
	var b bytes.Buffer
	if _, err := audit.ExportFile(&b, path, audit.Filter{}, audit.FormatJSONL); err != nil {
		t.Fatal(err)
	}
	var out []audit.Record
	for _, line := range bytes.Split(bytes.TrimSpace(b.Bytes()), []byte("\n")) {
		var r audit.Record
		if err := json.Unmarshal(line, &r); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}
