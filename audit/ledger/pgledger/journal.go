package pgledger

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
)

// Entry is one line of the journal: a charge (Op "charge", Micros
// negative) or a credit (the audit.Credit operations), with the account's
// balance after it, in its tenant's hash chain.
type Entry struct {
	Tenant       string    `json:"tenant"`
	Seq          int64     `json:"seq"` // 1, 2, … per tenant
	At           time.Time `json:"at"`
	Op           string    `json:"op"`
	Account      string    `json:"account"`
	Currency     string    `json:"currency"`
	Micros       int64     `json:"micros"`  // signed change to the balance
	Balance      int64     `json:"balance"` // after the change
	Tokens       int64     `json:"tokens,omitempty"`
	RequestID    string    `json:"request_id"` // the request charged, or the credit's id
	App          string    `json:"app,omitempty"`
	KeyID        string    `json:"key_id,omitempty"`
	Replica      string    `json:"replica,omitempty"`
	PriceVersion string    `json:"price_version,omitempty"`
	Estimated    bool      `json:"estimated,omitempty"`
	Reference    string    `json:"reference,omitempty"`
	Actor        string    `json:"actor,omitempty"`
	SpendKeys    []string  `json:"spend_keys,omitempty"` // the budget keys a charge counted against
	Hash         []byte    `json:"hash"`                 // SHA-256 of the predecessor's hash and Body
}

// OpCharge is a charge's operation.
const OpCharge = "charge"

// Body is the canonical encoding an entry's hash covers: netstrings
// ("len:value,") of a version tag and every field but the hash, the time
// as Unix microseconds (ledger_entry_body in the schema is the same).
func (e *Entry) Body() []byte {
	est := "0"
	if e.Estimated {
		est = "1"
	}
	b := make([]byte, 0, 256)
	for _, f := range []string{"custos-ledger-v1", e.Tenant, strconv.FormatInt(e.Seq, 10), strconv.FormatInt(e.At.UnixMicro(), 10),
		e.Op, e.Account, e.Currency, strconv.FormatInt(e.Micros, 10), strconv.FormatInt(e.Balance, 10), strconv.FormatInt(e.Tokens, 10),
		e.RequestID, e.App, e.KeyID, e.Replica, e.PriceVersion, est, e.Reference, e.Actor, strconv.Itoa(len(e.SpendKeys))} {
		b = netstring(b, f)
	}
	for _, k := range e.SpendKeys {
		b = netstring(b, k)
	}
	return b
}

func netstring(b []byte, s string) []byte {
	b = strconv.AppendInt(b, int64(len(s)), 10)
	return append(append(append(b, ':'), s...), ',')
}

// ChainHash is the hash an entry following prev must carry.
func ChainHash(prev [32]byte, e *Entry) [32]byte {
	h := sha256.New()
	h.Write(prev[:])
	h.Write(e.Body())
	var out [32]byte
	h.Sum(out[:0])
	return out
}

const journalColumns = `tenant, seq, at, op, account, currency, micros, balance, tokens, request_id, app, key_id,
	replica, price_version, estimated, reference, actor, spend_keys, hash`

// queryer runs a query (a pool, a connection or a transaction).
type queryer interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// ReadJournal calls fn with every journal entry, each tenant's in chain
// order, until fn returns an error.
func ReadJournal(ctx context.Context, db queryer, fn func(Entry) error) error {
	rows, err := db.Query(ctx, `SELECT `+journalColumns+` FROM ledger_journal ORDER BY tenant, seq`)
	if err != nil {
		return err
	}
	var e Entry
	_, err = pgx.ForEachRow(rows, []any{&e.Tenant, &e.Seq, &e.At, &e.Op, &e.Account, &e.Currency, &e.Micros, &e.Balance,
		&e.Tokens, &e.RequestID, &e.App, &e.KeyID, &e.Replica, &e.PriceVersion, &e.Estimated, &e.Reference, &e.Actor,
		&e.SpendKeys, &e.Hash}, func() error {
		e.At = e.At.UTC()
		return fn(e)
	})
	return err
}

// ExportJournal writes the journal as JSON lines, for VerifyJournal
// offline.
func ExportJournal(ctx context.Context, db queryer, w io.Writer) (int, error) {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	n := 0
	err := ReadJournal(ctx, db, func(e Entry) error { n++; return enc.Encode(&e) })
	if err != nil {
		return n, err
	}
	return n, bw.Flush()
}

// VerifyJournal checks an exported journal offline: every tenant's chain
// (sequence and hashes), every balance against the changes before it, no
// request charged twice. Compare the report's Heads with a head recorded
// elsewhere to detect a truncated tail.
func VerifyJournal(r io.Reader) (*Report, error) {
	c := newChecker()
	dec := json.NewDecoder(r)
	for {
		var e Entry
		err := dec.Decode(&e)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("pgledger: journal line %d: %w", c.rep.Entries+1, err)
		}
		if !c.add(&e) {
			break
		}
	}
	return c.report(), nil
}
