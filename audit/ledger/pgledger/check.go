package pgledger

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/custos-gateway/custos/audit"
	"github.com/custos-gateway/custos/audit/ledger"
)

// The checks below are the bbolt ledger's, rule for rule (ledgertest runs
// the same cases against both).

var refPattern = regexp.MustCompile(`^[A-Za-z0-9._:/#-]{0,64}$`)

// validName: 1 to 64 letters, digits, '.', '_' or '-', not starting with
// punctuation.
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

func validRequest(r ledger.Request) error {
	switch {
	case r.RequestID == "" || len(r.RequestID) > 128:
		return fmt.Errorf("%w: request id", ledger.ErrInvalid)
	case !validName(r.Tenant) || (r.App != "" && !validName(r.App)):
		return fmt.Errorf("%w: tenant or app name", ledger.ErrInvalid)
	case len(r.KeyID) > 128:
		return fmt.Errorf("%w: key id", ledger.ErrInvalid)
	case r.MaxMicros < 0 || r.MaxTokens < 0:
		return fmt.Errorf("%w: negative maximum", ledger.ErrInvalid)
	case !validCurrency(r.Currency):
		return fmt.Errorf("%w: currency %q", ledger.ErrInvalid, r.Currency)
	}
	return nil
}

// validateCredit checks a credit's shape: the sign its operation allows,
// identifiers only.
func validateCredit(c audit.Credit) error {
	switch {
	case !ledger.ValidAccount(c.Account):
		return fmt.Errorf("%w: account name %q", ledger.ErrInvalid, c.Account)
	case !validCurrency(c.Currency):
		return fmt.Errorf("%w: currency %q (three capital letters)", ledger.ErrInvalid, c.Currency)
	case !refPattern.MatchString(c.Reference) || !refPattern.MatchString(c.Actor):
		return fmt.Errorf("%w: reference and actor are identifiers (letters, digits, ._:/#-; at most 64)", ledger.ErrInvalid)
	}
	switch c.Op {
	case audit.CreditTopUp:
		if c.Micros <= 0 {
			return fmt.Errorf("%w: a top-up is positive", ledger.ErrInvalid)
		}
	case audit.CreditRefund, audit.CreditExpire:
		if c.Micros >= 0 {
			return fmt.Errorf("%w: a %s is negative", ledger.ErrInvalid, c.Op)
		}
	case audit.CreditAdjust:
		if c.Micros == 0 {
			return fmt.Errorf("%w: an adjustment is not zero", ledger.ErrInvalid)
		}
	default:
		return fmt.Errorf("%w: credit operation %q", ledger.ErrInvalid, c.Op)
	}
	return nil
}

// scopes are the budget scopes a request falls under.
func scopes(tenant, app, key string) []string {
	out := []string{ledger.ScopeTenant(tenant)}
	if app != "" {
		out = append(out, ledger.ScopeApp(tenant, app))
	}
	if key != "" {
		out = append(out, ledger.ScopeKey(key))
	}
	return out
}

// budgetKeys lists, for the scopes of a request at t, each budget with the
// spend key ("scope|period") it counts against.
func (l *Ledger) budgetKeys(tenant, app, key string, t time.Time) ([]ledger.Budget, []string) {
	bs, keys := []ledger.Budget{}, []string{}
	if len(l.budgets) == 0 {
		return bs, keys
	}
	t = t.UTC()
	day, month := t.Format(time.DateOnly), t.Format("2006-01")
	for _, sc := range scopes(tenant, app, key) {
		for _, b := range l.budgets[sc] {
			p := month
			if b.Period == ledger.Day {
				p = day
			}
			bs, keys = append(bs, b), append(keys, sc+"|"+p)
		}
	}
	return bs, keys
}

// keyPeriod is the period of a spend key.
func keyPeriod(k string) string { return k[strings.LastIndexByte(k, '|')+1:] }

// periodEnd is when the period named key ends.
func periodEnd(key string) time.Time {
	if t, err := time.Parse(time.DateOnly, key); err == nil {
		return t.AddDate(0, 0, 1)
	}
	t, _ := time.Parse("2006-01", key)
	return t.AddDate(0, 1, 0)
}
