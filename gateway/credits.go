package gateway

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/custos-gateway/custos/audit"
	"github.com/custos-gateway/custos/audit/ledger"
	"github.com/custos-gateway/custos/gateway/openai"
)

// creditView is an account as the credit routes show it: amounts as exact
// decimals and in micro-units.
type creditView struct {
	Object          string `json:"object"`
	Account         string `json:"account,omitempty"`
	Billing         string `json:"billing"` // prepaid, postpaid or none
	Currency        string `json:"currency,omitempty"`
	Balance         string `json:"balance"`
	Reserved        string `json:"reserved"`
	Available       string `json:"available"`
	BalanceMicros   int64  `json:"balance_micros"`
	ReservedMicros  int64  `json:"reserved_micros"`
	AvailableMicros int64  `json:"available_micros"`
}

func viewOf(a ledger.Account, billing string) creditView {
	return creditView{Object: "credits", Account: a.Name, Billing: billing, Currency: a.Currency,
		Balance: ledger.FormatAmount(a.Balance), Reserved: ledger.FormatAmount(a.Reserved), Available: ledger.FormatAmount(a.Available),
		BalanceMicros: a.Balance, ReservedMicros: a.Reserved, AvailableMicros: a.Available}
}

// credits serves GET /v1/credits to an app key: the balance its requests
// draw on (its app's account, else its tenant's). A tenant that is not
// billed has none.
func (s *Server) credits(c *gin.Context, ex *exchange) error {
	billing := s.billing(ex.caller.Tenant)
	view := creditView{Object: "credits", Billing: "none", Balance: "0.000000", Reserved: "0.000000", Available: "0.000000"}
	if billing != "" {
		view.Billing = billing
		a, err := s.ledger.AccountFor(c.Request.Context(), ex.caller.Tenant, ex.caller.App)
		switch {
		case errors.Is(err, ledger.ErrNoAccount):
			view.Account = ex.caller.Tenant // nothing credited yet
		case err != nil:
			return s.ledgerError(err)
		default:
			view = viewOf(a, billing)
		}
	}
	ex.ans.status = http.StatusOK
	c.JSON(http.StatusOK, view)
	return nil
}

// creditRequest is a finance team's credit operation.
type creditRequest struct {
	Op        string `json:"op"`      // topup (default), adjust, refund or expire
	Account   string `json:"account"` // tenant, or tenant/app
	Amount    string `json:"amount"`  // a decimal in the currency's units, e.g. "100.00"; negative for refund and expire
	Currency  string `json:"currency"`
	Reference string `json:"reference"` // an invoice or ticket number
}

// adminCredit serves POST /admin/credits to finance keys: a top-up,
// adjustment, refund or expiry of a configured account, made durable in
// the journal before it is answered.
func (s *Server) adminCredit(c *gin.Context, ex *exchange) error {
	body, err := s.readJSONBody(c)
	if err != nil {
		return err
	}
	if s.ledger == nil {
		return errLedgerDown
	}
	var req creditRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return &openai.RequestError{Code: "invalid_request", Msg: "The body must be {op, account, amount, currency, reference}.", Cause: "credit body: " + err.Error()}
	}
	cr, err := s.creditOf(req, ex.caller.KeyID)
	if err != nil {
		return err
	}
	a, err := s.ledger.Credit(c.Request.Context(), cr)
	if err != nil {
		if errors.Is(err, ledger.ErrInvalid) || errors.Is(err, ledger.ErrInsufficientCredit) || errors.Is(err, ledger.ErrCurrency) {
			return &openai.RequestError{Code: "invalid_request", Msg: "The credit was refused: " + strings.TrimPrefix(err.Error(), "ledger: ") + ".", Cause: err.Error()}
		}
		return s.ledgerError(err)
	}
	ex.ans.status = http.StatusOK
	c.JSON(http.StatusOK, viewOf(a, s.billing(strings.SplitN(a.Name, "/", 2)[0])))
	return nil
}

// creditOf checks a credit request against the configuration.
func (s *Server) creditOf(req creditRequest, actor string) (audit.Credit, error) {
	if req.Op == "" {
		req.Op = audit.CreditTopUp
	}
	micros, err := ledger.ParseAmount(req.Amount)
	if err != nil {
		return audit.Credit{}, &openai.RequestError{Code: "invalid_request", Param: "amount",
			Msg: "amount is a decimal string with at most six places, e.g. \"100.00\".", Cause: "credit amount: " + err.Error()}
	}
	if !s.accountKnown(req.Account) {
		return audit.Credit{}, &openai.RequestError{Code: "unknown_account", Param: "account",
			Msg: "account names a configured tenant, or tenant/app.", Cause: "credit for an account not in the configuration"}
	}
	return audit.Credit{Op: req.Op, Account: req.Account, Micros: micros, Currency: req.Currency,
		Reference: req.Reference, Actor: actor}, nil
}

// accountKnown: name is a configured tenant, or one of its apps.
func (s *Server) accountKnown(name string) bool {
	tenant, app, _ := strings.Cut(name, "/")
	for _, t := range s.cfg.Tenants {
		if t.ID != tenant {
			continue
		}
		if app == "" {
			return true
		}
		for _, a := range t.Apps {
			if a.ID == app {
				return true
			}
		}
	}
	return false
}

// adminAccount serves GET /admin/credits?account=NAME to finance keys.
func (s *Server) adminAccount(c *gin.Context, ex *exchange) error {
	name := c.Query("account")
	if s.ledger == nil {
		return errLedgerDown
	}
	if !s.accountKnown(name) {
		return &openai.RequestError{Code: "unknown_account", Param: "account",
			Msg: "account names a configured tenant, or tenant/app.", Cause: "account query not in the configuration"}
	}
	a, err := s.ledger.Account(c.Request.Context(), name)
	if errors.Is(err, ledger.ErrNoAccount) {
		a, err = ledger.Account{Name: name}, nil
	}
	if err != nil {
		return s.ledgerError(err)
	}
	ex.ans.status = http.StatusOK
	tenant, _, _ := strings.Cut(name, "/")
	c.JSON(http.StatusOK, viewOf(a, s.billing(tenant)))
	return nil
}
