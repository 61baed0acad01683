package audit

import (
	"bufio"
	"bytes"
	"container/heap"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Filter selects records to export. Zero values select everything.
type Filter struct {
	From   time.Time // inclusive
	To     time.Time // exclusive
	Tenant string
}

func (f Filter) match(r *Record) bool {
	return (f.From.IsZero() || !r.Time.Before(f.From)) &&
		(f.To.IsZero() || r.Time.Before(f.To)) &&
		(f.Tenant == "" || r.Tenant == f.Tenant)
}

// Export formats.
const (
	FormatJSONL = "jsonl"
	FormatCSV   = "csv"
)

// ExportFile streams the records of a log file, opened read-only.
func ExportFile(w io.Writer, path string, f Filter, format string) (int, error) {
	view := func(fn func(*bolt.Tx) error) error { return ViewFile(path, fn) }
	return export(w, view, f, format, path)
}

// Export streams the live log's records (a consistent snapshot taken when it
// starts; appends continue meanwhile).
func (l *Log) Export(w io.Writer, f Filter, format string) (int, error) {
	var db *bolt.DB
	if err := l.do(func() error { db = l.db; return nil }); err != nil {
		return 0, err
	}
	return export(w, db.View, f, format, "")
}

// export writes the file's records and, when walOf names the file, the
// records pending in its write-ahead file after them.
func export(w io.Writer, view func(func(*bolt.Tx) error) error, f Filter, format, walOf string) (int, error) {
	ew, err := newExportWriter(w, format)
	if err != nil {
		return 0, err
	}
	err = view(func(tx *bolt.Tx) error {
		c, err := newFileCursor(tx, walOf)
		if err != nil {
			return err
		}
		for ; c.r != nil; err = c.next() {
			if err != nil {
				return err
			}
			if f.match(c.r) {
				if err := ew.write(c.r, c.raw); err != nil {
					return err
				}
			}
		}
		return err
	})
	if err != nil {
		return ew.n, err
	}
	return ew.n, ew.flush()
}

// exportWriter writes records as JSON lines (as stored) or CSV rows.
type exportWriter struct {
	bw *bufio.Writer
	cw *csv.Writer
	n  int
}

func newExportWriter(w io.Writer, format string) (*exportWriter, error) {
	if format != FormatJSONL && format != FormatCSV {
		return nil, fmt.Errorf("audit: unknown export format %q (jsonl or csv)", format)
	}
	ew := &exportWriter{bw: bufio.NewWriterSize(w, 64<<10)}
	if format == FormatCSV {
		ew.cw = csv.NewWriter(ew.bw)
		if err := ew.cw.Write(csvHeader); err != nil {
			return nil, err
		}
	}
	return ew, nil
}

func (ew *exportWriter) write(r *Record, raw []byte) error {
	ew.n++
	if ew.cw != nil {
		return ew.cw.Write(csvRow(r))
	}
	ew.bw.Write(raw)
	return ew.bw.WriteByte('\n')
}

func (ew *exportWriter) flush() error {
	if ew.cw != nil {
		ew.cw.Flush()
		if err := ew.cw.Error(); err != nil {
			return err
		}
	}
	return ew.bw.Flush()
}

// fileCursor walks one file's records in sequence order and then, for a
// file named by its path, the records pending in its write-ahead file
// (durable records a crash left uncommitted; Open commits them).
type fileCursor struct {
	path string
	c    *bolt.Cursor
	head uint64
	r    *Record // the current record; nil past the last
	raw  []byte  // its JSON, as stored

	walRead bool       // the bbolt records are done; pend holds the rest
	pend    []walFrame // pending records not yet read
}

func newFileCursor(tx *bolt.Tx, path string) (*fileCursor, error) {
	b, meta := tx.Bucket(bucketRecords), tx.Bucket(bucketMeta)
	if b == nil || meta == nil {
		return nil, fmt.Errorf("audit: %s is not a Custos audit log", path)
	}
	fc := &fileCursor{path: path, c: b.Cursor(), head: decodeHead(meta.Get(keyHead)).Seq}
	return fc, fc.read(fc.c.First())
}

func (fc *fileCursor) next() error {
	if fc.walRead {
		return fc.readPending()
	}
	return fc.read(fc.c.Next())
}

func (fc *fileCursor) read(k, v []byte) error {
	if k == nil {
		fc.r, fc.raw = nil, nil
		if fc.path == "" {
			return nil
		}
		fc.walRead = true
		var err error
		if fc.pend, err = pendingFrames(fc.path, fc.head); err != nil {
			return err
		}
		return fc.readPending()
	}
	if len(v) < 64 {
		return fmt.Errorf("audit: record %x is damaged; run verify", k)
	}
	var r Record
	if err := json.Unmarshal(v[64:], &r); err != nil {
		return fmt.Errorf("audit: record %x is damaged; run verify", k)
	}
	fc.r, fc.raw = &r, v[64:]
	return nil
}

// readPending makes the next pending record current.
func (fc *fileCursor) readPending() error {
	if len(fc.pend) == 0 {
		fc.r, fc.raw = nil, nil
		return nil
	}
	recs, err := decodeFrames(fc.pend[:1], WALPath(fc.path))
	if err != nil {
		return err
	}
	fc.r, fc.raw, fc.pend = &recs[0], fc.pend[0].body, fc.pend[1:]
	return nil
}

// ExportFiles streams the records of several log files (the replicas of
// one deployment), opened read-only, merged by time (then instance, then
// sequence number). A file holds its records in sequence order, which is
// time order but for records prepared just before others committed them
// (an outcome queued for the next group commit): the merge reads ahead
// mergeWindow records of each file, so any such displacement within that
// window comes out in time order.
func ExportFiles(w io.Writer, paths []string, f Filter, format string) (int, error) {
	ew, err := newExportWriter(w, format)
	if err != nil {
		return 0, err
	}
	var cursors []*fileCursor
	var open func(i int) error
	open = func(i int) error {
		if i == len(paths) {
			return merge(ew, cursors, f)
		}
		return ViewFile(paths[i], func(tx *bolt.Tx) error {
			c, err := newFileCursor(tx, paths[i])
			if err != nil {
				return err
			}
			cursors = append(cursors, c)
			return open(i + 1)
		})
	}
	if err := open(0); err != nil {
		return ew.n, err
	}
	return ew.n, ew.flush()
}

// mergeWindow is how many records of each file the merge holds at most.
const mergeWindow = 10_000

// merged is a record read ahead, with the file it came from.
type merged struct {
	r    *Record
	raw  []byte
	from *fileCursor
}

type mergeHeap []merged

func (h mergeHeap) Len() int           { return len(h) }
func (h mergeHeap) Less(i, j int) bool { return earlier(h[i].r, h[j].r) }
func (h mergeHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *mergeHeap) Push(x any)        { *h = append(*h, x.(merged)) }
func (h *mergeHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// merge writes the cursors' records, earliest first: each file keeps up to
// mergeWindow of its records in the heap, refilled as they leave.
func merge(ew *exportWriter, cursors []*fileCursor, f Filter) error {
	h := &mergeHeap{}
	take := func(c *fileCursor) error {
		for c.r != nil && !f.match(c.r) {
			if err := c.next(); err != nil {
				return err
			}
		}
		if c.r == nil {
			return nil
		}
		heap.Push(h, merged{r: c.r, raw: bytes.Clone(c.raw), from: c})
		return c.next()
	}
	for _, c := range cursors {
		for range mergeWindow {
			if err := take(c); err != nil {
				return err
			}
		}
	}
	for h.Len() > 0 {
		m := heap.Pop(h).(merged)
		if err := ew.write(m.r, m.raw); err != nil {
			return err
		}
		if err := take(m.from); err != nil {
			return err
		}
	}
	return nil
}

func earlier(a, b *Record) bool {
	if !a.Time.Equal(b.Time) {
		return a.Time.Before(b.Time)
	}
	if a.Instance != b.Instance {
		return a.Instance < b.Instance
	}
	return a.Seq < b.Seq
}

var csvHeader = []string{
	"seq", "time", "kind", "instance", "request_id", "intent_seq", "tenant", "app", "purpose", "key_id", "route",
	"stream", "client_ip", "model_requested", "model_served", "endpoint", "provider", "region", "policy_revision",
	"allow", "deny_codes", "dry_run", "pii", "prompt_tokens", "completion_tokens", "cached_tokens",
	"tokens_estimated", "cost_micros", "latency_ms", "status", "error_code", "attempts", "export", "unauthenticated",
	"currency", "price_version", "cost_estimated", "account", "credit",
}

func csvRow(r *Record) []string {
	itoa := func(n int64) string { return strconv.FormatInt(n, 10) }
	row := []string{
		strconv.FormatUint(r.Seq, 10), r.Time.UTC().Format(time.RFC3339Nano), r.Kind, r.Instance, r.RequestID,
		"", r.Tenant, r.App, r.Purpose, r.KeyID, r.Route, strconv.FormatBool(r.Stream), r.ClientIP,
		r.ModelRequested, r.ModelServed, r.Endpoint, r.Provider, r.Region, r.PolicyRevision,
		"", "", "", "", "", "", "", "", "", itoa(r.LatencyMS), "", r.ErrorCode, "", "", "",
		"", "", "", "", "",
	}
	if r.IntentSeq != 0 {
		row[5] = strconv.FormatUint(r.IntentSeq, 10)
	}
	if d := r.Decision; d != nil {
		row[19], row[20], row[21] = strconv.FormatBool(d.Allow), strings.Join(d.Codes, " "), strconv.FormatBool(d.DryRun)
	}
	if len(r.PII) > 0 {
		classes := make([]string, 0, len(r.PII))
		for c := range r.PII {
			classes = append(classes, c)
		}
		sort.Strings(classes)
		parts := make([]string, len(classes))
		for i, c := range classes {
			parts[i] = fmt.Sprintf("%s:%d:%s", c, r.PII[c].Count, r.PII[c].Action)
		}
		row[22] = strings.Join(parts, " ")
	}
	if t := r.Tokens; t != nil {
		row[23], row[24], row[25], row[26] = itoa(t.Prompt), itoa(t.Completion), itoa(t.Cached), strconv.FormatBool(t.Estimated)
	}
	if c := r.Cost; c != nil {
		row[27], row[34], row[35], row[36], row[37] = itoa(c.Micros), c.Currency, c.PriceVersion, strconv.FormatBool(c.Estimated), c.Account
	}
	if c := r.Credit; c != nil {
		row[38] = fmt.Sprintf("op=%s account=%s micros=%d currency=%s reference=%s actor=%s", c.Op, c.Account, c.Micros, c.Currency, c.Reference, c.Actor)
	}
	if r.Status != 0 {
		row[29] = strconv.Itoa(r.Status)
	}
	if len(r.Attempts) > 0 {
		parts := make([]string, len(r.Attempts))
		for i, a := range r.Attempts {
			parts[i] = fmt.Sprintf("%s:%d:%s:%dms", a.Endpoint, a.Status, a.ErrorCode, a.LatencyMS)
		}
		row[31] = strings.Join(parts, " ")
	}
	if e := r.Export; e != nil {
		row[32] = fmt.Sprintf("auditor=%s format=%s tenant=%s from=%s to=%s", e.Auditor, e.Format, e.Tenant, e.From, e.To)
	}
	if u := r.Unauthenticated; u != nil {
		row[33] = fmt.Sprintf("source=%s window_start=%s count=%d codes=%s routes=%s", u.Source,
			u.WindowStart.UTC().Format(time.RFC3339), u.Count, countsText(u.Codes), countsText(u.Routes))
	}
	for i := range row {
		row[i] = spreadsheetSafe(row[i])
	}
	return row
}

// spreadsheetSafe keeps a cell from being read as a formula when the CSV is
// opened in a spreadsheet.
func spreadsheetSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// countsText writes a count map as "name:n name:n", sorted by name.
func countsText(m map[string]int64) string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = n + ":" + strconv.FormatInt(m[n], 10)
	}
	return strings.Join(parts, " ")
}
