package audit

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path/filepath"
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

// Problem is the first integrity failure found.
type Problem struct {
	Seq    uint64 `json:"seq"`
	Kind   string `json:"kind"`
	Detail string `json:"detail"`
}

// Report is Verify's result.
type Report struct {
	File              string   `json:"file"`
	Verified          uint64   `json:"verified"` // records verified before any problem
	FirstSeq          uint64   `json:"first_seq"`
	LastSeq           uint64   `json:"last_seq"`
	Checkpoints       int      `json:"checkpoints"`
	SignaturesChecked bool     `json:"signatures_checked"`
	LastCheckpoint    uint64   `json:"last_checkpoint"`
	Chain             Chain    `json:"chain"`
	Problem           *Problem `json:"problem,omitempty"`
}

// OK reports whether the file verified intact.
func (r *Report) OK() bool { return r.Problem == nil }

// VerifyOptions add what the file alone cannot prove.
type VerifyOptions struct {
	// PublicKey checks every checkpoint's signature.
	PublicKey ed25519.PublicKey
	// Checkpoints from the second location, checked like the file's own.
	Checkpoints []Checkpoint
}

// Verify checks a log file offline, read-only: every record's hash, every
// link of the chain, sequence continuity, every checkpoint against the chain
// (and its signature, given a public key), and that nothing a checkpoint or
// the head vouches for is missing. It stops at the first problem.
func Verify(path string, opts VerifyOptions) (*Report, error) {
	db, err := bolt.Open(path, 0o400, &bolt.Options{ReadOnly: true, Timeout: 2 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("audit: opening %s read-only: %w", path, err)
	}
	defer db.Close()
	rep := &Report{File: path, SignaturesChecked: opts.PublicKey != nil}
	err = db.View(func(tx *bolt.Tx) error {
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
		checkpoints, problem := collectCheckpoints(cps, opts.Checkpoints)
		rep.Checkpoints = len(checkpoints)
		if problem != nil {
			rep.Problem = problem
			return nil
		}
		rep.verifyChain(records, prev, checkpoints, opts.PublicKey)
		if rep.Problem != nil {
			return nil
		}
		// Nothing vouched for may be missing.
		last := rep.LastSeq
		if head := decodeHead(meta.Get(keyHead)); head.Seq > last {
			rep.Problem = &Problem{Seq: last + 1, Kind: ProblemTruncated,
				Detail: fmt.Sprintf("the log head names record %d but the chain ends at %d", head.Seq, last)}
			return nil
		}
		for _, seq := range sortedSeqs(checkpoints) {
			if seq > last {
				rep.Problem = &Problem{Seq: last + 1, Kind: ProblemTruncated,
					Detail: fmt.Sprintf("a checkpoint vouches for records up to %d but the chain ends at %d", seq, last)}
				return nil
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return rep, nil
}

func (rep *Report) verifyChain(records *bolt.Bucket, prev [32]byte, checkpoints map[uint64]Checkpoint, pub ed25519.PublicKey) {
	expected := rep.Chain.FirstSeq
	rep.FirstSeq = expected
	lastGoodCheckpoint := expected - 1
	c := records.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if len(k) != 8 {
			rep.Problem = &Problem{Seq: expected, Kind: ProblemReordered, Detail: "a key that is not a sequence number was inserted"}
			return
		}
		seq := binary.BigEndian.Uint64(k)
		switch {
		case seq > expected:
			rep.Problem = &Problem{Seq: expected, Kind: ProblemDeleted, Detail: fmt.Sprintf("records %d to %d are missing", expected, seq-1)}
			return
		case seq < expected:
			rep.Problem = &Problem{Seq: seq, Kind: ProblemReordered, Detail: "a record precedes the start of this file's chain"}
			return
		}
		if len(v) < 64 {
			rep.Problem = &Problem{Seq: seq, Kind: ProblemModified, Detail: "record shorter than its hashes"}
			return
		}
		var storedPrev, stored [32]byte
		copy(storedPrev[:], v[:32])
		copy(stored[:], v[32:64])
		if recordHash(seq, storedPrev, v[64:]) != stored {
			rep.Problem = &Problem{Seq: seq, Kind: ProblemModified, Detail: "content does not match the record's hash"}
			var moved struct {
				Seq uint64 `json:"seq"`
			}
			if json.Unmarshal(v[64:], &moved) == nil && moved.Seq != seq && recordHash(moved.Seq, storedPrev, v[64:]) == stored {
				rep.Problem = &Problem{Seq: seq, Kind: ProblemReordered, Detail: fmt.Sprintf("record %d is stored in place of record %d", moved.Seq, seq)}
			}
			return
		}
		if storedPrev != prev {
			rep.Problem = &Problem{Seq: seq, Kind: ProblemReordered, Detail: fmt.Sprintf("does not chain to record %d", seq-1)}
			return
		}
		prev = stored
		if cp, ok := checkpoints[seq]; ok {
			if cp.Head != hex.EncodeToString(stored[:]) {
				rep.Problem = &Problem{Seq: lastGoodCheckpoint + 1, Kind: ProblemCheckpoint,
					Detail: fmt.Sprintf("the checkpoint at %d names another head; records %d to %d are not the ones it vouched for", seq, lastGoodCheckpoint+1, seq)}
				return
			}
			if pub != nil && !checkpointSigned(cp, pub) {
				rep.Problem = &Problem{Seq: lastGoodCheckpoint + 1, Kind: ProblemBadSignature,
					Detail: fmt.Sprintf("the checkpoint at %d does not verify with the given key; records %d to %d are unauthenticated", seq, lastGoodCheckpoint+1, seq)}
				return
			}
			lastGoodCheckpoint = seq
			rep.LastCheckpoint = seq
		}
		rep.Verified++
		rep.LastSeq = seq
		expected++
	}
	if rep.LastSeq == 0 {
		rep.LastSeq = rep.FirstSeq - 1
	}
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
			out[cp.Seq] = cp
		} else if len(k) == 8 {
			// An unreadable checkpoint vouches for nothing but must not hide.
			out[binary.BigEndian.Uint64(k)] = Checkpoint{Seq: binary.BigEndian.Uint64(k), Head: "unreadable"}
		}
		return nil
	})
	for _, cp := range external {
		if have, ok := out[cp.Seq]; ok && have.Head != cp.Head {
			return out, &Problem{Seq: cp.Seq, Kind: ProblemCheckpoint,
				Detail: fmt.Sprintf("the file's checkpoint at %d and the external one disagree", cp.Seq)}
		}
		if _, ok := out[cp.Seq]; !ok {
			out[cp.Seq] = cp
		}
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

// ReadCheckpointFile reads the JSON lines of a second-location checkpoint
// file, keeping those written for a log file of the same base name as file
// (all when file is empty).
func ReadCheckpointFile(data []byte, file string) ([]Checkpoint, error) {
	var out []Checkpoint
	for i, line := range bytes.Split(data, []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var cp Checkpoint
		if err := json.Unmarshal(line, &cp); err != nil {
			return nil, fmt.Errorf("audit: checkpoint file line %d: %w", i+1, err)
		}
		if file == "" || cp.File == "" || filepath.Base(cp.File) == filepath.Base(file) {
			out = append(out, cp)
		}
	}
	return out, nil
}
