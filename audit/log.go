package audit

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
)

var (
	bucketRecords     = []byte("records")
	bucketCheckpoints = []byte("checkpoints")
	bucketMeta        = []byte("meta")
	keyHead           = []byte("head")
	keyChain          = []byte("chain")
)

// Errors Append reports. Neither carries record content.
var (
	// ErrUnavailable means the record could not be made durable; the caller
	// must fail closed.
	ErrUnavailable = errors.New("audit: log unavailable")
	// ErrClosed means the log was closed.
	ErrClosed = errors.New("audit: log closed")
)

// Durability says when a record counts as written.
type Durability string

const (
	// DurabilityGroup (the default): Append returns once its record is on
	// disk in the write-ahead file beside the log (one write, one flush of
	// the device), with every deferred record queued before it;
	// AppendDeferred queues its record without waiting, so that an outcome
	// rides in the same write as the next request's intent. The records
	// are committed to the log itself in batches (FlushInterval, a full
	// batch, a checkpoint, Rotate, Flush, Close); opening the log commits
	// what a crash left in the write-ahead file. A crash can lose the
	// deferred records no durable append carried within the last
	// FlushInterval; Verify then reports their requests incomplete.
	DurabilityGroup Durability = "group"
	// DurabilityStrict: every record, deferred or not, is on disk before
	// its append returns.
	DurabilityStrict Durability = "strict"
)

// DefaultFlushInterval bounds how long a deferred record waits for a
// commit when no durable append comes to carry it. Under load intents
// arrive far more often and carry the deferred records with them; when
// traffic is sparse, 100 ms costs at most ten extra commits a second, off
// every request's path, and bounds what a crash can lose to the outcomes
// of the last tenth of a second.
const DefaultFlushInterval = 100 * time.Millisecond

// Options tune a Log.
type Options struct {
	// Instance names this gateway instance in every record.
	Instance string
	// Signer signs checkpoints; nil writes unsigned checkpoints (tests only).
	Signer Signer
	// CheckpointEvery signs the head after this many records (default 1000).
	CheckpointEvery int
	// CheckpointInterval signs the head at least this often while records
	// arrive (default 1 minute).
	CheckpointInterval time.Duration
	// CheckpointFile, if set, also receives every checkpoint as a JSON line
	// (a FileAnchor added to Anchors).
	CheckpointFile string
	// Anchors receive every signed checkpoint, in order, from a goroutine of
	// their own: a slow anchor never delays an append. Close waits for the
	// final checkpoint to be anchored.
	Anchors []Anchor
	// AnchorTimeout bounds each delivery to an anchor (default 10 s).
	AnchorTimeout time.Duration
	// MaxBatch bounds how many appends share one commit (default 1024).
	MaxBatch int
	// Durability is DurabilityGroup (default) or DurabilityStrict.
	Durability Durability
	// FlushInterval is how long deferred records may wait for a commit
	// (default DefaultFlushInterval); group durability only.
	FlushInterval time.Duration
	// Journal, if set, keeps state derived from the records in the same
	// file and the same commits (see audit/ledger).
	Journal Journal
	// RotateMonthly closes the file when a UTC month ends and continues the
	// chain in <name>-YYYY-MM<ext> beside it; Open then continues the newest
	// of those files.
	RotateMonthly bool
	// Now is the clock (tests); time.Now when nil.
	Now func() time.Time

	afterFunc func(time.Duration, func()) // time.AfterFunc; tests replace it
}

// Receipt identifies a durable record. Under group durability Append
// returns once the record is in the write-ahead file, before its hash is
// known: Hash is then zero (the chain is extended when the batch is
// committed to the log).
type Receipt struct {
	Seq  uint64
	Hash [32]byte
}

// Chain says where a file's chain starts: at sequence 1 from a zero hash,
// or continuing the previous file's head.
type Chain struct {
	FirstSeq     uint64 `json:"first_seq"`
	Prev         string `json:"prev"` // hex hash the first record chains to
	PreviousFile string `json:"previous_file,omitempty"`
}

// Log is an open audit log. Appends are safe for concurrent use. Commits
// are made one at a time under the writer lock (bbolt fsyncs every commit):
// a lone durable append that finds nothing else queued commits on its own
// goroutine; otherwise a single writer goroutine group-commits whatever is
// queued.
type Log struct {
	opts      Options
	queue     chan *pending
	queued    atomic.Int64 // records sent to queue and not yet in the batch
	appending atomic.Int64 // durable appends under way
	ctrl      chan func()
	flushDue  chan struct{} // the flush timer fired
	quit      chan struct{}
	done      chan struct{}

	// mu is held for reading across a check of closed and the send to
	// queue, and for writing while Close sets closed: once closed is set no
	// record can reach the queue after the writer's last drain.
	mu     sync.RWMutex
	closed atomic.Bool

	wmu sync.Mutex // the writer lock: guards the writer state below

	stats   counters
	anchors *anchorer
	curPath atomic.Pointer[string] // the file being written, for FreeBytes

	// Writer state.
	db              *bolt.DB
	path            string
	sinceCheckpoint int
	lastCheckpoint  time.Time
	head            Receipt
	month           string // UTC year-month the current file began in
	basePath        string // the path Open was given, for monthly names
	batch           []*pending
	durableWaiting  bool // the batch holds an append whose caller waits
	flushArmed      bool
	fault           func() error // tests: fails the next commits
	writtenBuf      []Written

	// Group durability: the write-ahead file, how many of the batch's
	// leading records it holds (durable, their appends answered), and
	// whether a commit of those to the log failed (they stay in the batch
	// and durable appends are refused until a commit succeeds).
	wal    *walFile
	walled int
	stuck  bool
}

// pending is one queued record; done is nil for a deferred append.
type pending struct {
	rec  Record
	hash [32]byte // set at commit
	done chan result
	// body is the record's JSON as written to the write-ahead file, under
	// walSeq (0: not written ahead), at valueHeader into value; the commit
	// reuses them when the journal filled in nothing.
	body   []byte
	value  []byte
	walSeq uint64
}

// storedValue returns the record's stored value (see marshalValue): the
// write-ahead file's bytes when they still describe it (no balance filled
// in since), or anew.
func (p *pending) storedValue() ([]byte, error) {
	if p.walSeq != 0 && p.rec.BalanceAfter == nil {
		return p.value, nil
	}
	return p.rec.marshalValue()
}

type result struct {
	r   Receipt
	err error
}

// Open opens (or creates) the log file at path.
func Open(path string, opts Options) (*Log, error) {
	return open(path, opts, nil)
}

func open(path string, opts Options, cont *Chain) (*Log, error) {
	if opts.CheckpointEvery <= 0 {
		opts.CheckpointEvery = 1000
	}
	if opts.CheckpointInterval <= 0 {
		opts.CheckpointInterval = time.Minute
	}
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 1024
	}
	if opts.FlushInterval <= 0 {
		opts.FlushInterval = DefaultFlushInterval
	}
	switch opts.Durability {
	case "":
		opts.Durability = DurabilityGroup
	case DurabilityGroup, DurabilityStrict:
	default:
		return nil, fmt.Errorf("audit: durability %q is neither %q nor %q", opts.Durability, DurabilityGroup, DurabilityStrict)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.AnchorTimeout <= 0 {
		opts.AnchorTimeout = 10 * time.Second
	}
	if opts.CheckpointFile != "" {
		opts.Anchors = append(append([]Anchor(nil), opts.Anchors...), NewFileAnchor(opts.CheckpointFile))
	}
	if opts.afterFunc == nil {
		opts.afterFunc = func(d time.Duration, f func()) { time.AfterFunc(d, f) }
	}
	l := &Log{
		opts:     opts,
		queue:    make(chan *pending, opts.MaxBatch),
		ctrl:     make(chan func()),
		flushDue: make(chan struct{}),
		quit:     make(chan struct{}),
		done:     make(chan struct{}),
		batch:    make([]*pending, 0, opts.MaxBatch),
	}
	l.stats.init()
	file, fileMonth, err := continuedIn(path, opts)
	if err != nil {
		return nil, err
	}
	if err := l.openDB(file, cont); err != nil {
		return nil, err
	}
	l.basePath = path
	l.month = fileMonth
	l.anchors = newAnchorer(opts.Anchors, opts.AnchorTimeout, &l.stats)
	if err := l.openWriteAhead(file); err != nil {
		l.anchors.close()
		l.db.Close()
		return nil, err
	}
	if opts.RotateMonthly && file == path {
		l.month = l.lastMonth(l.month)
	}
	go l.writer()
	return l, nil
}

// openWriteAhead commits what a crash left in the write-ahead file of the
// file at path (whatever the durability: a log reopened strict keeps what
// group durability answered) and, under group durability, keeps the file
// open for writing; under strict it is removed once committed.
func (l *Log) openWriteAhead(path string) error {
	l.wal = nil
	if l.opts.Durability != DurabilityGroup {
		if _, err := os.Stat(WALPath(path)); errors.Is(err, os.ErrNotExist) {
			return nil
		}
	}
	if err := l.recoverWAL(path); err != nil {
		return err
	}
	if l.opts.Durability != DurabilityGroup {
		err := l.wal.close(true)
		l.wal = nil
		return err
	}
	return nil
}

// lastMonth is the month of the file's last record, or otherwise if it
// has none: a base file restarted in a later month than its records is
// then continued in that month's file, so each file holds one month.
func (l *Log) lastMonth(otherwise string) string {
	var last struct {
		Time time.Time `json:"time"`
	}
	err := l.db.View(func(tx *bolt.Tx) error {
		_, v := tx.Bucket(bucketRecords).Cursor().Last()
		if len(v) < 64 {
			return errNoRecords
		}
		return json.Unmarshal(v[64:], &last) // after the previous hash and its own
	})
	if err != nil || last.Time.IsZero() {
		return otherwise
	}
	return month(last.Time)
}

var errNoRecords = errors.New("audit: no records")

func (l *Log) openDB(path string, cont *Chain) error {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 2 * time.Second, FreelistType: bolt.FreelistMapType})
	if err != nil {
		return fmt.Errorf("audit: opening %s: %w", path, err)
	}
	var head Receipt
	err = db.Update(func(tx *bolt.Tx) error {
		var err error
		var created bool
		if head, created, err = initFile(tx, cont); err != nil || l.opts.Journal == nil {
			return err
		}
		return l.openJournal(tx, created, &head)
	})
	if err != nil {
		db.Close()
		return fmt.Errorf("audit: initialising %s: %w", path, err)
	}
	l.db, l.path, l.head = db, path, head
	l.curPath.Store(&path)
	l.lastCheckpoint = time.Now()
	l.sinceCheckpoint = 0
	return nil
}

// initFile creates the buckets of a new file (its chain starting at cont,
// or at 1) and returns the file's head and whether it was created.
func initFile(tx *bolt.Tx, cont *Chain) (Receipt, bool, error) {
	for _, b := range [][]byte{bucketRecords, bucketCheckpoints, bucketMeta} {
		if _, err := tx.CreateBucketIfNotExists(b); err != nil {
			return Receipt{}, false, err
		}
	}
	meta := tx.Bucket(bucketMeta)
	if meta.Get(keyChain) != nil {
		return decodeHead(meta.Get(keyHead)), false, nil
	}
	c := Chain{FirstSeq: 1, Prev: hex.EncodeToString(make([]byte, 32))}
	if cont != nil {
		c = *cont
	}
	b, _ := json.Marshal(c)
	if err := meta.Put(keyChain, b); err != nil {
		return Receipt{}, false, err
	}
	prev, err := parseHash(c.Prev)
	if err != nil {
		return Receipt{}, false, fmt.Errorf("chain prev: %w", err)
	}
	head := Receipt{Seq: c.FirstSeq - 1, Hash: prev}
	return head, true, meta.Put(keyHead, encodeHead(head))
}

// openJournal lets the journal load or carry its state, and writes the
// record it begins a new file with, in the transaction opening the file.
func (l *Log) openJournal(tx *bolt.Tx, created bool, head *Receipt) error {
	first, err := l.opts.Journal.Open(tx, created)
	if err != nil || first == nil {
		return err
	}
	rec, err := l.prepare(*first)
	if err != nil {
		return err
	}
	*head, err = l.putRecords(tx, []*pending{{rec: rec}}, nil)
	return err
}

// ErrInvalid means a record cannot be written as given (a time outside the
// years 0 to 9999, which JSON cannot hold).
var ErrInvalid = errors.New("audit: invalid record")

// Append makes r durable and returns its sequence number and hash. Seq,
// Time (if zero) and Instance are filled in by the log. An error wraps
// ErrUnavailable, ErrClosed or ErrInvalid, and the record was not written.
func (l *Log) Append(ctx context.Context, r Record) (Receipt, error) {
	rec, err := l.prepare(r)
	if err != nil {
		return Receipt{}, err
	}
	done := make(chan result, 1)
	p := &pending{rec: rec, done: done} // the writer clears p.done once it answers
	l.appending.Add(1)
	defer l.appending.Add(-1)
	if !l.commitNow(p) {
		if err := l.enqueue(ctx, p); err != nil {
			return Receipt{}, err
		}
	}
	l.stats.appends.Add(1)
	// Once queued the record will be committed or failed promptly; wait for
	// the outcome even if ctx ends, so that the caller knows.
	res := <-done
	return res.r, res.err
}

// AppendDeferred queues r for the next group commit and returns without
// waiting for it (under DurabilityStrict it waits, as Append does). The
// record is committed with the next durable append, when a batch fills,
// when FlushInterval has passed, before a checkpoint, at Rotate, Flush and
// Close. An error (ErrClosed, ErrInvalid) means it was not queued; a failed
// commit is counted in Stats and reported by Healthy.
func (l *Log) AppendDeferred(r Record) error {
	if l.opts.Durability == DurabilityStrict {
		_, err := l.Append(context.Background(), r)
		return err
	}
	rec, err := l.prepare(r)
	if err != nil {
		return err
	}
	if err := l.enqueue(context.Background(), &pending{rec: rec}); err != nil {
		return err
	}
	l.stats.deferred.Add(1)
	return nil
}

func (l *Log) prepare(r Record) (Record, error) {
	if r.Time.IsZero() {
		r.Time = l.opts.Now()
	}
	r.Time = r.Time.UTC()
	if y := r.Time.Year(); y < 0 || y > 9999 {
		return r, fmt.Errorf("%w: time out of range", ErrInvalid)
	}
	r.Instance = l.opts.Instance
	return r, nil
}

func (l *Log) enqueue(ctx context.Context, p *pending) error {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.isClosed() {
		return ErrClosed
	}
	l.queued.Add(1)
	select {
	case l.queue <- p:
		return nil
	case <-l.quit:
		l.queued.Add(-1)
		return ErrClosed
	case <-ctx.Done():
		l.queued.Add(-1)
		return fmt.Errorf("%w: %w", ErrUnavailable, ctx.Err())
	}
}

func (l *Log) isClosed() bool { return l.closed.Load() }

// recordHash is SHA-256 over the sequence number, the predecessor's hash and
// the record JSON.
func recordHash(seq uint64, prev [32]byte, body []byte) [32]byte {
	h := sha256.New()
	h.Write(seqKey(seq))
	h.Write(prev[:])
	h.Write(body)
	var out [32]byte
	h.Sum(out[:0])
	return out
}

func seqKey(seq uint64) []byte {
	var k [8]byte
	binary.BigEndian.PutUint64(k[:], seq)
	return k[:]
}

func encodeHead(r Receipt) []byte {
	b := make([]byte, 40)
	binary.BigEndian.PutUint64(b, r.Seq)
	copy(b[8:], r.Hash[:])
	return b
}

func decodeHead(b []byte) Receipt {
	var r Receipt
	if len(b) == 40 {
		r.Seq = binary.BigEndian.Uint64(b)
		copy(r.Hash[:], b[8:])
	}
	return r
}

// do runs f on the writer goroutine, under the writer lock, after
// everything queued before the call has been taken into the batch, and
// waits for it.
func (l *Log) do(f func() error) error {
	errc := make(chan error, 1)
	select {
	case l.ctrl <- func() { errc <- f() }:
		return <-errc
	case <-l.done:
		return ErrClosed
	}
}

// Head returns the last committed record's sequence number and hash.
func (l *Log) Head() Receipt {
	var r Receipt
	_ = l.do(func() error { r = l.head; return nil })
	return r
}

// Flush commits everything queued, deferred records included, and returns
// the commit's error.
func (l *Log) Flush() error { return l.do(l.flush) }

// Checkpoint commits everything queued and signs the head now.
func (l *Log) Checkpoint() error {
	return l.do(func() error {
		if err := l.flush(); err != nil {
			return err
		}
		return l.checkpoint()
	})
}

// Path returns the file now being written.
func (l *Log) Path() string {
	var p string
	_ = l.do(func() error { p = l.path; return nil })
	return p
}

// Rotate commits everything queued, closes the current file with a final
// checkpoint and continues the chain in a new file at path. Sequence
// numbers continue.
func (l *Log) Rotate(path string) error {
	return l.do(func() error {
		if err := l.flush(); err != nil {
			return err
		}
		return l.rotate(path)
	})
}

func (l *Log) rotate(path string) error {
	if _, err := os.Stat(path); err == nil {
		return fmt.Errorf("audit: rotating: %s already exists", path)
	}
	if err := l.checkpoint(); err != nil {
		return err
	}
	head, old := l.head, l.path
	if err := l.db.Close(); err != nil {
		return fmt.Errorf("audit: closing %s: %w", old, err)
	}
	cont := &Chain{FirstSeq: head.Seq + 1, Prev: hex.EncodeToString(head.Hash[:]), PreviousFile: old}
	if err := l.openDB(path, cont); err != nil {
		return err
	}
	return l.switchWriteAhead(path)
}

// switchWriteAhead moves the write-ahead file to the new file's: the old
// one holds nothing uncommitted (rotation follows a commit of the batch).
func (l *Log) switchWriteAhead(path string) error {
	if l.wal == nil {
		return nil
	}
	if err := l.wal.close(true); err != nil {
		l.wal = nil
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return l.openWriteAhead(path)
}

// Close commits every queued append, deferred ones included, writes a
// final checkpoint and closes the file. Appends after Close fail with
// ErrClosed.
func (l *Log) Close() error {
	l.mu.Lock()
	if l.closed.Swap(true) {
		l.mu.Unlock()
		return nil
	}
	l.mu.Unlock()
	close(l.quit)
	<-l.done
	l.wmu.Lock()
	defer l.wmu.Unlock()
	var err error
	if l.sinceCheckpoint > 0 {
		err = l.checkpoint()
	}
	if l.wal != nil {
		err = errors.Join(err, l.wal.close(len(l.batch) == 0))
	}
	return errors.Join(err, l.anchors.close(), l.db.Close())
}

// recoverWAL opens the write-ahead file and commits the records a crash
// left in it beyond the head, before any append, into the file at path
// (they continue its head: no rotation).
func (l *Log) recoverWAL(path string) error {
	w, frames, err := openWAL(WALPath(path))
	if err != nil {
		return err
	}
	frames, err = framesAfter(frames, l.head.Seq, w.path)
	var recs []Record
	if err == nil {
		recs, err = decodeFrames(frames, w.path)
	}
	if err == nil && len(recs) > 0 {
		batch := make([]*pending, len(recs))
		for i := range recs {
			batch[i] = &pending{rec: recs[i]}
		}
		err = l.commit(batch)
	}
	if err != nil {
		w.close(false)
		return fmt.Errorf("audit: recovering %s: %w", w.path, err)
	}
	l.stats.recovered.Add(uint64(len(recs)))
	l.wal = w
	return nil
}

func parseHash(s string) ([32]byte, error) {
	var h [32]byte
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != 32 {
		return h, fmt.Errorf("audit: %q is not a SHA-256 hash", s)
	}
	copy(h[:], b)
	return h, nil
}

// monthlyPath names the file monthly rotation continues base in for month
// (YYYY-MM): NAME-YYYY-MM.EXT beside it.
func monthlyPath(base, month string) string {
	ext := filepath.Ext(base)
	return strings.TrimSuffix(base, ext) + "-" + month + ext
}

// RotatedFiles returns base and the files monthly rotation continued it in
// (NAME-YYYY-MM.EXT beside it), in month order. base need not exist.
func RotatedFiles(base string) ([]string, error) {
	dir, name := filepath.Split(base)
	ext := filepath.Ext(name)
	stem := strings.TrimSuffix(name, ext)
	entries, err := os.ReadDir(filepath.Clean(dir + "."))
	if err != nil {
		return nil, fmt.Errorf("audit: listing rotated files: %w", err)
	}
	var out []string
	if _, err := os.Stat(base); err == nil {
		out = append(out, base)
	}
	for _, e := range entries { // ReadDir sorts by name: months in order
		n := e.Name()
		if !e.Type().IsRegular() || !strings.HasPrefix(n, stem) || !strings.HasSuffix(n, ext) {
			continue
		}
		if validMonthSuffix(strings.TrimSuffix(strings.TrimPrefix(n, stem), ext)) {
			out = append(out, filepath.Join(dir, n))
		}
	}
	return out, nil
}
