package ledger

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/custos-gateway/custos/audit"
)

// Buckets the ledger adds to an audit log file. Both are derived state,
// rewritten in the commits of the records they derive from: VerifyFiles
// recomputes them from the records.
var (
	bucketAccounts = []byte("accounts") // key: account; value: see encodeAccount
	bucketSpend    = []byte("spend")    // key: scope|period of a budget; value: see encodeSpend
	bucketRecords  = []byte("records")  // the audit log's
)

// journal is the audit.Journal of a BoltLedger. It runs under the log's
// writer lock only; what a commit changed reaches the book (under the
// ledger's mutex) in Committed.
type journal struct {
	led        *BoltLedger
	budgets    map[string][]Budget // read-only
	balances   map[string]int64
	currencies map[string]string
	spend      map[string]spent
	periods    periodCache

	// The commit in flight.
	applied     []appliedEntry
	staged      map[string]staged
	stagedSpend map[string]spent
}

type staged struct {
	currency string
	balance  int64
	last     uint64 // audit seq of the change
}

// appliedEntry is what a committed change does to the book.
type appliedEntry struct {
	pendingCharge
	requestID string
	currency  string
	balance   int64
}

func newJournal(led *BoltLedger) *journal {
	return &journal{led: led, budgets: led.book.budgets, balances: map[string]int64{}, currencies: map[string]string{},
		spend: map[string]spent{}, staged: map[string]staged{}, stagedSpend: map[string]spent{}}
}

// Apply states, in every record carrying a charge or a credit, the
// account's balance after it (BalanceAfter), and writes the balances and
// budgeted spend the commit leaves, in the commit's transaction.
func (j *journal) Apply(tx *bolt.Tx, batch []audit.Written) error {
	j.applied = j.applied[:0]
	for _, w := range batch {
		r := w.Record
		op, acct, cur, micros, ok := change(r.Cost, r.Credit)
		if !ok || r.Kind == audit.KindIntent { // an intent never carries money
			continue
		}
		if c, known := j.currency(acct); known && c != cur {
			return fmt.Errorf("%w: record %d changes account %s in %s, not %s", ErrCurrency, w.Seq, acct, cur, c)
		}
		bal := j.balance(acct) + micros
		r.BalanceAfter = &bal
		j.staged[acct] = staged{cur, bal, w.Seq}
		a := appliedEntry{requestID: r.RequestID, currency: cur, balance: bal, pendingCharge: pendingCharge{account: acct, micros: -micros}}
		if op == OpCharge {
			j.charge(r, &a.pendingCharge)
		}
		j.applied = append(j.applied, a)
	}
	if len(j.applied) == 0 {
		return nil
	}
	return j.putState(tx)
}

// charge counts a charge against the budgets of its scopes.
func (j *journal) charge(r *audit.Record, c *pendingCharge) {
	c.tenant, c.app, c.key, c.at = r.Tenant, r.App, r.KeyID, r.Time
	if r.Tokens != nil {
		c.tokens = r.Tokens.Prompt + r.Tokens.Completion
	}
	if len(j.budgets) == 0 {
		return
	}
	day, month := j.periods.get(r.Time)
	for _, k := range keysFor(j.budgets, scopes(c.tenant, c.app, c.key), day, month) {
		s, ok := j.stagedSpend[k]
		if !ok {
			s = j.spend[k]
		}
		j.stagedSpend[k] = spent{s.micros + c.micros, s.tokens + c.tokens}
	}
}

func (j *journal) balance(account string) int64 {
	if s, ok := j.staged[account]; ok {
		return s.balance
	}
	return j.balances[account]
}

func (j *journal) currency(account string) (string, bool) {
	if s, ok := j.staged[account]; ok {
		return s.currency, true
	}
	c, ok := j.currencies[account]
	return c, ok
}

func (j *journal) putState(tx *bolt.Tx) error {
	ab := tx.Bucket(bucketAccounts)
	for acct, s := range j.staged {
		if err := ab.Put([]byte(acct), encodeAccount(s.currency, s.balance, s.last)); err != nil {
			return err
		}
	}
	sb := tx.Bucket(bucketSpend)
	for k, s := range j.stagedSpend {
		if err := sb.Put([]byte(k), encodeSpend(s)); err != nil {
			return err
		}
	}
	return nil
}

// Committed makes the commit's state current, or forgets it.
func (j *journal) Committed(err error) {
	defer func() {
		clear(j.staged)
		clear(j.stagedSpend)
		j.applied = j.applied[:0]
	}()
	if len(j.applied) == 0 {
		return
	}
	if err == nil {
		for acct, s := range j.staged {
			j.balances[acct], j.currencies[acct] = s.balance, s.currency
		}
		for k, s := range j.stagedSpend {
			j.spend[k] = s
		}
	}
	j.led.committed(j.applied, err == nil)
}

// Open creates the ledger's buckets; a file continuing a rotated one gets
// the balances and the current periods' spend, also stated in an opening
// record; an existing file's are loaded.
func (j *journal) Open(tx *bolt.Tx, created bool) (*audit.Record, error) {
	for _, b := range [][]byte{bucketAccounts, bucketSpend} {
		if _, err := tx.CreateBucketIfNotExists(b); err != nil {
			return nil, err
		}
	}
	if !created {
		return nil, j.load(tx)
	}
	if len(j.balances) == 0 && len(j.spend) == 0 {
		return nil, nil
	}
	op, err := j.carry(tx)
	if err != nil {
		return nil, err
	}
	return &audit.Record{Kind: audit.KindOpening, Opening: op}, nil
}

// carry writes the state a new file starts from and describes it.
func (j *journal) carry(tx *bolt.Tx) (*audit.Opening, error) {
	op := &audit.Opening{}
	ab, sb := tx.Bucket(bucketAccounts), tx.Bucket(bucketSpend)
	for acct, bal := range j.balances {
		if err := ab.Put([]byte(acct), encodeAccount(j.currencies[acct], bal, 0)); err != nil {
			return nil, err
		}
		op.Balances = append(op.Balances, audit.Balance{Account: acct, Currency: j.currencies[acct], Micros: bal})
	}
	day, month := periodKeys(j.led.now())
	for k, s := range j.spend {
		if p := keyPeriod(k); p != day && p != month {
			delete(j.spend, k) // a period that ended stays in the earlier file
			continue
		}
		if err := sb.Put([]byte(k), encodeSpend(s)); err != nil {
			return nil, err
		}
		i := strings.LastIndexByte(k, '|')
		op.Spend = append(op.Spend, audit.Spend{Scope: k[:i], Period: k[i+1:], Micros: s.micros, Tokens: s.tokens})
	}
	sort.Slice(op.Balances, func(a, b int) bool { return op.Balances[a].Account < op.Balances[b].Account })
	sort.Slice(op.Spend, func(a, b int) bool {
		return op.Spend[a].Scope+op.Spend[a].Period < op.Spend[b].Scope+op.Spend[b].Period
	})
	return op, nil
}

// load reads the balances and the budgeted spend of an existing file.
func (j *journal) load(tx *bolt.Tx) error {
	err := tx.Bucket(bucketAccounts).ForEach(func(k, v []byte) error {
		cur, bal, _, err := decodeAccount(v)
		if err != nil {
			return fmt.Errorf("ledger: account %s: %w", k, err)
		}
		j.balances[string(k)], j.currencies[string(k)] = bal, cur
		return nil
	})
	if err != nil {
		return err
	}
	err = tx.Bucket(bucketSpend).ForEach(func(k, v []byte) error {
		s, err := decodeSpend(v)
		if err != nil {
			return fmt.Errorf("ledger: spend %s: %w", k, err)
		}
		j.spend[string(k)] = s
		return nil
	})
	if err != nil {
		return err
	}
	j.led.loaded(j.balances, j.currencies, j.spend)
	return nil
}

// openingOf reads the opening record a file begins with, if any.
func openingOf(tx *bolt.Tx) (*audit.Opening, error) {
	_, v := tx.Bucket(bucketRecords).Cursor().First()
	if len(v) < 64 {
		return nil, nil
	}
	var r struct {
		Kind    string         `json:"kind"`
		Opening *audit.Opening `json:"opening"`
	}
	if err := json.Unmarshal(v[64:], &r); err != nil {
		return nil, fmt.Errorf("ledger: first record unreadable: %w", err)
	}
	if r.Kind != audit.KindOpening {
		return nil, nil
	}
	return r.Opening, nil
}

// periodCache keeps the day and month strings of the last day asked.
type periodCache struct {
	start      time.Time
	day, month string
}

func (c *periodCache) get(t time.Time) (day, month string) {
	t = t.UTC()
	if d := t.Truncate(24 * time.Hour); !d.Equal(c.start) || c.day == "" {
		c.start = d
		c.day, c.month = periodKeys(t)
	}
	return c.day, c.month
}

var _ audit.Journal = (*journal)(nil)
