package audit

import (
	"bufio"
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
	return export(w, view, f, format)
}

// Export streams the live log's records (a consistent snapshot taken when it
// starts; appends continue meanwhile).
func (l *Log) Export(w io.Writer, f Filter, format string) (int, error) {
	var db *bolt.DB
	if err := l.do(func() error { db = l.db; return nil }); err != nil {
		return 0, err
	}
	return export(w, db.View, f, format)
}

func export(w io.Writer, view func(func(*bolt.Tx) error) error, f Filter, format string) (int, error) {
	if format != FormatJSONL && format != FormatCSV {
		return 0, fmt.Errorf("audit: unknown export format %q (jsonl or csv)", format)
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	var cw *csv.Writer
	if format == FormatCSV {
		cw = csv.NewWriter(bw)
		if err := cw.Write(csvHeader); err != nil {
			return 0, err
		}
	}
	n := 0
	err := view(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketRecords)
		if b == nil {
			return fmt.Errorf("audit: not a Custos audit log")
		}
		c := b.Cursor()
		var r Record
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if len(v) < 64 {
				return fmt.Errorf("audit: record %x is damaged; run verify", k)
			}
			r = Record{}
			if err := json.Unmarshal(v[64:], &r); err != nil {
				return fmt.Errorf("audit: record %x is damaged; run verify", k)
			}
			if !f.match(&r) {
				continue
			}
			n++
			if cw != nil {
				if err := cw.Write(csvRow(&r)); err != nil {
					return err
				}
				continue
			}
			bw.Write(v[64:])
			if err := bw.WriteByte('\n'); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return n, err
	}
	if cw != nil {
		cw.Flush()
		if err := cw.Error(); err != nil {
			return n, err
		}
	}
	return n, bw.Flush()
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
