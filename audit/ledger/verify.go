package ledger

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/custos-gateway/custos/audit"
)

// Problem kinds VerifyFiles reports.
const (
	ProblemChain     = "journal_chain" // an entry's hash, link or sequence number is wrong
	ProblemBalance   = "balance"       // a stated or stored balance is not what the entries add up to
	ProblemRecord    = "record"        // an entry does not match the audit record that carries it, or a record lacks its entry
	ProblemDuplicate = "duplicate"     // a request was charged twice
	ProblemCarry     = "carry"         // a file's opening balances are not the previous file's closing ones
)

// Problem is the first inconsistency found.
type Problem struct {
	File     string `json:"file"`
	Entry    uint64 `json:"entry,omitempty"`     // journal sequence number
	AuditSeq uint64 `json:"audit_seq,omitempty"` // the audit record concerned
	Kind     string `json:"kind"`
	Detail   string `json:"detail"`
}

// Totals reconcile one account: Opening + Credits − Charges == Balance ==
// Stored, and Charges == AuditCosts (the costs its audit records carry).
type Totals struct {
	Account    string `json:"account"`
	Currency   string `json:"currency"`
	Opening    int64  `json:"opening_micros"`
	TopUps     int64  `json:"topup_micros"`
	Credits    int64  `json:"credit_micros"` // every credit, top-ups included, signed
	Charges    int64  `json:"charge_micros"`
	AuditCosts int64  `json:"audit_cost_micros"`
	Requests   int64  `json:"requests"`
	Balance    int64  `json:"balance_micros"` // recomputed
	Stored     int64  `json:"stored_micros"`  // as the file holds it
}

// Report is VerifyFiles' result.
type Report struct {
	Files    []string `json:"files"`
	Entries  uint64   `json:"entries"`
	Records  uint64   `json:"records"` // audit records read for reconciliation
	Accounts []Totals `json:"accounts"`
	Problem  *Problem `json:"problem,omitempty"`
}

// OK reports whether everything reconciled.
func (r *Report) OK() bool { return r.Problem == nil }

// VerifyOptions tune VerifyFiles.
type VerifyOptions struct {
	// JournalOnly checks the journal alone: its chain, every balance, and
	// each entry's binding to its audit record by sequence number and
	// hash, without reading the records' contents (faster; the full check
	// also matches every entry against its record and sums the costs).
	JournalOnly bool
}

// VerifyFiles checks the journal of a chain of audit log files offline,
// read-only: every entry's hash chain, every balance recomputed from the
// entries (from the balances a file opens with) against the stated and the
// stored ones, no request charged twice, the opening balances of each file
// equal to the closing ones of the one before, and each entry matched to
// the audit record that carries it (and every record carrying a cost or a
// credit matched to an entry). Run audit.VerifyFiles too: the records'
// own integrity is the audit chain's.
func VerifyFiles(paths []string, opts VerifyOptions) (*Report, error) {
	ordered, err := audit.SortChain(paths)
	if err != nil {
		return nil, err
	}
	v := &verifier{opts: opts, totals: map[string]*Totals{}, charged: map[string]struct{}{}}
	rep := &Report{Files: ordered}
	for i, path := range ordered {
		err := audit.ViewFile(path, func(tx *bolt.Tx) error { return v.file(tx, path, i > 0) })
		if err != nil {
			return nil, err
		}
		if v.problem != nil {
			break
		}
	}
	rep.Entries, rep.Records, rep.Problem = v.entries, v.records, v.problem
	for _, t := range v.totals {
		rep.Accounts = append(rep.Accounts, *t)
	}
	sort.Slice(rep.Accounts, func(i, j int) bool { return rep.Accounts[i].Account < rep.Accounts[j].Account })
	return rep, nil
}

type verifier struct {
	opts    VerifyOptions
	totals  map[string]*Totals
	charged map[string]struct{} // request ids charged
	entries uint64
	records uint64
	problem *Problem
	path    string
}

func (v *verifier) fail(kind string, e *Entry, auditSeq uint64, format string, args ...any) error {
	v.problem = &Problem{File: v.path, AuditSeq: auditSeq, Kind: kind, Detail: fmt.Sprintf(format, args...)}
	if e != nil {
		v.problem.Entry = e.Seq
	}
	return nil
}

func (v *verifier) account(name, currency string) *Totals {
	t := v.totals[name]
	if t == nil {
		t = &Totals{Account: name, Currency: currency}
		v.totals[name] = t
	}
	return t
}

// file verifies one file; continued says it follows another.
func (v *verifier) file(tx *bolt.Tx, path string, continued bool) error {
	v.path = path
	if tx.Bucket(bucketJournal) == nil {
		return nil // no accounting in this file
	}
	op, err := openingOf(tx)
	if err != nil {
		return err
	}
	if !v.carry(op, continued) {
		return nil
	}
	entries, ok := v.journal(tx)
	if !ok {
		return nil
	}
	if !v.stored(tx, entries) {
		return nil
	}
	if v.opts.JournalOnly {
		return v.bindings(tx, entries)
	}
	return v.reconcile(tx, entries)
}

// carry checks (or, for the first file, takes) the opening balances.
func (v *verifier) carry(op *audit.Opening, continued bool) bool {
	opening := map[string]audit.Balance{}
	if op != nil {
		for _, b := range op.Balances {
			opening[b.Account] = b
		}
	}
	if !continued {
		for name, b := range opening {
			t := v.account(name, b.Currency)
			t.Opening, t.Balance = b.Micros, b.Micros
		}
		return true
	}
	for name, t := range v.totals {
		if b := opening[name]; b.Micros != t.Balance || (t.Balance != 0 && b.Currency != t.Currency) {
			v.fail(ProblemCarry, nil, 0, "account %s closed the previous file at %d and opens this one at %d", name, t.Balance, b.Micros)
			return false
		}
	}
	for name, b := range opening {
		if v.totals[name] == nil && b.Micros != 0 {
			v.fail(ProblemCarry, nil, 0, "account %s opens at %d but was not in the previous file", name, b.Micros)
			return false
		}
	}
	return true
}

// journal walks the entries: sequence, chain, balances, duplicates.
func (v *verifier) journal(tx *bolt.Tx) ([]Entry, bool) {
	var prev [32]byte
	var out []Entry
	c := tx.Bucket(bucketJournal).Cursor()
	expected := uint64(1)
	for k, val := c.First(); k != nil; k, val = c.Next() {
		seq := binary.BigEndian.Uint64(k)
		if len(k) != 8 || seq != expected || len(val) < 64 || !bytes.Equal(val[:32], prev[:]) {
			v.fail(ProblemChain, &Entry{Seq: expected}, 0, "entry %d is missing, moved or does not chain to its predecessor", expected)
			return nil, false
		}
		if sum := entryHash(seq, prev, val[64:]); !bytes.Equal(sum[:], val[32:64]) {
			v.fail(ProblemChain, &Entry{Seq: seq}, 0, "entry %d does not match its hash", seq)
			return nil, false
		}
		e, err := decodeEntry(seq, val[64:])
		if err != nil {
			v.fail(ProblemChain, &e, 0, "entry %d is unreadable", seq)
			return nil, false
		}
		if !v.entry(&e) {
			return nil, false
		}
		copy(prev[:], val[32:64])
		out = append(out, e)
		expected++
		v.entries++
	}
	return out, v.head(tx, expected-1, prev)
}

// entry adds one entry to its account's totals and checks its balance.
func (v *verifier) entry(e *Entry) bool {
	t := v.account(e.Account, e.Currency)
	switch {
	case t.Currency != e.Currency:
		v.fail(ProblemBalance, e, e.AuditSeq, "entry %d is in %s, account %s in %s", e.Seq, e.Currency, e.Account, t.Currency)
		return false
	case t.Balance+e.Micros != e.Balance:
		v.fail(ProblemBalance, e, e.AuditSeq, "entry %d states balance %d for %s; the entries add up to %d", e.Seq, e.Balance, e.Account, t.Balance+e.Micros)
		return false
	}
	t.Balance = e.Balance
	if e.Op == OpCharge {
		if _, dup := v.charged[e.RequestID]; dup {
			v.fail(ProblemDuplicate, e, e.AuditSeq, "request %s is charged a second time", e.RequestID)
			return false
		}
		v.charged[e.RequestID] = struct{}{}
		t.Charges -= e.Micros
		t.Requests++
		return true
	}
	t.Credits += e.Micros
	if e.Op == audit.CreditTopUp {
		t.TopUps += e.Micros
	}
	return true
}

func (v *verifier) head(tx *bolt.Tx, seq uint64, hash [32]byte) bool {
	h := tx.Bucket(bucketLedger).Get(keyHead)
	if seq == 0 && h == nil {
		return true
	}
	if len(h) != 40 || binary.BigEndian.Uint64(h) != seq || !bytes.Equal(h[8:], hash[:]) {
		v.fail(ProblemChain, &Entry{Seq: seq}, 0, "the journal head does not name its last entry %d", seq)
		return false
	}
	return true
}

// stored compares the accounts bucket with the recomputed balances.
func (v *verifier) stored(tx *bolt.Tx, entries []Entry) bool {
	seen := map[string]bool{}
	err := tx.Bucket(bucketAccounts).ForEach(func(k, val []byte) error {
		cur, bal, _, err := decodeAccount(val)
		t := v.totals[string(k)]
		if err != nil || t == nil || t.Balance != bal || t.Currency != cur {
			v.fail(ProblemBalance, nil, 0, "account %s is stored at %d; its entries add up to another balance", k, bal)
			return errStop
		}
		t.Stored, seen[string(k)] = bal, true
		return nil
	})
	if err != nil {
		return false
	}
	for name, t := range v.totals {
		if !seen[name] && t.Balance != 0 {
			v.fail(ProblemBalance, nil, 0, "account %s has balance %d and is not stored", name, t.Balance)
			return false
		}
	}
	return true
}

var errStop = fmt.Errorf("stop")

// bindings checks each entry names an audit record with its hash.
func (v *verifier) bindings(tx *bolt.Tx, entries []Entry) error {
	recs := tx.Bucket(bucketRecords)
	for i := range entries {
		e := &entries[i]
		if val := recs.Get(seqKey(e.AuditSeq)); len(val) < 64 || !bytes.Equal(val[32:64], e.RecordHash[:]) {
			return v.fail(ProblemRecord, e, e.AuditSeq, "entry %d names record %d, which is not the record it was written with", e.Seq, e.AuditSeq)
		}
	}
	return nil
}

// ledgerView is what reconciliation reads of a record.
type ledgerView struct {
	Seq       uint64        `json:"seq"`
	Time      time.Time     `json:"time"`
	Kind      string        `json:"kind"`
	RequestID string        `json:"request_id"`
	Tenant    string        `json:"tenant"`
	App       string        `json:"app"`
	KeyID     string        `json:"key_id"`
	Tokens    *audit.Tokens `json:"tokens"`
	Cost      *audit.Cost   `json:"cost"`
	Credit    *audit.Credit `json:"credit"`
}

var (
	costField   = []byte(`"cost":{"micros":`)
	creditField = []byte(`"credit":{"op":`)
)

// reconcile walks the records and the entries together: each record with
// an accounted cost or a credit has exactly the next entry, equal in every
// field; the costs add up per account.
func (v *verifier) reconcile(tx *bolt.Tx, entries []Entry) error {
	next := 0
	c := tx.Bucket(bucketRecords).Cursor()
	for k, val := c.First(); k != nil; k, val = c.Next() {
		if len(val) < 64 || (!bytes.Contains(val[64:], costField) && !bytes.Contains(val[64:], creditField)) {
			continue
		}
		var r ledgerView
		if err := json.Unmarshal(val[64:], &r); err != nil {
			return v.fail(ProblemRecord, nil, binary.BigEndian.Uint64(k), "record unreadable")
		}
		v.records++
		w := audit.Written{Seq: r.Seq, Record: r.record()}
		copy(w.Hash[:], val[32:64])
		want, carries := entryFor(w)
		if !carries {
			continue
		}
		if next >= len(entries) || !sameEntry(want, entries[next]) {
			return v.fail(ProblemRecord, nil, r.Seq, "record %d carries a %s of %d for %s that the journal does not have as its next entry", r.Seq, want.Op, want.Micros, want.Account)
		}
		if want.Op == OpCharge {
			v.totals[want.Account].AuditCosts -= want.Micros
		}
		next++
	}
	if next < len(entries) {
		e := entries[next]
		return v.fail(ProblemRecord, &e, e.AuditSeq, "entry %d names record %d, which carries no such change", e.Seq, e.AuditSeq)
	}
	return nil
}

func (r *ledgerView) record() *audit.Record {
	return &audit.Record{Seq: r.Seq, Time: r.Time, Kind: r.Kind, RequestID: r.RequestID, Tenant: r.Tenant, App: r.App,
		KeyID: r.KeyID, Tokens: r.Tokens, Cost: r.Cost, Credit: r.Credit}
}

// sameEntry compares an entry with the one its record implies (all but
// Seq and Balance, which the journal walk checked).
func sameEntry(want, got Entry) bool {
	if !want.Time.Equal(got.Time) {
		return false
	}
	want.Seq, want.Balance, want.Time = got.Seq, got.Balance, got.Time
	return want == got
}
