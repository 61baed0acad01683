package audit

import (
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// writer is the goroutine that commits what is queued. It batches whatever
// is queued, so throughput scales with load without delaying a lone durable
// append; deferred records wait in the batch for the next durable append, a
// full batch, the flush timer, a checkpoint, or Close. It holds the writer
// lock while it works.
func (l *Log) writer() {
	defer close(l.done)
	ticker := time.NewTicker(l.opts.CheckpointInterval)
	defer ticker.Stop()
	for {
		select {
		case p := <-l.queue:
			l.locked(func() { l.received(p); l.drain(); l.commitIfDue() })
		case <-l.flushDue:
			l.locked(func() { l.flushArmed = false; l.drain(); _ = l.flush() })
		case f := <-l.ctrl:
			l.locked(func() { l.drain(); l.commitIfDue(); f() })
		case <-ticker.C:
			l.locked(l.tick)
		case <-l.quit:
			l.locked(func() { l.drain(); _ = l.flush() })
			return
		}
	}
}

// locked runs f under the writer lock.
func (l *Log) locked(f func()) {
	l.wmu.Lock()
	defer l.wmu.Unlock()
	f()
}

func (l *Log) tick() {
	l.drain()
	_ = l.flush()
	if l.sinceCheckpoint > 0 {
		_ = l.checkpoint()
	}
}

// checkpointDue says whether a commit of n more records makes a
// checkpoint due.
func (l *Log) checkpointDue(n int) bool {
	return l.sinceCheckpoint+n >= l.opts.CheckpointEvery || time.Since(l.lastCheckpoint) >= l.opts.CheckpointInterval
}

// commitNow commits p on the caller's goroutine, with the deferred records
// already taken, when its caller is the only one appending durably, the
// writer lock is free and no record is queued or held by the writer: the
// record then follows every record appended before it, and its caller is
// answered without waking the writer. It reports false, having done
// nothing, otherwise (concurrent appends go to the writer, which commits
// them together), and when the batch is full or the commit would make a
// checkpoint due: the writer signs checkpoints after answering, so that
// signing never delays the caller.
func (l *Log) commitNow(p *pending) bool {
	if l.appending.Load() != 1 || !l.wmu.TryLock() {
		return false
	}
	defer l.wmu.Unlock()
	n := len(l.batch) + 1
	if l.queued.Load() != 0 || n > l.opts.MaxBatch || l.checkpointDue(n) || l.isClosed() {
		return false
	}
	l.take(p)
	l.makeDurable()
	return true
}

// received takes a record that came through the queue.
func (l *Log) received(p *pending) {
	l.queued.Add(-1)
	l.take(p)
}

// take adds one queued record to the batch, committing first if it is
// full. A batch still full (its commit failed, and the write-ahead file
// holds it all) refuses the record.
func (l *Log) take(p *pending) {
	if len(l.batch) >= l.opts.MaxBatch {
		_ = l.flush()
	}
	if err := l.rotateIfMonthEnded(p); err != nil {
		l.fail([]*pending{p}, err)
		return
	}
	if len(l.batch) >= l.opts.MaxBatch {
		l.fail([]*pending{p}, l.lastError())
		return
	}
	l.batch = append(l.batch, p)
	if p.done != nil {
		l.durableWaiting = true
	}
}

// lastError is the most recent commit's error, for a record refused
// because of it.
func (l *Log) lastError() error {
	if err := l.Healthy(); err != nil {
		return err
	}
	return ErrUnavailable
}

// drain takes everything queued now, committing each batch that fills.
func (l *Log) drain() {
	for {
		select {
		case p := <-l.queue:
			l.received(p)
		default:
			return
		}
	}
}

// commitIfDue commits when a caller waits or the batch is full, and
// otherwise arms the flush timer for the deferred records waiting.
func (l *Log) commitIfDue() {
	switch {
	case len(l.batch) == 0:
	case len(l.batch) >= l.opts.MaxBatch:
		_ = l.flush()
	case l.durableWaiting:
		l.makeDurable()
	default:
		l.armFlush()
	}
}

// armFlush arms the flush timer for the records waiting in the batch.
func (l *Log) armFlush() {
	if !l.flushArmed && len(l.batch) > 0 {
		l.flushArmed = true
		l.opts.afterFunc(l.opts.FlushInterval, l.fireFlush)
	}
}

// makeDurable answers the durable appends waiting in the batch: under
// group durability by writing the batch to the write-ahead file, under
// strict durability by committing it.
//
// A durable append that is not an intent (a top-up, an adjustment: what a
// journal applies and its caller reads back at once) is committed, so that
// the journal has applied it when the append returns.
func (l *Log) makeDurable() {
	if l.wal == nil || l.committing() {
		_ = l.flush()
		return
	}
	if l.persist() == nil && l.checkpointDue(len(l.batch)) {
		_ = l.flush() // answered already: the commit and signing delay no one
		return
	}
	l.armFlush()
}

// committing reports whether a durable append waiting in the batch must be
// committed rather than written ahead.
func (l *Log) committing() bool {
	for _, p := range l.batch[l.walled:] {
		if p.done != nil && p.rec.Kind != KindIntent {
			return true
		}
	}
	return false
}

// persist writes the records of the batch the write-ahead file does not
// hold yet, numbered as the commit will number them, and answers the
// appends waiting for them. When the file is full, or a commit failed
// before, it commits the batch instead (a commit answers them too).
func (l *Log) persist() error {
	if l.stuck {
		return l.flush()
	}
	fresh := l.batch[l.walled:]
	for i, p := range fresh {
		p.rec.Seq = l.head.Seq + 1 + uint64(l.walled+i)
	}
	if err := l.wal.encode(fresh); err != nil {
		l.failFresh(err)
		return err
	}
	if !l.wal.fits() {
		return l.flush()
	}
	t0 := time.Now()
	err := l.walWrite()
	l.stats.walDone(time.Since(t0), err)
	if err != nil {
		err = fmt.Errorf("%w: %w", ErrUnavailable, err)
		l.failFresh(err)
		// Some of the failed frames may be on disk: the next durable
		// append commits instead, which numbers past them.
		l.stuck = true
		return err
	}
	for _, p := range fresh {
		p.walSeq = p.rec.Seq
	}
	l.walled = len(l.batch)
	l.durableWaiting = false
	if !l.checkpointDue(len(l.batch)) {
		l.armFlush() // before answering: whoever is answered finds the commit scheduled
	}
	for _, p := range fresh {
		if p.done != nil {
			p.done <- result{r: Receipt{Seq: p.rec.Seq}}
			p.done = nil
		}
	}
	return nil
}

func (l *Log) walWrite() error {
	if err := l.injectedFault(); err != nil {
		return err
	}
	return l.wal.write()
}

// injectedFault is the error a test made the next write fail with.
func (l *Log) injectedFault() error {
	if l.fault == nil {
		return nil
	}
	return l.fault()
}

// failFresh fails the records of the batch the write-ahead file does not
// hold and drops them; those it holds stay for their commit.
func (l *Log) failFresh(err error) {
	l.fail(l.batch[l.walled:], err)
	clear(l.batch[l.walled:])
	l.batch = l.batch[:l.walled]
	l.durableWaiting = false
}

// fireFlush tells the writer the flush interval has passed; it returns once
// the writer has taken the signal (at once when the log is closed).
func (l *Log) fireFlush() {
	select {
	case l.flushDue <- struct{}{}:
	case <-l.done:
	}
}

// flush commits the batch, if any. Runs under the writer lock.
// Under group durability a failed commit keeps the records the write-ahead
// file holds (they are durable and were answered) and fails the others;
// durable appends are then refused until a commit succeeds.
func (l *Log) flush() error {
	if len(l.batch) == 0 {
		return nil
	}
	err := l.commit(l.batch)
	if err != nil && l.walled > 0 {
		l.stuck = true
		l.failFresh(err)
		return err
	}
	if err != nil {
		l.fail(l.batch, err)
	}
	clear(l.batch)
	l.batch = l.batch[:0]
	l.durableWaiting = false
	l.walled, l.stuck = 0, false
	if err == nil && l.wal != nil {
		l.wal.reset()
	}
	return err
}

// commit commits batch to the log and answers the appends waiting for
// it; on failure it changes nothing and the caller fails the records.
func (l *Log) commit(batch []*pending) error {
	t0 := time.Now()
	var head Receipt
	err := l.db.Update(func(tx *bolt.Tx) error {
		if err := l.injectedFault(); err != nil {
			return err
		}
		var err error
		head, err = l.putRecords(tx, batch, l.opts.Journal)
		return err
	})
	if l.opts.Journal != nil {
		l.opts.Journal.Committed(err)
	}
	l.stats.commitDone(len(batch), time.Since(t0), err)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	l.head = head
	l.sinceCheckpoint += len(batch)
	for _, p := range batch {
		if p.done != nil {
			p.done <- result{r: Receipt{Seq: p.rec.Seq, Hash: p.hash}}
		}
	}
	if l.checkpointDue(0) {
		_ = l.checkpoint()
	}
	return nil
}

// rotateIfMonthEnded, under monthly rotation, commits the batch and
// continues the chain in the next month's file when p is dated in a later
// month than the file: each file holds its month's records, and nothing
// is numbered (written ahead) before the rotation's own records are.
func (l *Log) rotateIfMonthEnded(p *pending) error {
	if !l.opts.RotateMonthly {
		return nil
	}
	m := month(p.rec.Time)
	if m <= l.month {
		return nil
	}
	if err := l.flush(); err != nil {
		return err
	}
	if err := l.rotate(monthlyPath(l.basePath, m)); err != nil {
		return fmt.Errorf("%w: monthly rotation: %w", ErrUnavailable, err)
	}
	l.month = m
	return nil
}

func month(t time.Time) string { return t.UTC().Format("2006-01") }

// fail reports a failed commit to the callers waiting for it; deferred
// records of the batch are lost and counted.
func (l *Log) fail(batch []*pending, err error) {
	for _, p := range batch {
		if p.done != nil {
			p.done <- result{err: err}
		} else {
			l.stats.deferredLost.Add(1)
		}
	}
}

// putRecords writes the batch in order, each chained to its predecessor,
// and moves the head; the journal, if any, sees the records first. Runs
// inside the commit's transaction.
func (l *Log) putRecords(tx *bolt.Tx, batch []*pending, j Journal) (Receipt, error) {
	records := tx.Bucket(bucketRecords)
	records.FillPercent = 1.0 // keys only ever grow
	meta := tx.Bucket(bucketMeta)
	h := decodeHead(meta.Get(keyHead))
	for i, p := range batch {
		p.rec.Seq = h.Seq + 1 + uint64(i)
	}
	if j != nil {
		if err := j.Apply(tx, l.written(batch)); err != nil {
			return Receipt{}, err
		}
	}
	for _, p := range batch {
		if p.walSeq != 0 && p.walSeq != p.rec.Seq {
			return Receipt{}, fmt.Errorf("audit: record written ahead as %d would be committed as %d", p.walSeq, p.rec.Seq)
		}
		val, err := p.storedValue()
		if err != nil {
			return Receipt{}, err
		}
		sum := recordHash(p.rec.Seq, h.Hash, val[valueHeader:])
		copy(val[:32], h.Hash[:])
		copy(val[32:valueHeader], sum[:])
		if err := records.Put(seqKey(p.rec.Seq), val); err != nil {
			return Receipt{}, err
		}
		h = Receipt{Seq: p.rec.Seq, Hash: sum}
		p.hash = sum
	}
	return h, meta.Put(keyHead, encodeHead(h))
}

// written describes the batch for the journal, reusing one slice.
func (l *Log) written(batch []*pending) []Written {
	l.writtenBuf = l.writtenBuf[:0]
	for _, p := range batch {
		l.writtenBuf = append(l.writtenBuf, Written{Seq: p.rec.Seq, Record: &p.rec})
	}
	return l.writtenBuf
}
