package pgledger

import (
	"context"
	"encoding/json"
	"io"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/custos-gateway/custos/audit"
)

// ReconcileOptions narrow a reconciliation to charges and outcomes in
// [From, To) (zero: no bound).
type ReconcileOptions struct {
	From, To time.Time
}

// Pair is one request as the journal and the audit logs have it.
type Pair struct {
	RequestID      string `json:"request_id"`
	Replica        string `json:"replica,omitempty"`
	Account        string `json:"account,omitempty"` // charged, in the journal
	Micros         int64  `json:"micros"`
	OutcomeAccount string `json:"outcome_account,omitempty"` // in the outcome record
	OutcomeMicros  int64  `json:"outcome_micros"`
}

// Reconciliation pairs the journal's charges with the replicas' outcome
// records, by request id.
type Reconciliation struct {
	Replicas      []string `json:"replicas"` // the logs' instances: the journal's charges by them are compared
	Charges       int      `json:"charges"`
	Outcomes      int      `json:"outcomes"` // outcome records carrying a cost
	Matched       int      `json:"matched"`
	ChargedMicros int64    `json:"charged_micros"`
	OutcomeMicros int64    `json:"outcome_micros"` // of outcomes naming an account
	// MissingOutcome: charged in the journal, with no outcome record in the
	// logs (a replica stopped between the charge and its record).
	MissingOutcome []Pair `json:"missing_outcome,omitempty"`
	// Uncharged: outcome records naming an account the journal has no
	// charge for (PostgreSQL was unreachable at settlement): Resettle them.
	Uncharged []audit.Record `json:"uncharged,omitempty"`
	// Different: both sides have the request, with another account or
	// amount.
	Different []Pair `json:"different,omitempty"`
}

// OK reports whether every charge has its outcome and every outcome that
// names an account its charge, alike.
func (r *Reconciliation) OK() bool {
	return len(r.MissingOutcome) == 0 && len(r.Uncharged) == 0 && len(r.Different) == 0
}

// Reconcile compares the journal's charges made by the replicas whose
// audit log files are given with the outcome records in those files. The
// files are read read-only (a copy, or files no server holds).
func Reconcile(ctx context.Context, db queryer, files []string, opts ReconcileOptions) (*Reconciliation, error) {
	outcomes, replicas, err := readOutcomes(files, opts)
	if err != nil {
		return nil, err
	}
	rec := &Reconciliation{Replicas: replicas}
	for _, o := range outcomes {
		rec.Outcomes++
		if o.Cost.Account != "" {
			rec.OutcomeMicros += o.Cost.Micros
		}
	}
	from, to := opts.From, opts.To
	if to.IsZero() {
		to = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	rows, err := db.Query(ctx, `SELECT request_id, replica, account, -micros FROM ledger_journal
		WHERE op = 'charge' AND replica = ANY ($1) AND at >= $2 AND at < $3`, replicas, from, to)
	if err != nil {
		return nil, err
	}
	if err := rec.pair(rows, outcomes, true); err != nil {
		return nil, err
	}
	var rest []string // outcomes charged, if at all, by another replica or at another time
	for id, o := range outcomes {
		if o.Cost.Account != "" {
			rest = append(rest, id)
		}
	}
	rows, err = db.Query(ctx, `SELECT request_id, replica, account, -micros FROM ledger_journal
		WHERE op = 'charge' AND request_id = ANY ($1)`, rest)
	if err != nil {
		return nil, err
	}
	if err := rec.pair(rows, outcomes, false); err != nil {
		return nil, err
	}
	for _, o := range outcomes {
		if o.Cost.Account != "" {
			rec.Uncharged = append(rec.Uncharged, o)
		}
	}
	rec.sort()
	return rec, nil
}

// pair matches journal charges with outcomes, removing the outcomes it
// pairs.
func (rec *Reconciliation) pair(rows pgx.Rows, outcomes map[string]audit.Record, count bool) error {
	var p Pair
	_, err := pgx.ForEachRow(rows, []any{&p.RequestID, &p.Replica, &p.Account, &p.Micros}, func() error {
		if count {
			rec.Charges++
			rec.ChargedMicros += p.Micros
		}
		o, ok := outcomes[p.RequestID]
		if !ok {
			rec.MissingOutcome = append(rec.MissingOutcome, p)
			return nil
		}
		delete(outcomes, p.RequestID)
		if o.Cost.Account != p.Account || o.Cost.Micros != p.Micros {
			q := p
			q.OutcomeAccount, q.OutcomeMicros = o.Cost.Account, o.Cost.Micros
			rec.Different = append(rec.Different, q)
			return nil
		}
		rec.Matched++
		return nil
	})
	return err
}

func (rec *Reconciliation) sort() {
	sort.Slice(rec.MissingOutcome, func(i, j int) bool { return rec.MissingOutcome[i].RequestID < rec.MissingOutcome[j].RequestID })
	sort.Slice(rec.Different, func(i, j int) bool { return rec.Different[i].RequestID < rec.Different[j].RequestID })
	sort.Slice(rec.Uncharged, func(i, j int) bool { return rec.Uncharged[i].RequestID < rec.Uncharged[j].RequestID })
}

// readOutcomes reads the outcome records carrying a cost, by request id,
// and the instances that wrote the files.
func readOutcomes(files []string, opts ReconcileOptions) (map[string]audit.Record, []string, error) {
	out := map[string]audit.Record{}
	instances := map[string]bool{}
	for _, path := range files {
		pr, pw := io.Pipe()
		go func() {
			_, err := audit.ExportFile(pw, path, audit.Filter{From: opts.From, To: opts.To}, audit.FormatJSONL)
			pw.CloseWithError(err)
		}()
		dec := json.NewDecoder(pr)
		for {
			var r audit.Record
			err := dec.Decode(&r)
			if err == io.EOF {
				break
			}
			if err != nil {
				pr.CloseWithError(err)
				return nil, nil, err
			}
			if r.Instance != "" {
				instances[r.Instance] = true
			}
			if r.Kind == audit.KindOutcome && r.Cost != nil {
				out[r.RequestID] = r
			}
		}
	}
	names := make([]string, 0, len(instances))
	for n := range instances {
		names = append(names, n)
	}
	sort.Strings(names)
	return out, names, nil
}
