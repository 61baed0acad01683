package ledger

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/maphash"
	"sort"

	bolt "go.etcd.io/bbolt"

	"github.com/custos-gateway/custos/audit"
)

// Problem kinds VerifyFiles reports.
const (
	ProblemBalance   = "balance"   // a stated or stored balance is not what the changes add up to
	ProblemRecord    = "record"    // a record's ledger fields are missing, unreadable or inconsistent
	ProblemDuplicate = "duplicate" // a request was charged twice
	ProblemCarry     = "carry"     // a file's opening state is not the previous file's closing one
	ProblemSpend     = "spend"     // a stored budget spend is not what the charges add up to
)

// Problem is the first inconsistency found.
type Problem struct {
	File     string `json:"file"`
	AuditSeq uint64 `json:"audit_seq,omitempty"` // the audit record concerned
	Kind     string `json:"kind"`
	Detail   string `json:"detail"`
}

// Totals reconcile one account: Opening + Credits − Charges == Balance ==
// Stored, and Charges (what the stated balances fell by) == AuditCosts (what
// the records' costs say).
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
	Entries  uint64   `json:"entries"` // journal lines: records carrying a charge or a credit
	Records  uint64   `json:"records"` // records read
	Accounts []Totals `json:"accounts"`
	Problem  *Problem `json:"problem,omitempty"`
}

// OK reports whether everything reconciled.
func (r *Report) OK() bool { return r.Problem == nil }

// VerifyFiles replays the credit journal of a chain of audit log files
// offline, read-only: every balance recomputed from the opening balances
// and the records' changes, against the balance each record states and the
// balances and budget spend the file stores; no request charged twice; each
// file's opening state equal to the previous file's closing one; every
// charge's stated fall in balance equal to its recorded cost. The records'
// own integrity (hashes, chain, signatures, anchors) is audit.VerifyFiles':
// run both.
func VerifyFiles(paths []string) (*Report, error) {
	ordered, err := audit.SortChain(paths)
	if err != nil {
		return nil, err
	}
	v := &verifier{totals: map[string]*Totals{}, charged: map[uint64]uint64{}, collided: map[string]struct{}{}, seed: maphash.MakeSeed()}
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
	tx       *bolt.Tx
	in       interner
	seed     maphash.Seed
	charged  map[uint64]uint64   // hash of a charged request id → its record (high bit: an earlier file's)
	collided map[string]struct{} // ids whose hash another id had
	keyCache map[string][]string // tenant, app, key, day → the stored spend keys they count against
	buf      []byte
	totals   map[string]*Totals
	spend    map[string]spent // this file's budget spend, recomputed
	stored   map[string]spent // as this file holds it
	previous map[string]spent // the previous file's, as it closed
	entries  uint64
	records  uint64
	problem  *Problem
	path     string
}

func (v *verifier) fail(kind string, seq uint64, format string, args ...any) bool {
	v.problem = &Problem{File: v.path, AuditSeq: seq, Kind: kind, Detail: fmt.Sprintf(format, args...)}
	return false
}

func (v *verifier) account(name, currency string) *Totals {
	t := v.totals[name]
	if t == nil {
		t = &Totals{Account: name, Currency: currency}
		v.totals[name] = t
	}
	return t
}

// file replays one file; continued says it follows another.
func (v *verifier) file(tx *bolt.Tx, path string, continued bool) error {
	v.path, v.tx, v.keyCache = path, tx, map[string][]string{}
	for h, seq := range v.charged { // ids of earlier files: hashes only
		v.charged[h] = seq | 1<<63
	}
	if tx.Bucket(bucketAccounts) == nil {
		return nil // no accounting in this file
	}
	op, err := openingOf(tx)
	if err != nil {
		return err
	}
	if op == nil {
		op = &audit.Opening{}
	}
	if v.stored, err = storedSpend(tx); err != nil {
		return err
	}
	if !v.carry(op, continued) {
		return nil
	}
	if err := eachLine(tx, v.line, &v.records, &v.in); err != nil || v.problem != nil {
		return err
	}
	if v.storedAccounts(tx) && v.storedSpendMatches() {
		v.previous = v.stored
	}
	return nil
}

// carry checks (or, for the first file, takes) the opening state.
func (v *verifier) carry(op *audit.Opening, continued bool) bool {
	opening := map[string]audit.Balance{}
	for _, b := range op.Balances {
		opening[b.Account] = b
	}
	v.spend = map[string]spent{}
	for _, s := range op.Spend {
		k := spendKey(s.Scope, s.Period)
		v.spend[k] = spent{s.Micros, s.Tokens}
		if p, ok := v.previous[k]; continued && (!ok || p != v.spend[k]) {
			return v.fail(ProblemCarry, 0, "budget spend %s opens at %d but closed the previous file at %d", k, s.Micros, p.micros)
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
			return v.fail(ProblemCarry, 0, "account %s closed the previous file at %d and opens this one at %d", name, t.Balance, b.Micros)
		}
	}
	for name, b := range opening {
		if v.totals[name] == nil && b.Micros != 0 {
			return v.fail(ProblemCarry, 0, "account %s opens at %d but was not in the previous file", name, b.Micros)
		}
	}
	return true
}

// line replays one record.
func (v *verifier) line(seq uint64, l *line) bool {
	op, acct, cur, micros, ok := change(l.cost, l.credit)
	switch {
	case !ok && l.hasBalance:
		return v.fail(ProblemRecord, seq, "record %d states a balance but changes none", seq)
	case !ok:
		return true
	case !l.hasBalance:
		return v.fail(ProblemRecord, seq, "record %d changes account %s but states no balance after", seq, acct)
	}
	v.entries++
	t := v.account(acct, cur)
	switch {
	case t.Currency != cur:
		return v.fail(ProblemBalance, seq, "record %d is in %s, account %s in %s", seq, cur, acct, t.Currency)
	case t.Balance+micros != l.balance:
		return v.fail(ProblemBalance, seq, "record %d states balance %d for %s; the changes add up to %d", seq, l.balance, acct, t.Balance+micros)
	}
	t.Balance = l.balance
	if op != OpCharge {
		t.Credits += micros
		if op == audit.CreditTopUp {
			t.TopUps += micros
		}
		return true
	}
	if v.seen(seq, l.requestID) {
		return v.fail(ProblemDuplicate, seq, "request %s is charged a second time", l.requestID)
	}
	t.Charges -= micros
	t.AuditCosts += l.cost.Micros
	t.Requests++
	return v.countSpend(seq, l, -micros)
}

// seen records a charged request id and says whether it was charged
// before. Ids are kept as 64-bit hashes; a hash seen before is confirmed
// against the earlier record's id (in an earlier file: the hash alone), so
// a collision within a file never passes as a duplicate.
func (v *verifier) seen(seq uint64, id []byte) bool {
	h := maphash.Bytes(v.seed, id)
	prev, hit := v.charged[h]
	if !hit {
		v.charged[h] = seq
		return false
	}
	if prev>>63 == 1 || bytes.Equal(v.requestIDOf(prev), id) {
		return true
	}
	if _, dup := v.collided[string(id)]; dup {
		return true
	}
	v.collided[string(id)] = struct{}{}
	return false
}

// requestIDOf reads the request id of an earlier record of this file.
func (v *verifier) requestIDOf(seq uint64) []byte {
	var l line
	if val := v.tx.Bucket(bucketRecords).Get(binary.BigEndian.AppendUint64(nil, seq)); len(val) > 64 && scanRecord(val[64:], &l, &v.in) {
		return bytes.Clone(l.requestID)
	}
	return nil
}

// countSpend adds a charge to the stored budget spend keys it falls under.
func (v *verifier) countSpend(seq uint64, l *line, micros int64) bool {
	if len(v.stored) == 0 {
		return true
	}
	day, month, ok := l.periods()
	if !ok {
		return v.fail(ProblemRecord, seq, "record %d has a time that is not UTC RFC 3339", seq)
	}
	v.buf = append(append(append(append(append(append(append(v.buf[:0], l.tenant...), 0), l.app...), 0), l.keyID...), 0), day...)
	keys, hit := v.keyCache[string(v.buf)]
	if !hit {
		for _, sc := range scopes(string(l.tenant), string(l.app), string(l.keyID)) {
			for _, p := range []string{string(day), string(month)} {
				if k := spendKey(sc, p); hasKey(v.stored, k) {
					keys = append(keys, k)
				}
			}
		}
		v.keyCache[string(v.buf)] = keys
	}
	for _, k := range keys {
		s := v.spend[k]
		v.spend[k] = spent{s.micros + micros, s.tokens + l.tokens}
	}
	return true
}

func hasKey(m map[string]spent, k string) bool { _, ok := m[k]; return ok }

// storedAccounts compares the accounts bucket with the recomputed balances.
func (v *verifier) storedAccounts(tx *bolt.Tx) bool {
	seen := map[string]bool{}
	err := tx.Bucket(bucketAccounts).ForEach(func(k, val []byte) error {
		cur, bal, _, err := decodeAccount(val)
		t := v.totals[string(k)]
		if err != nil || t == nil || t.Balance != bal || t.Currency != cur {
			v.fail(ProblemBalance, 0, "account %s is stored at %d; its records add up to another balance", k, bal)
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
			return v.fail(ProblemBalance, 0, "account %s has balance %d and is not stored", name, t.Balance)
		}
	}
	return true
}

func (v *verifier) storedSpendMatches() bool {
	for k, s := range v.stored {
		if v.spend[k] != s {
			return v.fail(ProblemSpend, 0, "budget spend %s is stored as %d micro-units and %d tokens; the charges add up to %d and %d",
				k, s.micros, s.tokens, v.spend[k].micros, v.spend[k].tokens)
		}
	}
	return true
}

var errStop = fmt.Errorf("stop")

func storedSpend(tx *bolt.Tx) (map[string]spent, error) {
	out := map[string]spent{}
	b := tx.Bucket(bucketSpend)
	if b == nil {
		return out, nil
	}
	err := b.ForEach(func(k, val []byte) error {
		s, err := decodeSpend(val)
		out[string(k)] = s
		return err
	})
	return out, err
}

var intentKind = []byte(`,"kind":"intent"`)

// isIntent reads the kind near the start of a record (the encoder writes
// seq, time, kind first): intents never carry money, and are half the log.
func isIntent(body []byte) bool { return bytes.Contains(body[:min(len(body), 96)], intentKind) }

// eachLine calls fn for every record of the file but intents, read by
// scanRecord, until fn returns false.
func eachLine(tx *bolt.Tx, fn func(seq uint64, l *line) bool, read *uint64, in *interner) error {
	var l line
	c := tx.Bucket(bucketRecords).Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		*read++
		if len(k) != 8 || len(v) < 64 {
			return fmt.Errorf("ledger: record %x unreadable: run audit verify", k)
		}
		body := v[64:]
		if isIntent(body) {
			continue
		}
		seq := binary.BigEndian.Uint64(k)
		if !scanRecord(body, &l, in) {
			return fmt.Errorf("ledger: record %d unreadable: run audit verify", seq)
		}
		if !fn(seq, &l) {
			return nil
		}
	}
	return nil
}

// entryOf is the journal line a record carries, if any.
func entryOf(seq uint64, l *line) (Entry, bool) {
	op, acct, cur, micros, ok := change(l.cost, l.credit)
	if !ok {
		return Entry{}, false
	}
	t, _ := l.when()
	e := Entry{AuditSeq: seq, Op: op, Time: t, Account: acct, Currency: cur, Micros: micros, Balance: l.balance, RequestID: string(l.requestID)}
	if op == OpCharge {
		e.Tokens, e.Tenant, e.App, e.KeyID = l.tokens, string(l.tenant), string(l.app), string(l.keyID)
	}
	return e, true
}
