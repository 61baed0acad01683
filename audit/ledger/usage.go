package ledger

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/custos-gateway/custos/audit"
)

// UsageRow is one tenant's use of one model on one UTC day, from the
// outcome records: it reconciles with the audit log (and the journal) to
// the micro-unit.
type UsageRow struct {
	Day              string `json:"day"`
	Tenant           string `json:"tenant"`
	App              string `json:"app"`
	Model            string `json:"model"`
	Currency         string `json:"currency"`
	Requests         int64  `json:"requests"`
	PromptTokens     int64  `json:"prompt_tokens"`
	CompletionTokens int64  `json:"completion_tokens"`
	CachedTokens     int64  `json:"cached_tokens"`
	EstimatedTokens  int64  `json:"requests_with_estimated_tokens"`
	CostMicros       int64  `json:"cost_micros"`
	EstimatedCost    int64  `json:"requests_with_estimated_cost"`
	ChargedMicros    int64  `json:"charged_micros"` // of CostMicros, what accounts were charged
}

type usageView struct {
	Time        time.Time     `json:"time"`
	Kind        string        `json:"kind"`
	Tenant      string        `json:"tenant"`
	App         string        `json:"app"`
	ModelServed string        `json:"model_served"`
	ModelAsked  string        `json:"model_requested"`
	Tokens      *audit.Tokens `json:"tokens"`
	Cost        *audit.Cost   `json:"cost"`
}

var outcomeKind = []byte(`"kind":"outcome"`)

// UsageReport adds up the outcome records of model requests (refused ones
// included, in rows without a currency) per day, tenant, app, model and
// currency, keeping those f selects.
func UsageReport(paths []string, f audit.Filter) ([]UsageRow, error) {
	rows := map[UsageRow]*UsageRow{}
	for _, path := range paths {
		err := audit.ViewFile(path, func(tx *bolt.Tx) error {
			return tx.Bucket(bucketRecords).ForEach(func(k, v []byte) error {
				if len(v) < 64 || !bytes.Contains(v[64:], outcomeKind) {
					return nil
				}
				var r usageView
				if err := json.Unmarshal(v[64:], &r); err != nil {
					return fmt.Errorf("ledger: record %x unreadable: %w", k, err)
				}
				// Model requests only: reading a balance or a model list
				// uses no model.
				if r.Kind == audit.KindOutcome && (r.ModelServed != "" || r.ModelAsked != "") && matches(f, r) {
					addUsage(rows, r)
				}
				return nil
			})
		})
		if err != nil {
			return nil, err
		}
	}
	out := make([]UsageRow, 0, len(rows))
	for _, r := range rows {
		out = append(out, *r)
	}
	sort.Slice(out, func(i, j int) bool { return usageLess(out[i], out[j]) })
	return out, nil
}

func matches(f audit.Filter, r usageView) bool {
	return (f.From.IsZero() || !r.Time.Before(f.From)) && (f.To.IsZero() || r.Time.Before(f.To)) && (f.Tenant == "" || r.Tenant == f.Tenant)
}

func addUsage(rows map[UsageRow]*UsageRow, r usageView) {
	k := UsageRow{Day: r.Time.UTC().Format(time.DateOnly), Tenant: r.Tenant, App: r.App, Model: r.ModelServed}
	if k.Model == "" {
		k.Model = r.ModelAsked
	}
	if r.Cost != nil {
		k.Currency = r.Cost.Currency
	}
	row := rows[k]
	if row == nil {
		row = &UsageRow{Day: k.Day, Tenant: k.Tenant, App: k.App, Model: k.Model, Currency: k.Currency}
		rows[k] = row
	}
	row.Requests++
	if t := r.Tokens; t != nil {
		row.PromptTokens += t.Prompt
		row.CompletionTokens += t.Completion
		row.CachedTokens += t.Cached
		if t.Estimated {
			row.EstimatedTokens++
		}
	}
	if c := r.Cost; c != nil {
		row.CostMicros += c.Micros
		if c.Estimated {
			row.EstimatedCost++
		}
		if c.Account != "" {
			row.ChargedMicros += c.Micros
		}
	}
}

func usageLess(a, b UsageRow) bool {
	for _, p := range [][2]string{{a.Day, b.Day}, {a.Tenant, b.Tenant}, {a.App, b.App}, {a.Model, b.Model}, {a.Currency, b.Currency}} {
		if p[0] != p[1] {
			return p[0] < p[1]
		}
	}
	return false
}

var usageHeader = []string{"day", "tenant", "app", "model", "currency", "requests", "prompt_tokens", "completion_tokens",
	"cached_tokens", "requests_with_estimated_tokens", "cost", "cost_micros", "requests_with_estimated_cost", "charged_micros"}

// WriteUsageCSV writes the rows as CSV, amounts both as decimals and as
// micro-units.
func WriteUsageCSV(w io.Writer, rows []UsageRow) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(usageHeader); err != nil {
		return err
	}
	i := func(n int64) string { return strconv.FormatInt(n, 10) }
	for _, r := range rows {
		rec := []string{r.Day, r.Tenant, r.App, r.Model, r.Currency, i(r.Requests), i(r.PromptTokens), i(r.CompletionTokens),
			i(r.CachedTokens), i(r.EstimatedTokens), FormatAmount(r.CostMicros), i(r.CostMicros), i(r.EstimatedCost), i(r.ChargedMicros)}
		for j := range rec[:5] {
			rec[j] = csvSafe(rec[j])
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteUsageJSON writes the rows as one JSON array.
func WriteUsageJSON(w io.Writer, rows []UsageRow) error {
	if rows == nil {
		rows = []UsageRow{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rows)
}

// csvSafe keeps a cell from being read as a formula by a spreadsheet.
func csvSafe(s string) string {
	if s != "" && bytes.ContainsRune([]byte("=+-@\t\r"), rune(s[0])) {
		return "'" + s
	}
	return s
}
