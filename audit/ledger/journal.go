package ledger

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"sort"

	bolt "go.etcd.io/bbolt"

	"github.com/custos-gateway/custos/audit"
)

// Buckets the journal adds to an audit log file.
var (
	bucketJournal  = []byte("journal")  // key: entry seq; value: prev (32) | hash (32) | body
	bucketAccounts = []byte("accounts") // key: account; value: see encodeAccount
	bucketLedger   = []byte("ledger")   // "head": seq (8) | hash (32) of the last entry
	keyHead        = []byte("head")
	bucketRecords  = []byte("records") // the audit log's
)

func seqKey(seq uint64) []byte { return binary.BigEndian.AppendUint64(nil, seq) }

// journal is the audit.Journal of a BoltLedger. It runs on the log's writer
// goroutine only; what a commit changed reaches the book (under the
// ledger's mutex) in Committed.
type journal struct {
	led        *BoltLedger
	seq        uint64
	head       [32]byte
	balances   map[string]int64
	currencies map[string]string

	// The commit in flight.
	applied  []appliedEntry
	changed  map[string]uint64 // account → its last entry in the commit
	nextSeq  uint64
	nextHead [32]byte
	staged   map[string]staged
}

// appliedEntry is what a committed entry changes in the book.
type appliedEntry struct {
	pendingCharge
	requestID string
	currency  string
	balance   int64
}

func newJournal(led *BoltLedger) *journal {
	return &journal{led: led, balances: map[string]int64{}, currencies: map[string]string{}, changed: map[string]uint64{}}
}

// Apply writes the journal entries of a commit's records and the balances
// they leave, in the commit's transaction.
func (j *journal) Apply(tx *bolt.Tx, batch []audit.Written) error {
	j.applied = j.applied[:0]
	clear(j.changed)
	seq, head := j.seq, j.head
	jb := tx.Bucket(bucketJournal)
	jb.FillPercent = 1.0 // keys only grow
	for _, w := range batch {
		e, ok := entryFor(w)
		if !ok {
			continue
		}
		seq++
		e.Seq, e.Balance = seq, j.balance(e.Account)+e.Micros
		if cur, ok := j.currency(e.Account); ok && cur != e.Currency {
			return fmt.Errorf("%w: record %d charges account %s in %s, not %s", ErrCurrency, w.Seq, e.Account, e.Currency, cur)
		}
		// bbolt keeps the value until the commit: one buffer per entry.
		val, err := e.encode(make([]byte, 64, 64+fixedBody+64))
		if err != nil {
			return err
		}
		sum := entryHash(seq, head, val[64:])
		copy(val, head[:])
		copy(val[32:], sum[:])
		if err := jb.Put(seqKey(seq), val); err != nil {
			return err
		}
		head = sum
		j.changed[e.Account] = seq
		j.applied = append(j.applied, appliedEntry{requestID: e.RequestID, currency: e.Currency, balance: e.Balance,
			pendingCharge: pendingCharge{account: e.Account, micros: -e.Micros, tokens: e.Tokens, tenant: e.Tenant, app: e.App, key: e.KeyID, at: e.Time}})
		j.stage(e)
	}
	if len(j.applied) == 0 {
		return nil
	}
	j.nextSeq, j.nextHead = seq, head
	return j.putState(tx)
}

// stage keeps the commit's balances apart until it is durable.
func (j *journal) stage(e Entry) {
	if j.staged == nil {
		j.staged = map[string]staged{}
	}
	j.staged[e.Account] = staged{e.Currency, e.Balance}
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
	for acct, last := range j.changed {
		s := j.staged[acct]
		if err := ab.Put([]byte(acct), encodeAccount(s.currency, s.balance, last)); err != nil {
			return err
		}
	}
	return tx.Bucket(bucketLedger).Put(keyHead, append(seqKey(j.nextSeq), j.nextHead[:]...))
}

// Committed makes the commit's balances current, or forgets them.
func (j *journal) Committed(err error) {
	staged := j.staged
	j.staged = nil
	if len(j.applied) == 0 {
		return
	}
	if err == nil {
		j.seq, j.head = j.nextSeq, j.nextHead
		for acct, s := range staged {
			j.balances[acct], j.currencies[acct] = s.balance, s.currency
		}
	}
	j.led.committed(j.applied, err == nil)
	j.applied = j.applied[:0]
}

// Open creates the journal's buckets; in a file continuing a rotated one it
// carries the balances and the current period's spend in an opening
// record, and in an existing file it loads them.
func (j *journal) Open(tx *bolt.Tx, created bool) (*audit.Record, error) {
	for _, b := range [][]byte{bucketJournal, bucketAccounts, bucketLedger} {
		if _, err := tx.CreateBucketIfNotExists(b); err != nil {
			return nil, err
		}
	}
	if !created {
		return nil, j.load(tx)
	}
	j.seq, j.head = 0, [32]byte{}
	if len(j.balances) == 0 {
		return nil, nil
	}
	ab := tx.Bucket(bucketAccounts)
	op := &audit.Opening{}
	for acct, bal := range j.balances {
		if err := ab.Put([]byte(acct), encodeAccount(j.currencies[acct], bal, 0)); err != nil {
			return nil, err
		}
		op.Balances = append(op.Balances, audit.Balance{Account: acct, Currency: j.currencies[acct], Micros: bal})
	}
	sort.Slice(op.Balances, func(a, b int) bool { return op.Balances[a].Account < op.Balances[b].Account })
	op.Spend = j.led.carriedSpend()
	return &audit.Record{Kind: audit.KindOpening, Opening: op}, nil
}

// load reads the balances and the journal head of an existing file, and
// rebuilds the current period's budgeted spend from its journal.
func (j *journal) load(tx *bolt.Tx) error {
	if h := tx.Bucket(bucketLedger).Get(keyHead); len(h) == 40 {
		j.seq = binary.BigEndian.Uint64(h)
		copy(j.head[:], h[8:])
	}
	err := tx.Bucket(bucketAccounts).ForEach(func(k, v []byte) error {
		cur, bal, _, err := decodeAccount(v)
		if err != nil {
			return fmt.Errorf("account %s: %w", k, err)
		}
		j.balances[string(k)], j.currencies[string(k)] = bal, cur
		return nil
	})
	if err != nil {
		return err
	}
	spend, err := j.recentCharges(tx)
	if err != nil {
		return err
	}
	j.led.loaded(j.balances, j.currencies, spend)
	return nil
}

// recentCharges reads the charges of the current month, newest first, and
// the spend the file's opening record carried.
func (j *journal) recentCharges(tx *bolt.Tx) ([]pendingCharge, error) {
	_, month := periodKeys(j.led.now())
	c := tx.Bucket(bucketJournal).Cursor()
	var out []pendingCharge
	for k, v := c.Last(); k != nil; k, v = c.Prev() {
		if len(v) < 64 {
			return nil, errEntry
		}
		e, err := decodeEntry(binary.BigEndian.Uint64(k), v[64:])
		if err != nil {
			return nil, err
		}
		if _, m := periodKeys(e.Time); m != month {
			return out, nil
		}
		if e.Op == OpCharge {
			out = append(out, pendingCharge{account: e.Account, micros: -e.Micros, tokens: e.Tokens, tenant: e.Tenant, app: e.App, key: e.KeyID, at: e.Time})
		}
	}
	op, err := openingOf(tx)
	if err != nil || op == nil {
		return out, err
	}
	for _, s := range op.Spend {
		out = append(out, pendingCharge{micros: s.Micros, tokens: s.Tokens, carried: spendKey(s.Scope, s.Period)})
	}
	return out, nil
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

type staged struct {
	currency string
	balance  int64
}

var _ audit.Journal = (*journal)(nil)
