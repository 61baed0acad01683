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
	"regexp"
	"strings"
	"sync"
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
	// CheckpointFile, if set, also receives every checkpoint as a JSON line,
	// for an operator to ship elsewhere.
	CheckpointFile string
	// MaxBatch bounds how many appends share one commit (default 1024).
	MaxBatch int
	// RotateMonthly closes the file when a UTC month ends and continues the
	// chain in <name>-YYYY-MM<ext> beside it.
	RotateMonthly bool
	// Now is the clock (tests); time.Now when nil.
	Now func() time.Time
}

// Receipt identifies a committed record.
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

// Log is an open audit log. Append is safe for concurrent use; appends are
// group-committed by a single writer, and each returns only once its record
// is on disk (bbolt fsyncs every commit).
type Log struct {
	opts  Options
	queue chan *pending
	ctrl  chan func()
	quit  chan struct{}
	done  chan struct{}

	mu     sync.Mutex // guards closed
	closed bool

	// Writer-goroutine state.
	db              *bolt.DB
	path            string
	sinceCheckpoint int
	lastCheckpoint  time.Time
	head            Receipt
	month           string // UTC year-month the current file began in
	basePath        string // the path Open was given, for monthly names
}

type pending struct {
	rec  Record
	done chan result
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
	if opts.Now == nil {
		opts.Now = time.Now
	}
	l := &Log{
		opts:  opts,
		queue: make(chan *pending, opts.MaxBatch),
		ctrl:  make(chan func()),
		quit:  make(chan struct{}),
		done:  make(chan struct{}),
	}
	if err := l.openDB(path, cont); err != nil {
		return nil, err
	}
	l.basePath = path
	l.month = opts.Now().UTC().Format("2006-01")
	go l.writer()
	return l, nil
}

func (l *Log) openDB(path string, cont *Chain) error {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 2 * time.Second, FreelistType: bolt.FreelistMapType})
	if err != nil {
		return fmt.Errorf("audit: opening %s: %w", path, err)
	}
	var head Receipt
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketRecords, bucketCheckpoints, bucketMeta} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		meta := tx.Bucket(bucketMeta)
		if meta.Get(keyChain) == nil {
			c := Chain{FirstSeq: 1, Prev: hex.EncodeToString(make([]byte, 32))}
			if cont != nil {
				c = *cont
			}
			b, _ := json.Marshal(c)
			if err := meta.Put(keyChain, b); err != nil {
				return err
			}
			prev, err := parseHash(c.Prev)
			if err != nil {
				return fmt.Errorf("chain prev: %w", err)
			}
			return meta.Put(keyHead, encodeHead(Receipt{Seq: c.FirstSeq - 1, Hash: prev}))
		}
		head = decodeHead(meta.Get(keyHead))
		return nil
	})
	if err != nil {
		db.Close()
		return fmt.Errorf("audit: initialising %s: %w", path, err)
	}
	if head == (Receipt{}) {
		_ = db.View(func(tx *bolt.Tx) error {
			head = decodeHead(tx.Bucket(bucketMeta).Get(keyHead))
			return nil
		})
	}
	l.db, l.path, l.head = db, path, head
	l.lastCheckpoint = time.Now()
	l.sinceCheckpoint = 0
	return nil
}

// Append makes r durable and returns its sequence number and hash. Seq,
// Time (if zero) and Instance are filled in by the log. An error wraps
// ErrUnavailable or ErrClosed, and the record was not written.
func (l *Log) Append(ctx context.Context, r Record) (Receipt, error) {
	l.mu.Lock()
	closed := l.closed
	l.mu.Unlock()
	if closed {
		return Receipt{}, ErrClosed
	}
	if r.Time.IsZero() {
		r.Time = time.Now().UTC()
	}
	r.Time = r.Time.UTC()
	r.Instance = l.opts.Instance
	p := &pending{rec: r, done: make(chan result, 1)}
	select {
	case l.queue <- p:
	case <-l.quit:
		return Receipt{}, ErrClosed
	case <-ctx.Done():
		return Receipt{}, fmt.Errorf("%w: %w", ErrUnavailable, ctx.Err())
	}
	// Once queued the record will be committed or failed promptly; wait for
	// the outcome even if ctx ends, so that the caller knows.
	res := <-p.done
	return res.r, res.err
}

// writer is the single goroutine that commits appends, batching whatever is
// queued so throughput scales with load without delaying a lone append.
func (l *Log) writer() {
	defer close(l.done)
	ticker := time.NewTicker(l.opts.CheckpointInterval)
	defer ticker.Stop()
	batch := make([]*pending, 0, l.opts.MaxBatch)
	for {
		select {
		case p := <-l.queue:
			batch = append(batch[:0], p)
		drain:
			for len(batch) < l.opts.MaxBatch {
				select {
				case p := <-l.queue:
					batch = append(batch, p)
				default:
					break drain
				}
			}
			l.commit(batch)
		case f := <-l.ctrl:
			f()
		case <-ticker.C:
			if l.sinceCheckpoint > 0 {
				_ = l.checkpoint()
			}
		case <-l.quit:
			// Commit whatever is still queued, then stop.
			for {
				select {
				case p := <-l.queue:
					l.commit([]*pending{p})
					continue
				default:
				}
				break
			}
			return
		}
	}
}

func (l *Log) commit(batch []*pending) {
	if l.opts.RotateMonthly {
		if m := l.opts.Now().UTC().Format("2006-01"); m != l.month {
			next := monthlyPath(l.basePath, m)
			if err := l.rotate(next); err != nil {
				err = fmt.Errorf("%w: monthly rotation: %w", ErrUnavailable, err)
				for _, p := range batch {
					p.done <- result{err: err}
				}
				return
			}
			l.month = m
		}
	}
	receipts := make([]Receipt, len(batch))
	var head Receipt
	err := l.db.Update(func(tx *bolt.Tx) error {
		records := tx.Bucket(bucketRecords)
		records.FillPercent = 1.0 // keys only ever grow
		meta := tx.Bucket(bucketMeta)
		h := decodeHead(meta.Get(keyHead))
		for i, p := range batch {
			p.rec.Seq = h.Seq + 1
			body, err := p.rec.marshal()
			if err != nil {
				return err
			}
			sum := recordHash(p.rec.Seq, h.Hash, body)
			val := make([]byte, 0, 64+len(body))
			val = append(val, h.Hash[:]...)
			val = append(val, sum[:]...)
			val = append(val, body...)
			if err := records.Put(seqKey(p.rec.Seq), val); err != nil {
				return err
			}
			h = Receipt{Seq: p.rec.Seq, Hash: sum}
			receipts[i] = h
		}
		head = h
		return meta.Put(keyHead, encodeHead(h))
	})
	if err != nil {
		err = fmt.Errorf("%w: %w", ErrUnavailable, err)
		for _, p := range batch {
			p.done <- result{err: err}
		}
		return
	}
	l.head = head
	l.sinceCheckpoint += len(batch)
	for i, p := range batch {
		p.done <- result{r: receipts[i]}
	}
	if l.sinceCheckpoint >= l.opts.CheckpointEvery || time.Since(l.lastCheckpoint) >= l.opts.CheckpointInterval {
		_ = l.checkpoint()
	}
}

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

// do runs f on the writer goroutine and waits for it.
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

// Checkpoint signs the current head now.
func (l *Log) Checkpoint() error { return l.do(l.checkpoint) }

// Path returns the file now being written.
func (l *Log) Path() string {
	var p string
	_ = l.do(func() error { p = l.path; return nil })
	return p
}

// Rotate closes the current file with a final checkpoint and continues the
// chain in a new file at path. Sequence numbers continue.
func (l *Log) Rotate(path string) error {
	return l.do(func() error { return l.rotate(path) })
}

func (l *Log) rotate(path string) error {
	{
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
		return l.openDB(path, cont)
	}
}

// Close commits every queued append, writes a final checkpoint and closes
// the file. Appends after Close fail with ErrClosed.
func (l *Log) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	l.mu.Unlock()
	close(l.quit)
	<-l.done
	var err error
	if l.sinceCheckpoint > 0 {
		err = l.checkpoint()
	}
	return errors.Join(err, l.db.Close())
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

var monthSuffix = regexp.MustCompile(`^-\d{4}-\d{2}$`)

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
		if monthSuffix.MatchString(strings.TrimSuffix(strings.TrimPrefix(n, stem), ext)) {
			out = append(out, filepath.Join(dir, n))
		}
	}
	return out, nil
}
