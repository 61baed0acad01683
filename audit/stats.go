package audit

import (
	"fmt"
	"math"
	"path/filepath"
	"sync/atomic"
	"time"
)

// Stats is a snapshot of the log's counters, for metrics. Counters only
// grow from Open.
type Stats struct {
	Appends      uint64 // durable appends accepted
	Deferred     uint64 // deferred appends accepted
	Records      uint64 // records committed
	Commits      uint64 // commits of records that succeeded (bbolt fsyncs twice per commit)
	CommitErrors uint64 // commits that failed
	DeferredLost uint64 // deferred records in failed commits

	BatchSize     Histogram // records per commit
	CommitSeconds Histogram // duration of each commit, its fsyncs included

	// Group durability: writes to the write-ahead file (each one flush of
	// the device) and their durations; records a crash left there that
	// Open committed.
	WALWrites  uint64
	WALSeconds Histogram
	Recovered  uint64

	Checkpoints      uint64
	CheckpointErrors uint64
	LastCheckpoint   time.Time // zero before the first

	// LastCommitError is the error of the most recent commit, "" when it
	// succeeded; it holds no record content.
	LastCommitError   string
	LastCommitErrorAt time.Time

	Anchors AnchorStats
}

// AnchorStats counts checkpoints delivered to the anchors.
type AnchorStats struct {
	Delivered   uint64 // checkpoint deliveries that succeeded (one per anchor)
	Failed      uint64 // deliveries that failed
	Dropped     uint64 // checkpoints skipped because an anchor fell behind
	LastSeq     uint64 // the newest checkpoint every anchor holds
	LastError   string // the most recent failure, "" when none
	LastErrorAt time.Time
}

// Histogram is a fixed-bucket distribution: Counts[i] observations were at
// most Bounds[i] (and above Bounds[i-1]); the last count is above every
// bound.
type Histogram struct {
	Bounds []float64
	Counts []uint64
	Count  uint64
	Sum    float64
}

var (
	batchBounds   = []float64{1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024}
	secondsBounds = []float64{50e-6, 100e-6, 250e-6, 500e-6, 1e-3, 2.5e-3, 5e-3, 10e-3, 25e-3, 50e-3, 100e-3, 250e-3, 1}
)

// histogram is written under the writer lock only and read by anyone.
type histogram struct {
	bounds []float64
	counts []atomic.Uint64
	count  atomic.Uint64
	sum    atomic.Uint64 // float64 bits
}

func newHistogram(bounds []float64) *histogram {
	return &histogram{bounds: bounds, counts: make([]atomic.Uint64, len(bounds)+1)}
}

func (h *histogram) observe(v float64) {
	i := 0
	for i < len(h.bounds) && v > h.bounds[i] {
		i++
	}
	h.counts[i].Add(1)
	h.sum.Store(math.Float64bits(math.Float64frombits(h.sum.Load()) + v))
	h.count.Add(1)
}

func (h *histogram) snapshot() Histogram {
	out := Histogram{Bounds: h.bounds, Counts: make([]uint64, len(h.counts))}
	for i := range h.counts {
		out.Counts[i] = h.counts[i].Load()
	}
	out.Count, out.Sum = h.count.Load(), math.Float64frombits(h.sum.Load())
	return out
}

type failure struct {
	msg string
	at  time.Time
	err error
}

type counters struct {
	appends, deferred, records, commits, commitErrors, deferredLost atomic.Uint64
	walWrites, recovered                                            atomic.Uint64
	checkpoints, checkpointErrors                                   atomic.Uint64
	lastCheckpoint                                                  atomic.Int64 // unix nanoseconds
	lastCommit                                                      atomic.Pointer[failure]

	anchorDelivered, anchorFailed, anchorDropped, anchorSeq atomic.Uint64
	lastAnchor                                              atomic.Pointer[failure]

	batch, seconds, walSeconds *histogram
}

func (c *counters) init() {
	c.batch, c.seconds, c.walSeconds = newHistogram(batchBounds), newHistogram(secondsBounds), newHistogram(secondsBounds)
}

// walDone counts a write to the write-ahead file; a failed one counts as a
// failed commit (the appends it carried failed).
func (c *counters) walDone(d time.Duration, err error) {
	c.walSeconds.observe(d.Seconds())
	if c.writeDone(err) {
		c.walWrites.Add(1)
	}
}

func (c *counters) commitDone(n int, d time.Duration, err error) {
	c.seconds.observe(d.Seconds())
	if c.writeDone(err) {
		c.commits.Add(1)
		c.records.Add(uint64(n))
		c.batch.observe(float64(n))
	}
}

// writeDone records whether the last write (a commit, or a write-ahead
// write) failed, and reports whether it succeeded.
func (c *counters) writeDone(err error) bool {
	if err != nil {
		c.commitErrors.Add(1)
		c.lastCommit.Store(&failure{msg: err.Error(), at: time.Now(), err: err})
		return false
	}
	c.lastCommit.Store(nil)
	return true
}

// Stats returns a snapshot of the counters. It does not wait for the writer.
func (l *Log) Stats() Stats {
	c := &l.stats
	s := Stats{
		Appends: c.appends.Load(), Deferred: c.deferred.Load(), Records: c.records.Load(),
		Commits: c.commits.Load(), CommitErrors: c.commitErrors.Load(), DeferredLost: c.deferredLost.Load(),
		BatchSize: c.batch.snapshot(), CommitSeconds: c.seconds.snapshot(),
		WALWrites: c.walWrites.Load(), WALSeconds: c.walSeconds.snapshot(), Recovered: c.recovered.Load(),
		Checkpoints: c.checkpoints.Load(), CheckpointErrors: c.checkpointErrors.Load(),
		Anchors: AnchorStats{Delivered: c.anchorDelivered.Load(), Failed: c.anchorFailed.Load(),
			Dropped: c.anchorDropped.Load(), LastSeq: c.anchorSeq.Load()},
	}
	if ns := c.lastCheckpoint.Load(); ns != 0 {
		s.LastCheckpoint = time.Unix(0, ns)
	}
	if f := c.lastCommit.Load(); f != nil {
		s.LastCommitError, s.LastCommitErrorAt = f.msg, f.at
	}
	if f := c.lastAnchor.Load(); f != nil {
		s.Anchors.LastError, s.Anchors.LastErrorAt = f.msg, f.at
	}
	return s
}

// Healthy reports whether the log is ready to take requests: nil unless it
// is closed (ErrClosed) or its most recent commit failed (an error wrapping
// ErrUnavailable). A later successful commit makes it healthy again.
func (l *Log) Healthy() error {
	closed := l.isClosed()
	if closed {
		return ErrClosed
	}
	if f := l.stats.lastCommit.Load(); f != nil {
		return fmt.Errorf("%w: the last commit failed: %w", ErrUnavailable, f.err)
	}
	return nil
}

// FreeBytes reports the bytes available to the log on its file system
// (statfs of the directory of the file being written), so that the caller
// can refuse new work before the disk fills. It is cheap: one system call.
func (l *Log) FreeBytes() (uint64, error) {
	return freeBytes(filepath.Dir(*l.curPath.Load()))
}
