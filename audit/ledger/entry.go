package ledger

import (
	"encoding/binary"
	"errors"
	"time"

	"github.com/custos-gateway/custos/audit"
)

// OpCharge is the journal operation of a request's settled cost; the
// others are the audit.Credit operations.
const OpCharge = "charge"

// Entry is one line of the credit journal: one audit record's change to
// one account's balance. The journal is the sequence of audit records that
// carry a charge (an outcome whose cost names an account) or a credit, each
// stating the balance after it (BalanceAfter): it is hash-chained, signed
// and anchored with the audit log itself.
type Entry struct {
	AuditSeq  uint64    `json:"audit_seq"`
	Op        string    `json:"op"`
	Time      time.Time `json:"time"`
	Account   string    `json:"account"`
	Currency  string    `json:"currency"`
	Micros    int64     `json:"micros"`  // signed change to the balance (a charge is negative)
	Balance   int64     `json:"balance"` // after the change
	Tokens    int64     `json:"tokens,omitempty"`
	RequestID string    `json:"request_id,omitempty"`
	Tenant    string    `json:"tenant,omitempty"`
	App       string    `json:"app,omitempty"`
	KeyID     string    `json:"key_id,omitempty"`
}

var errEntry = errors.New("ledger: stored value unreadable")

// change is the balance change a record carries, if any.
func change(cost *audit.Cost, credit *audit.Credit) (op, account, currency string, micros int64, ok bool) {
	switch {
	case cost != nil && cost.Account != "":
		return OpCharge, cost.Account, cost.Currency, -cost.Micros, true
	case credit != nil:
		return credit.Op, credit.Account, credit.Currency, credit.Micros, true
	}
	return "", "", "", 0, false
}

// account bucket values: currency length | currency | balance | audit seq
// of the last change.
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

// spend bucket values: micros | tokens.
func encodeSpend(u spent) []byte {
	return binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(nil, uint64(u.micros)), uint64(u.tokens))
}

func decodeSpend(b []byte) (spent, error) {
	if len(b) != 16 {
		return spent{}, errEntry
	}
	return spent{int64(binary.BigEndian.Uint64(b)), int64(binary.BigEndian.Uint64(b[8:]))}, nil
}

// spent is what a budgeted scope spent in a period.
type spent struct{ micros, tokens int64 }
