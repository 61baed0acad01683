package audit

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Problem kinds Verify reports.
const (
	ProblemModified     = "modified"      // a record's content does not match its hash
	ProblemDeleted      = "deleted"       // a sequence number is missing
	ProblemReordered    = "reordered"     // a record does not chain to its predecessor (moved, inserted or replaced)
	ProblemTruncated    = "truncated"     // records a checkpoint or the head vouches for are missing
	ProblemCheckpoint   = "checkpoint"    // a checkpoint names a head the chain does not have
	ProblemBadSignature = "bad_signature" // a checkpoint's signature does not verify
)

// Verification outcomes, from best to worst.
const (
	// StatusIntact: no integrity problem, and every request whose intent
	// was recorded has its outcome.
	StatusIntact = "intact"
	// StatusIncomplete: no integrity problem, but some intents have no
	// outcome (a crash lost them, or requests were in flight when the
	// file was copied).
	StatusIncomplete = "incomplete"
	// StatusTampered: an integrity problem was found.
	StatusTampered = "tampered"
)

// Problem is the first integrity failure found.
type Problem struct {
	Seq    uint64 `json:"seq"`
	Kind   string `json:"kind"`
	Detail string `json:"detail"`
}

// Incomplete counts the requests whose intent record has no outcome record.
type Incomplete struct {
	Count    int    `json:"count"`
	FirstSeq uint64 `json:"first_seq"` // the oldest such intent
}

// Report is Verify's result. For several files (VerifyFiles) the top level
// sums them and Files holds each file's own report.
type Report struct {
	File              string `json:"file"`
	Verified          uint64 `json:"verified"` // records verified before any problem
	FirstSeq          uint64 `json:"first_seq"`
	LastSeq           uint64 `json:"last_seq"`
	Head              string `json:"head,omitempty"` // hex hash of record LastSeq
	Checkpoints       int    `json:"checkpoints"`
	SignaturesChecked bool   `json:"signatures_checked"`
	LastCheckpoint    uint64 `json:"last_checkpoint"`
	// Anchored is the newest external (anchored) checkpoint found in the
	// chain, and AnchoredRecords how many records, from FirstSeq, it proves
	// were written and not cut since; 0 when no anchor was given.
	Anchored        uint64      `json:"anchored"`
	AnchoredRecords uint64      `json:"anchored_records"`
	Chain           Chain       `json:"chain"`
	Problem         *Problem    `json:"problem,omitempty"`
	Incomplete      *Incomplete `json:"incomplete,omitempty"`
	// Pending counts the records after LastSeq held in the write-ahead
	// file beside the last file (durable, not yet committed to the file:
	// a crash left them, and opening the log commits them). They are
	// paired with intents but not part of the chain yet: a log with
	// pending records is not OK.
	Pending uint64    `json:"pending,omitempty"`
	Files   []*Report `json:"files,omitempty"`
}

// Intact reports whether no integrity problem was found.
func (r *Report) Intact() bool { return r.Problem == nil }

// OK reports whether the log verified intact and complete: a log with
// requests lacking their outcome is never OK.
func (r *Report) OK() bool { return r.Problem == nil && r.Incomplete == nil && r.Pending == 0 }

// Status is StatusIntact, StatusIncomplete or StatusTampered.
func (r *Report) Status() string {
	switch {
	case r.Problem != nil:
		return StatusTampered
	case r.Incomplete != nil || r.Pending > 0:
		return StatusIncomplete
	}
	return StatusIntact
}

// VerifyOptions add what the file alone cannot prove.
type VerifyOptions struct {
	// PublicKey checks every checkpoint's signature.
	PublicKey ed25519.PublicKey
	// Checkpoints from the anchors (a second location), checked like the
	// file's own; one newer than the chain's end is truncation.
	Checkpoints []Checkpoint
}

// Verify checks a log file offline, read-only: every record's hash, every
// link of the chain, sequence continuity, every checkpoint against the chain
// (and its signature, given a public key), and that nothing a checkpoint or
// the head vouches for is missing. It stops at the first problem. It also
// pairs every intent with its outcome and reports the intents left without
// one (outcomes of intents in an earlier file are not counted).
func Verify(path string, opts VerifyOptions) (*Report, error) {
	v := &verifier{opts: opts, open: map[uint64]struct{}{}}
	rep, err := v.file(path, true)
	if err != nil {
		return nil, err
	}
	rep.Incomplete = v.incomplete()
	return rep, nil
}

// VerifyFiles verifies the files of one chain (a log and the files monthly
// rotation or Rotate continued it in), given in any order: each file as
// Verify does, that each continues its predecessor's head exactly, and the
// pairing of intents with outcomes across them (an outcome may land in the
// next file). External checkpoints are matched to files by sequence number.
func VerifyFiles(paths []string, opts VerifyOptions) (*Report, error) {
	if len(paths) == 0 {
		return nil, fmt.Errorf("audit: no files to verify")
	}
	ordered, err := SortChain(paths)
	if err != nil {
		return nil, err
	}
	v := &verifier{opts: opts, open: map[uint64]struct{}{}}
	total := &Report{File: ordered[0], SignaturesChecked: opts.PublicKey != nil}
	for i, path := range ordered {
		rep, err := v.file(path, i == len(ordered)-1)
		if err != nil {
			return nil, err
		}
		if i > 0 && rep.Problem == nil {
			rep.Problem = continues(total, rep)
		}
		total.add(rep, i == 0)
		if rep.Problem != nil {
			break
		}
	}
	total.Incomplete = v.incomplete()
	return total, nil
}

// add folds one file's report into a set's.
func (total *Report) add(rep *Report, first bool) {
	if first {
		total.FirstSeq, total.Chain = rep.FirstSeq, rep.Chain
	}
	total.Files = append(total.Files, rep)
	total.Verified += rep.Verified
	total.Pending += rep.Pending
	total.Checkpoints += rep.Checkpoints
	if rep.Verified > 0 || first {
		total.LastSeq, total.Head = rep.LastSeq, rep.Head
	}
	if rep.LastCheckpoint > 0 {
		total.LastCheckpoint = rep.LastCheckpoint
	}
	if rep.Anchored > 0 {
		total.Anchored = rep.Anchored
		total.AnchoredRecords = rep.Anchored - total.FirstSeq + 1
	}
	if total.Problem == nil {
		total.Problem = rep.Problem
	}
}

// continues checks that a file's chain starts where the previous files end.
func continues(prev, next *Report) *Problem {
	switch {
	case next.Chain.FirstSeq > prev.LastSeq+1:
		return &Problem{Seq: prev.LastSeq + 1, Kind: ProblemDeleted,
			Detail: fmt.Sprintf("records %d to %d are missing between %s and %s", prev.LastSeq+1, next.Chain.FirstSeq-1, filepath.Base(prev.Files[len(prev.Files)-1].File), filepath.Base(next.File))}
	case next.Chain.FirstSeq <= prev.LastSeq:
		return &Problem{Seq: next.Chain.FirstSeq, Kind: ProblemReordered,
			Detail: fmt.Sprintf("%s restarts the chain at %d, inside the previous file", filepath.Base(next.File), next.Chain.FirstSeq)}
	case next.Chain.Prev != prev.Head:
		return &Problem{Seq: next.Chain.FirstSeq, Kind: ProblemReordered,
			Detail: fmt.Sprintf("%s does not continue the head of the previous file", filepath.Base(next.File))}
	}
	return nil
}

// SortChain orders the files of one chain by where each file's chain starts.
func SortChain(paths []string) ([]string, error) {
	type entry struct {
		path  string
		first uint64
	}
	entries := make([]entry, 0, len(paths))
	for _, p := range paths {
		c, err := ReadChain(p)
		if err != nil {
			return nil, err
		}
		entries = append(entries, entry{p, c.FirstSeq})
	}
	sort.SliceStable(entries, func(i, j int) bool { return entries[i].first < entries[j].first })
	out := make([]string, len(entries))
	for i, e := range entries {
		out[i] = e.path
	}
	return out, nil
}

// ReadChain reads where a log file's chain starts, read-only.
func ReadChain(path string) (Chain, error) {
	var c Chain
	err := ViewFile(path, func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if meta == nil {
			return fmt.Errorf("audit: %s is not a Custos audit log", path)
		}
		if err := json.Unmarshal(meta.Get(keyChain), &c); err != nil {
			return fmt.Errorf("audit: %s: chain metadata unreadable: %w", path, err)
		}
		return nil
	})
	return c, err
}

// ErrDamaged means a file cannot be read as a bbolt database: cut short (a
// crash or a hand truncated it) or its pages corrupted.
var ErrDamaged = errors.New("audit: file damaged")

// ViewFile opens a log file read-only and runs f in one read transaction.
// A damaged file is reported (ErrDamaged), never a crash: a file shorter
// than its own page index says is refused before any page is read, and a
// fault or panic while reading is recovered.
func ViewFile(path string, f func(tx *bolt.Tx) error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %s: %v", ErrDamaged, path, r)
		}
	}()
	db, err := bolt.Open(path, 0o400, &bolt.Options{ReadOnly: true, Timeout: 2 * time.Second})
	if err != nil {
		return fmt.Errorf("audit: opening %s read-only: %w", path, err)
	}
	defer db.Close()
	return db.View(func(tx *bolt.Tx) error {
		st, err := os.Stat(path)
		if err != nil {
			return err
		}
		if tx.Size() > st.Size() {
			return fmt.Errorf("%w: %s is %d bytes but its pages reach %d: cut short", ErrDamaged, path, st.Size(), tx.Size())
		}
		return f(tx)
	})
}

// verifier carries what pairs across the files of one chain.
type verifier struct {
	opts VerifyOptions
	open map[uint64]struct{} // intents not yet matched by an outcome
}

func (v *verifier) incomplete() *Incomplete {
	if len(v.open) == 0 {
		return nil
	}
	in := &Incomplete{Count: len(v.open)}
	for seq := range v.open {
		if in.FirstSeq == 0 || seq < in.FirstSeq {
			in.FirstSeq = seq
		}
	}
	return in
}

// file verifies one file; last says whether checkpoints beyond its end mean
// truncation (they belong to a later file otherwise).
func (v *verifier) file(path string, last bool) (*Report, error) {
	rep := &Report{File: path, SignaturesChecked: v.opts.PublicKey != nil}
	err := ViewFile(path, func(tx *bolt.Tx) error {
		records, cps, meta := tx.Bucket(bucketRecords), tx.Bucket(bucketCheckpoints), tx.Bucket(bucketMeta)
		if records == nil || cps == nil || meta == nil {
			return fmt.Errorf("audit: %s is not a Custos audit log", path)
		}
		if err := json.Unmarshal(meta.Get(keyChain), &rep.Chain); err != nil {
			return fmt.Errorf("audit: %s: chain metadata unreadable: %w", path, err)
		}
		prev, err := parseHash(rep.Chain.Prev)
		if err != nil {
			return err
		}
		checkpoints, problem := collectCheckpoints(cps, v.opts.Checkpoints)
		rep.Checkpoints = len(checkpoints)
		if problem != nil {
			rep.Problem = problem
			return nil
		}
		v.verifyChain(rep, records, prev, checkpoints)
		if rep.Problem == nil {
			rep.Problem = vouchedMissing(rep, decodeHead(meta.Get(keyHead)), checkpoints, last)
		}
		return nil
	})
	if err == nil && last && rep.Problem == nil {
		err = v.pending(rep)
	}
	if err != nil {
		return nil, err
	}
	return rep, nil
}

// pending counts and pairs the records the write-ahead file beside the
// file holds after its end.
func (v *verifier) pending(rep *Report) error {
	frames, err := pendingFrames(rep.File, rep.LastSeq)
	for _, fr := range frames {
		v.pair(fr.seq, fr.body)
	}
	rep.Pending = uint64(len(frames))
	return err
}

// vouchedMissing reports records the head or a checkpoint vouches for that
// the chain does not have.
func vouchedMissing(rep *Report, head Receipt, checkpoints map[uint64]Checkpoint, last bool) *Problem {
	end := rep.LastSeq
	if head.Seq > end {
		return &Problem{Seq: end + 1, Kind: ProblemTruncated,
			Detail: fmt.Sprintf("the log head names record %d but the chain ends at %d", head.Seq, end)}
	}
	for _, seq := range sortedSeqs(checkpoints) {
		if seq > end && (last || checkpoints[seq].fromFile) {
			return &Problem{Seq: end + 1, Kind: ProblemTruncated,
				Detail: fmt.Sprintf("a checkpoint vouches for records up to %d but the chain ends at %d", seq, end)}
		}
	}
	return nil
}

func (v *verifier) verifyChain(rep *Report, records *bolt.Bucket, prev [32]byte, checkpoints map[uint64]Checkpoint) {
	expected := rep.Chain.FirstSeq
	rep.FirstSeq = expected
	rep.Head = rep.Chain.Prev
	lastGoodCheckpoint := expected - 1
	c := records.Cursor()
	for k, val := c.First(); k != nil; k, val = c.Next() {
		if len(k) != 8 {
			rep.Problem = &Problem{Seq: expected, Kind: ProblemReordered, Detail: "a key that is not a sequence number was inserted"}
			return
		}
		seq := binary.BigEndian.Uint64(k)
		if rep.Problem = checkLink(seq, expected, prev, val); rep.Problem != nil {
			return
		}
		copy(prev[:], val[32:64])
		if cp, ok := checkpoints[seq]; ok {
			if rep.Problem = checkCheckpoint(cp, prev, lastGoodCheckpoint, v.opts.PublicKey); rep.Problem != nil {
				return
			}
			lastGoodCheckpoint = seq
			rep.LastCheckpoint = seq
			if cp.anchored {
				rep.Anchored, rep.AnchoredRecords = seq, seq-rep.FirstSeq+1
			}
		}
		v.pair(seq, val[64:])
		rep.Verified++
		rep.LastSeq = seq
		expected++
	}
	if rep.Verified > 0 {
		rep.Head = hex.EncodeToString(prev[:])
	} else {
		rep.LastSeq = rep.FirstSeq - 1
	}
}

// checkLink checks one record: its place in the sequence, its own hash and
// its link to the predecessor.
func checkLink(seq, expected uint64, prev [32]byte, v []byte) *Problem {
	switch {
	case seq > expected:
		return &Problem{Seq: expected, Kind: ProblemDeleted, Detail: fmt.Sprintf("records %d to %d are missing", expected, seq-1)}
	case seq < expected:
		return &Problem{Seq: seq, Kind: ProblemReordered, Detail: "a record precedes the start of this file's chain"}
	}
	if len(v) < 64 {
		return &Problem{Seq: seq, Kind: ProblemModified, Detail: "record shorter than its hashes"}
	}
	var storedPrev, stored [32]byte
	copy(storedPrev[:], v[:32])
	copy(stored[:], v[32:64])
	if recordHash(seq, storedPrev, v[64:]) != stored {
		var moved struct {
			Seq uint64 `json:"seq"`
		}
		if json.Unmarshal(v[64:], &moved) == nil && moved.Seq != seq && recordHash(moved.Seq, storedPrev, v[64:]) == stored {
			return &Problem{Seq: seq, Kind: ProblemReordered, Detail: fmt.Sprintf("record %d is stored in place of record %d", moved.Seq, seq)}
		}
		return &Problem{Seq: seq, Kind: ProblemModified, Detail: "content does not match the record's hash"}
	}
	if storedPrev != prev {
		return &Problem{Seq: seq, Kind: ProblemReordered, Detail: fmt.Sprintf("does not chain to record %d", seq-1)}
	}
	return nil
}

func checkCheckpoint(cp Checkpoint, head [32]byte, lastGood uint64, pub ed25519.PublicKey) *Problem {
	if cp.Head != hex.EncodeToString(head[:]) {
		return &Problem{Seq: lastGood + 1, Kind: ProblemCheckpoint,
			Detail: fmt.Sprintf("the checkpoint at %d names another head; records %d to %d are not the ones it vouched for", cp.Seq, lastGood+1, cp.Seq)}
	}
	if pub != nil && (!checkpointSigned(cp, pub) || (cp.alsoAnchored != nil && !checkpointSigned(*cp.alsoAnchored, pub))) {
		return &Problem{Seq: lastGood + 1, Kind: ProblemBadSignature,
			Detail: fmt.Sprintf("the checkpoint at %d does not verify with the given key; records %d to %d are unauthenticated", cp.Seq, lastGood+1, cp.Seq)}
	}
	return nil
}

// pair opens an intent and closes it at its outcome.
func (v *verifier) pair(seq uint64, body []byte) {
	switch kind, intent := pairingFields(body); kind {
	case KindIntent:
		v.open[seq] = struct{}{}
	case KindOutcome:
		if intent != 0 {
			delete(v.open, intent)
		}
	}
}

var (
	kindField   = []byte(`,"kind":"`)
	intentField = []byte(`,"intent_seq":`)
)

// pairingFields reads a record's kind and intent_seq straight from its JSON,
// without decoding it: the encoder writes the top-level fields in the
// declared order (seq, time, kind, ..., intent_seq before any nested
// object), and a quote inside a string value is always escaped, so the
// first occurrence of each pattern is the top-level field.
func pairingFields(body []byte) (string, uint64) {
	i := bytes.Index(body, kindField)
	if i < 0 {
		return "", 0
	}
	rest := body[i+len(kindField):]
	end := bytes.IndexByte(rest, '"')
	if end < 0 {
		return "", 0
	}
	kind := string(rest[:end])
	if kind != KindOutcome {
		return kind, 0
	}
	j := bytes.Index(rest, intentField)
	if j < 0 {
		return kind, 0
	}
	var n uint64
	for _, c := range rest[j+len(intentField):] {
		if c < '0' || c > '9' {
			break
		}
		n = n*10 + uint64(c-'0')
	}
	return kind, n
}

func checkpointSigned(cp Checkpoint, pub ed25519.PublicKey) bool {
	sig, err := base64.StdEncoding.DecodeString(cp.Sig)
	return err == nil && len(sig) == ed25519.SignatureSize && ed25519.Verify(pub, cp.Message(), sig)
}

// collectCheckpoints merges the file's checkpoints with external ones; the
// same sequence number must name the same head in both.
func collectCheckpoints(b *bolt.Bucket, external []Checkpoint) (map[uint64]Checkpoint, *Problem) {
	out := map[uint64]Checkpoint{}
	_ = b.ForEach(func(k, v []byte) error {
		var cp Checkpoint
		if json.Unmarshal(v, &cp) == nil && len(k) == 8 && binary.BigEndian.Uint64(k) == cp.Seq {
			cp.fromFile = true
			out[cp.Seq] = cp
		} else if len(k) == 8 {
			// An unreadable checkpoint vouches for nothing but must not hide.
			out[binary.BigEndian.Uint64(k)] = Checkpoint{Seq: binary.BigEndian.Uint64(k), Head: "unreadable", fromFile: true}
		}
		return nil
	})
	for _, cp := range external {
		have, ok := out[cp.Seq]
		if ok && have.Head != cp.Head {
			return out, &Problem{Seq: cp.Seq, Kind: ProblemCheckpoint,
				Detail: fmt.Sprintf("the file's checkpoint at %d and the external one disagree", cp.Seq)}
		}
		if !ok {
			have = cp
		} else if have.Sig != cp.Sig || !have.Time.Equal(cp.Time) {
			also := cp // both copies' signatures must verify
			have.alsoAnchored = &also
		}
		have.anchored = true
		out[cp.Seq] = have
	}
	return out, nil
}

func sortedSeqs(m map[uint64]Checkpoint) []uint64 {
	out := make([]uint64, 0, len(m))
	for s := range m {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// ReadCheckpointFile reads the JSON lines of an anchor (checkpoint) file,
// keeping those written for a log file of the same base name as file (all
// when file is empty). A last line cut short (no newline: the write did not
// complete) is ignored; any other unreadable line is an error.
func ReadCheckpointFile(data []byte, file string) ([]Checkpoint, error) {
	var out []Checkpoint
	lines := bytes.Split(data, []byte("\n"))
	for i, line := range lines {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var cp Checkpoint
		if err := json.Unmarshal(line, &cp); err != nil {
			if i == len(lines)-1 {
				break // torn final write
			}
			return nil, fmt.Errorf("audit: checkpoint file line %d: %w", i+1, err)
		}
		if file == "" || cp.File == "" || filepath.Base(cp.File) == filepath.Base(file) {
			out = append(out, cp)
		}
	}
	return out, nil
}
