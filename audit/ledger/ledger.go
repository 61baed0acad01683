package ledger

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/custos-gateway/custos/audit"
)

// Ledger is what the gateway calls. Implementations share these semantics
// (ledgertest checks them): the bbolt journal riding in the audit log
// (OpenBolt), and a shared database for several replicas.
type Ledger interface {
	// Reserve holds the request's maximum cost (and tokens) against its
	// account and budgets, or fails with ErrInsufficientCredit or a
	// *BudgetError (ErrBudgetExceeded) having held nothing. A request id
	// reserves once (ErrDuplicate).
	Reserve(ctx context.Context, r Request) (Hold, error)
	// Settle charges the actual cost, releases the rest of the hold and
	// writes outcome (the request's outcome record) carrying the cost. A
	// second Settle of the same request fails with ErrSettled and writes
	// nothing.
	Settle(ctx context.Context, h Hold, c Charge, outcome audit.Record) error
	// Release gives the whole hold back (a failure before the first byte).
	Release(ctx context.Context, h Hold) error
	// Credit applies a top-up, adjustment, refund or expiry durably and
	// returns the account after it.
	Credit(ctx context.Context, c audit.Credit) (Account, error)
	// Account returns an account's balance and what is reserved of it.
	Account(ctx context.Context, name string) (Account, error)
	// AccountFor returns the account a request of tenant (and app) is
	// charged to: tenant/app when that account exists, else the tenant's
	// (ErrNoAccount when neither does). For the policy input and
	// GET /v1/credits.
	AccountFor(ctx context.Context, tenant, app string) (Account, error)
}

// Errors the ledger reports; none carries request content.
var (
	ErrInsufficientCredit = errors.New("ledger: insufficient credit")
	ErrBudgetExceeded     = errors.New("ledger: budget exceeded")
	ErrCurrency           = errors.New("ledger: currency does not match the account")
	ErrDuplicate          = errors.New("ledger: request already reserved")
	ErrSettled            = errors.New("ledger: request already settled or released")
	ErrUnknownHold        = errors.New("ledger: no reservation for this request")
	ErrNoAccount          = errors.New("ledger: no such account")
	ErrInvalid            = errors.New("ledger: invalid")
	ErrUnavailable        = errors.New("ledger: unavailable")
)

// BudgetError says which budget a reservation would exceed and when the
// budget's period ends (for Retry-After).
type BudgetError struct {
	Scope   string
	Period  string // "2026-11-30" or "2026-11"
	Tokens  bool   // a token budget (else spend, in micro-units)
	Limit   int64
	Used    int64 // spent and held before this request
	Asked   int64
	ResetAt time.Time
}

func (e *BudgetError) Error() string {
	unit := "micro-units"
	if e.Tokens {
		unit = "tokens"
	}
	return fmt.Sprintf("ledger: budget of %s for %s exceeded: %d of %d %s used, %d asked", e.Scope, e.Period, e.Used, e.Limit, unit, e.Asked)
}

func (e *BudgetError) Unwrap() error { return ErrBudgetExceeded }

// Request is what Reserve holds for one request.
type Request struct {
	RequestID string
	Tenant    string
	App       string
	KeyID     string
	Currency  string // of the prices the maximum was computed with
	MaxMicros int64  // the most the request can cost
	MaxTokens int64  // the most tokens it can use (prompt + completion)
}

// Hold is a reservation, as Reserve returned it; pass it to Settle or
// Release.
type Hold struct {
	RequestID string
	Account   string // the account charged: "tenant/app" when that account exists, else "tenant"
	Tenant    string
	App       string
	KeyID     string
	Currency  string
	Micros    int64
	Tokens    int64
	Expires   time.Time
}

// Charge is what a request actually cost.
type Charge struct {
	Micros       int64
	Currency     string
	PriceVersion string
	Estimated    bool
	Tokens       int64 // prompt + completion, for token budgets
}

// Account is an account's state.
type Account struct {
	Name      string `json:"account"`
	Currency  string `json:"currency"`
	Balance   int64  `json:"balance_micros"`   // committed
	Reserved  int64  `json:"reserved_micros"`  // held, or charged and not yet committed
	Available int64  `json:"available_micros"` // Balance − Reserved
	Postpaid  bool   `json:"postpaid,omitempty"`
}

// Periods a budget runs over (UTC calendar).
const (
	Day   = "day"
	Month = "month"
)

// Budget caps what a scope may spend, in money and tokens, per period.
// Scopes: ScopeTenant (a postpaid tenant's spend cap), ScopeApp, ScopeKey.
type Budget struct {
	Scope     string
	Period    string // Day or Month
	MaxMicros int64  // 0: no money cap
	MaxTokens int64  // 0: no token cap
	Currency  string // of MaxMicros
}

// Scope names.
func ScopeTenant(tenant string) string   { return "tenant:" + tenant }
func ScopeApp(tenant, app string) string { return "app:" + tenant + "/" + app }
func ScopeKey(keyID string) string       { return "key:" + keyID }

// scopes are the budget scopes a request falls under.
func scopes(tenant, app, key string) []string {
	out := []string{ScopeTenant(tenant)}
	if app != "" {
		out = append(out, ScopeApp(tenant, app))
	}
	if key != "" {
		out = append(out, ScopeKey(key))
	}
	return out
}

// periodKeys are the UTC day and month t falls in.
func periodKeys(t time.Time) (day, month string) {
	t = t.UTC()
	return t.Format(time.DateOnly), t.Format("2006-01")
}

// periodEnd is when the period named key ends.
func periodEnd(key string) time.Time {
	if t, err := time.Parse(time.DateOnly, key); err == nil {
		return t.AddDate(0, 0, 1)
	}
	t, _ := time.Parse("2006-01", key)
	return t.AddDate(0, 1, 0)
}

var refPattern = regexp.MustCompile(`^[A-Za-z0-9._:/#-]{0,64}$`)

// validName: 1 to 64 letters, digits, '.', '_' or '-', not starting with
// punctuation (what tenant and app ids are made of).
func validName(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if !alnum && (i == 0 || (c != '.' && c != '_' && c != '-')) {
			return false
		}
	}
	return true
}

func validCurrency(s string) bool {
	return len(s) == 3 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z' && s[2] >= 'A' && s[2] <= 'Z'
}

// ValidAccount reports whether name is "tenant" or "tenant/app" made of
// identifier characters.
func ValidAccount(name string) bool {
	t, a, found := strings.Cut(name, "/")
	return validName(t) && (!found || validName(a))
}

// validateCredit checks a credit's shape: the sign its operation allows,
// identifiers only.
func validateCredit(c audit.Credit) error {
	switch {
	case !ValidAccount(c.Account):
		return fmt.Errorf("%w: account name %q", ErrInvalid, c.Account)
	case !validCurrency(c.Currency):
		return fmt.Errorf("%w: currency %q (three capital letters)", ErrInvalid, c.Currency)
	case !refPattern.MatchString(c.Reference) || !refPattern.MatchString(c.Actor):
		return fmt.Errorf("%w: reference and actor are identifiers (letters, digits, ._:/#-; at most 64)", ErrInvalid)
	}
	switch c.Op {
	case audit.CreditTopUp:
		if c.Micros <= 0 {
			return fmt.Errorf("%w: a top-up is positive", ErrInvalid)
		}
	case audit.CreditRefund, audit.CreditExpire:
		if c.Micros >= 0 {
			return fmt.Errorf("%w: a %s is negative", ErrInvalid, c.Op)
		}
	case audit.CreditAdjust:
		if c.Micros == 0 {
			return fmt.Errorf("%w: an adjustment is not zero", ErrInvalid)
		}
	default:
		return fmt.Errorf("%w: credit operation %q", ErrInvalid, c.Op)
	}
	return nil
}
