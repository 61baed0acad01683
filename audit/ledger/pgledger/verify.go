package pgledger

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5"
)

// Problem kinds Verify reports.
const (
	ProblemChain     = "chain"     // an entry's sequence or hash does not follow its predecessor's, or a head differs
	ProblemBalance   = "balance"   // a stated or stored balance is not what the changes add up to
	ProblemDuplicate = "duplicate" // a request was charged twice
	ProblemReserved  = "reserved"  // an account's reserved amount is not what its holds add up to
	ProblemSpend     = "spend"     // a budget's spent or held amount is not what the charges and holds add up to
)

// Problem is the first inconsistency found.
type Problem struct {
	Kind   string `json:"kind"`
	Tenant string `json:"tenant,omitempty"`
	Seq    int64  `json:"seq,omitempty"`
	Detail string `json:"detail"`
}

// Totals reconcile one account: Credits − Charges == Balance == Stored,
// and Held == Reserved.
type Totals struct {
	Account  string `json:"account"`
	Currency string `json:"currency"`
	TopUps   int64  `json:"topup_micros"`
	Credits  int64  `json:"credit_micros"` // every credit, top-ups included, signed
	Charges  int64  `json:"charge_micros"`
	Requests int64  `json:"requests"`
	Balance  int64  `json:"balance_micros"`  // recomputed from the journal
	Stored   int64  `json:"stored_micros"`   // ledger_accounts.balance
	Held     int64  `json:"held_micros"`     // recomputed from the active holds
	Reserved int64  `json:"reserved_micros"` // ledger_accounts.reserved
}

// Head is a tenant's chain head.
type Head struct {
	Tenant string `json:"tenant"`
	Seq    int64  `json:"seq"`
	Hash   string `json:"hash"` // hex
}

// Report is Verify's result.
type Report struct {
	Entries  int64    `json:"entries"`
	Accounts []Totals `json:"accounts"`
	Heads    []Head   `json:"heads"`
	Problem  *Problem `json:"problem,omitempty"`
}

// OK reports whether everything reconciled.
func (r *Report) OK() bool { return r.Problem == nil }

// checker replays journal entries: chains, balances, duplicates, and what
// charges add to each budget key.
type checker struct {
	rep     Report
	heads   map[string]*Head
	prev    map[string][32]byte
	totals  map[string]*Totals
	charged map[string]struct{}
	spend   map[string][2]int64 // key → micros, tokens charged
}

func newChecker() *checker {
	return &checker{heads: map[string]*Head{}, prev: map[string][32]byte{}, totals: map[string]*Totals{},
		charged: map[string]struct{}{}, spend: map[string][2]int64{}}
}

func (c *checker) fail(kind, tenant string, seq int64, format string, args ...any) bool {
	c.rep.Problem = &Problem{Kind: kind, Tenant: tenant, Seq: seq, Detail: fmt.Sprintf(format, args...)}
	return false
}

// add checks one entry; each tenant's entries must come in order.
func (c *checker) add(e *Entry) bool {
	c.rep.Entries++
	h := c.heads[e.Tenant]
	if h == nil {
		h = &Head{Tenant: e.Tenant}
		c.heads[e.Tenant] = h
	}
	if e.Seq != h.Seq+1 {
		return c.fail(ProblemChain, e.Tenant, e.Seq, "entry %d of %s follows entry %d", e.Seq, e.Tenant, h.Seq)
	}
	want := ChainHash(c.prev[e.Tenant], e)
	if !bytes.Equal(want[:], e.Hash) {
		return c.fail(ProblemChain, e.Tenant, e.Seq, "entry %d of %s: hash does not match its content and predecessor", e.Seq, e.Tenant)
	}
	h.Seq, h.Hash, c.prev[e.Tenant] = e.Seq, hex.EncodeToString(want[:]), want
	if t, _, _ := strings.Cut(e.Account, "/"); t != e.Tenant {
		return c.fail(ProblemChain, e.Tenant, e.Seq, "entry %d of %s changes account %s of another tenant", e.Seq, e.Tenant, e.Account)
	}
	t := c.totals[e.Account]
	if t == nil {
		t = &Totals{Account: e.Account, Currency: e.Currency}
		c.totals[e.Account] = t
	}
	switch {
	case t.Currency != e.Currency:
		return c.fail(ProblemBalance, e.Tenant, e.Seq, "entry %d is in %s, account %s in %s", e.Seq, e.Currency, e.Account, t.Currency)
	case t.Balance+e.Micros != e.Balance:
		return c.fail(ProblemBalance, e.Tenant, e.Seq, "entry %d states balance %d for %s; the changes add up to %d", e.Seq, e.Balance, e.Account, t.Balance+e.Micros)
	}
	t.Balance = e.Balance
	if e.Op != OpCharge {
		t.Credits += e.Micros
		if e.Op == "topup" {
			t.TopUps += e.Micros
		}
		return true
	}
	if _, dup := c.charged[e.RequestID]; dup {
		return c.fail(ProblemDuplicate, e.Tenant, e.Seq, "request %s is charged a second time", e.RequestID)
	}
	c.charged[e.RequestID] = struct{}{}
	t.Charges -= e.Micros
	t.Requests++
	for _, k := range e.SpendKeys {
		s := c.spend[k]
		c.spend[k] = [2]int64{s[0] - e.Micros, s[1] + e.Tokens}
	}
	return true
}

func (c *checker) report() *Report {
	r := c.rep
	for _, t := range c.totals {
		r.Accounts = append(r.Accounts, *t)
	}
	sort.Slice(r.Accounts, func(i, j int) bool { return r.Accounts[i].Account < r.Accounts[j].Account })
	for _, h := range c.heads {
		r.Heads = append(r.Heads, *h)
	}
	sort.Slice(r.Heads, func(i, j int) bool { return r.Heads[i].Tenant < r.Heads[j].Tenant })
	return &r
}

// Verify recomputes, from one consistent snapshot of the database, every
// tenant's hash chain (against its stored head), every account's balance
// from the journal (against each entry's stated balance and the stored
// one), every account's reserved amount from its active holds, and every
// budget's spent and held amounts from the charges and holds; and that no
// request was charged twice. The error is for a database that cannot be
// read; what does not reconcile is the report's Problem.
func Verify(ctx context.Context, db interface {
	BeginTx(ctx context.Context, opts pgx.TxOptions) (pgx.Tx, error)
}) (*Report, error) {
	tx, err := db.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, err
	}
	defer tx.Rollback(ctx)
	c := newChecker()
	if err := ReadJournal(ctx, tx, func(e Entry) error {
		if !c.add(&e) {
			return errProblem
		}
		return nil
	}); err != nil && err != errProblem {
		return nil, err
	}
	for _, check := range []func(context.Context, pgx.Tx, *checker) error{checkHeads, checkAccounts, checkSpend} {
		if c.rep.Problem != nil {
			break
		}
		if err := check(ctx, tx, c); err != nil {
			return nil, err
		}
	}
	return c.report(), nil
}

var errProblem = fmt.Errorf("problem")
