package ledger

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/custos-gateway/custos/audit"
)

// OpCharge is the journal operation of a request's settled cost; the
// others are the audit.Credit operations.
const OpCharge = "charge"

var opCodes = map[string]byte{OpCharge: 1, audit.CreditTopUp: 2, audit.CreditAdjust: 3, audit.CreditRefund: 4, audit.CreditExpire: 5}
var opNames = map[byte]string{1: OpCharge, 2: audit.CreditTopUp, 3: audit.CreditAdjust, 4: audit.CreditRefund, 5: audit.CreditExpire}

// Entry is one journal entry: one change to one account's balance, bound
// to the audit record that carries it.
type Entry struct {
	Seq        uint64    `json:"seq"` // within the file's journal, from 1
	Op         string    `json:"op"`
	AuditSeq   uint64    `json:"audit_seq"`
	RecordHash [32]byte  `json:"-"`
	Time       time.Time `json:"time"`
	Account    string    `json:"account"`
	Currency   string    `json:"currency"`
	Micros     int64     `json:"micros"`  // signed change to the balance (a charge is negative)
	Balance    int64     `json:"balance"` // after the change
	Tokens     int64     `json:"tokens,omitempty"`
	RequestID  string    `json:"request_id,omitempty"`
	Tenant     string    `json:"tenant,omitempty"`
	App        string    `json:"app,omitempty"`
	KeyID      string    `json:"key_id,omitempty"`
}

const entryVersion = 1

var errEntry = errors.New("ledger: journal entry unreadable")

// encode appends the entry's body (everything but Seq, which the key and
// the hash carry) to buf.
func (e *Entry) encode(buf []byte) ([]byte, error) {
	op, ok := opCodes[e.Op]
	if !ok {
		return nil, fmt.Errorf("%w: operation %q", ErrInvalid, e.Op)
	}
	buf = append(buf, entryVersion, op)
	buf = binary.BigEndian.AppendUint64(buf, e.AuditSeq)
	buf = append(buf, e.RecordHash[:]...)
	for _, n := range []int64{e.Time.UnixNano(), e.Micros, e.Balance, e.Tokens} {
		buf = binary.BigEndian.AppendUint64(buf, uint64(n))
	}
	for _, s := range []string{e.Account, e.Currency, e.RequestID, e.Tenant, e.App, e.KeyID} {
		if len(s) > 255 {
			return nil, fmt.Errorf("%w: a journal field is longer than 255 bytes", ErrInvalid)
		}
		buf = append(buf, byte(len(s)))
		buf = append(buf, s...)
	}
	return buf, nil
}

const fixedBody = 2 + 8 + 32 + 4*8

func decodeEntry(seq uint64, b []byte) (Entry, error) {
	e := Entry{Seq: seq}
	if len(b) < fixedBody || b[0] != entryVersion || opNames[b[1]] == "" {
		return e, errEntry
	}
	e.Op = opNames[b[1]]
	e.AuditSeq = binary.BigEndian.Uint64(b[2:])
	copy(e.RecordHash[:], b[10:42])
	e.Time = time.Unix(0, int64(binary.BigEndian.Uint64(b[42:]))).UTC()
	e.Micros = int64(binary.BigEndian.Uint64(b[50:]))
	e.Balance = int64(binary.BigEndian.Uint64(b[58:]))
	e.Tokens = int64(binary.BigEndian.Uint64(b[66:]))
	rest := b[fixedBody:]
	for _, dst := range []*string{&e.Account, &e.Currency, &e.RequestID, &e.Tenant, &e.App, &e.KeyID} {
		if len(rest) < 1 || len(rest) < 1+int(rest[0]) {
			return e, errEntry
		}
		*dst = string(rest[1 : 1+rest[0]])
		rest = rest[1+rest[0]:]
	}
	if len(rest) != 0 {
		return e, errEntry
	}
	return e, nil
}

// entryHash chains an entry to its predecessor.
func entryHash(seq uint64, prev [32]byte, body []byte) [32]byte {
	h := sha256.New()
	h.Write([]byte("custos-journal/v1\n"))
	var k [8]byte
	binary.BigEndian.PutUint64(k[:], seq)
	h.Write(k[:])
	h.Write(prev[:])
	h.Write(body)
	var out [32]byte
	h.Sum(out[:0])
	return out
}

// entryFor is the journal entry a record carries, if any: a charge (an
// outcome whose cost names an account) or a credit. Seq and Balance are
// left to the caller.
func entryFor(w audit.Written) (Entry, bool) {
	r := w.Record
	e := Entry{AuditSeq: w.Seq, RecordHash: w.Hash, Time: r.Time, RequestID: r.RequestID}
	switch {
	case r.Cost != nil && r.Cost.Account != "":
		e.Op, e.Account, e.Currency, e.Micros = OpCharge, r.Cost.Account, r.Cost.Currency, -r.Cost.Micros
		e.Tenant, e.App, e.KeyID = r.Tenant, r.App, r.KeyID
		if r.Tokens != nil {
			e.Tokens = r.Tokens.Prompt + r.Tokens.Completion
		}
	case r.Credit != nil:
		e.Op, e.Account, e.Currency, e.Micros = r.Credit.Op, r.Credit.Account, r.Credit.Currency, r.Credit.Micros
	default:
		return e, false
	}
	return e, true
}

// account bucket values: currency length | currency | balance | last entry.
func encodeAccount(currency string, balance int64, last uint64) []byte {
	b := append([]byte{byte(len(currency))}, currency...)
	b = binary.BigEndian.AppendUint64(b, uint64(balance))
	return binary.BigEndian.AppendUint64(b, last)
}

func decodeAccount(b []byte) (currency string, balance int64, last uint64, err error) {
	if len(b) < 1 || len(b) != 1+int(b[0])+16 {
		return "", 0, 0, errEntry
	}
	n := int(b[0])
	return string(b[1 : 1+n]), int64(binary.BigEndian.Uint64(b[1+n:])), binary.BigEndian.Uint64(b[9+n:]), nil
}
