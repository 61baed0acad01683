package gateway

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/custos-gateway/custos/audit"
	"github.com/custos-gateway/custos/audit/ledger"
	"github.com/custos-gateway/custos/gateway/config"
	"github.com/custos-gateway/custos/gateway/jsondoc"
	"github.com/custos-gateway/custos/gateway/limits"
	"github.com/custos-gateway/custos/gateway/openai"
	"github.com/custos-gateway/custos/policy"
	"github.com/custos-gateway/custos/policy/pricing"
	"github.com/custos-gateway/custos/residency"
)

// Ledger holds prepaid credit and budgets (the bbolt journal in the audit
// log, or a shared database).
type Ledger interface {
	Reserve(ctx context.Context, r ledger.Request) (ledger.Hold, error)
	Settle(ctx context.Context, h ledger.Hold, c ledger.Charge, outcome audit.Record) error
	Release(ctx context.Context, h ledger.Hold) error
	Credit(ctx context.Context, c audit.Credit) (ledger.Account, error)
	Account(ctx context.Context, name string) (ledger.Account, error)
	AccountFor(ctx context.Context, tenant, app string) (ledger.Account, error)
}

// PriceSource is the price table served with the policy set.
type PriceSource interface {
	Prices() (*pricing.Table, policy.Revision)
}

// Conditions of accounting, classified in errors.go.
var (
	errPriceUnavailable = errors.New("gateway: no price for the model, and the tenant pays per token")
	errLedgerDown       = errors.New("gateway: the ledger is unreachable")
)

// metering is a request's money: what it may cost at most, what is held
// for it, and what it cost.
type metering struct {
	billing  string // "prepaid", "postpaid" or "" (costed, not charged)
	table    *pricing.Table
	start    time.Time
	max      pricing.Cost      // the most the request can cost, over its endpoints
	maxErr   error             // why there is no maximum (no price)
	input    *policy.CostInput // what the policy was told
	hold     *ledger.Hold
	rate     RateReservation
	rateSt   limits.Status
	rated    bool // a rate limit applies
	cost     *pricing.Cost
	costErr  error
	estimate bool // the cost is from estimated token counts
}

// estimate prices the request's maximum before the policy decides, so that
// spend rules can read it: at the dearest endpoint serving the model (the
// hold, once the route is known, is over the allowed endpoints only).
func (s *Server) estimate(ctx context.Context, ex *exchange) {
	m := &ex.acct
	m.input = s.costInput(ctx, ex)
}

// costInput is the policy's view of the request's money.
func (s *Server) costInput(ctx context.Context, ex *exchange) *policy.CostInput {
	m := &ex.acct
	m.billing, m.start = s.billing(ex.caller.Tenant), s.now()
	if s.prices != nil {
		m.table, _ = s.prices.Prices()
	}
	m.max, m.maxErr = s.maxCost(ex, s.catalog.Serving(ex.req.model))
	if m.billing == "" || m.maxErr != nil {
		return nil
	}
	in := &policy.CostInput{EstimatedMicros: m.max.Amount, Currency: m.max.Currency, Billing: m.billing}
	if m.billing == "prepaid" && s.ledger != nil {
		if acct, err := s.ledger.AccountFor(ctx, ex.caller.Tenant, ex.caller.App); err == nil {
			in.AvailableMicros = &acct.Available
		}
	}
	return in
}

// maxCost is the most the request can cost at any of eps: its prompt
// bounded by its bytes (a token is at least a byte) and the output by
// max_tokens or the model's cap, times n.
func (s *Server) maxCost(ex *exchange, eps []*residency.Endpoint) (pricing.Cost, error) {
	m := &ex.acct
	if m.table == nil {
		return pricing.Cost{}, pricing.ErrNoPrice
	}
	req := pricing.Request{PromptTokens: ex.insp.promptBound(), MaxTokens: maxOutput(ex.req), N: choices(ex.req)}
	var best pricing.Cost
	err := error(pricing.ErrNoPrice)
	for _, ep := range eps {
		c, cerr := m.table.MaxCost(req, ep.Served(ex.req.model), ep.Name, m.start)
		if cerr != nil {
			if err != nil {
				err = cerr
			}
			continue
		}
		if err != nil || c.Amount > best.Amount {
			best, err = c, nil
		}
	}
	return best, err
}

// billing is the tenant's billing mode.
func (s *Server) billing(tenant string) string {
	for _, t := range s.cfg.Tenants {
		if t.ID == tenant {
			return t.Billing
		}
	}
	return ""
}

// reserve takes the request's allowances before anything is forwarded: its
// key's rate limit, and for a paying tenant its maximum cost from the
// ledger (prepaid credit and budgets). Nothing is held if either refuses.
func (s *Server) reserve(ctx context.Context, ex *exchange) error {
	m := &ex.acct
	if err := s.takeRate(ctx, ex); err != nil {
		return err
	}
	if m.billing == "" {
		return nil
	}
	if m.max, m.maxErr = s.maxCost(ex, ex.cands); m.maxErr != nil {
		s.releaseRate(ex)
		return fmt.Errorf("%w: %w", errPriceUnavailable, m.maxErr)
	}
	if s.ledger == nil {
		s.releaseRate(ex)
		return errLedgerDown
	}
	h, err := s.ledger.Reserve(ctx, ledger.Request{RequestID: ex.meta.id, Tenant: ex.caller.Tenant, App: ex.caller.App,
		KeyID: ex.caller.KeyID, Currency: m.max.Currency, MaxMicros: m.max.Amount, MaxTokens: maxTokens(ex)})
	if err != nil {
		s.releaseRate(ex)
		return s.ledgerError(err)
	}
	m.hold = &h
	return nil
}

// releaseRate gives back a request's rate allowance when it is refused
// before it was sent: a refused request does not count against the rate.
func (s *Server) releaseRate(ex *exchange) {
	if r := ex.acct.rate; r != nil {
		r.Settle(0)
		ex.acct.rate = nil
	}
}

// maxTokens is the most tokens the request can use, for token budgets.
func maxTokens(ex *exchange) int64 {
	out := maxOutput(ex.req)
	for _, ep := range ex.cands {
		p, err := ex.acct.table.Lookup(ep.Served(ex.req.model), ep.Name, ex.acct.start)
		if maxOutput(ex.req) <= 0 && err == nil {
			out = max(out, p.MaxOutputTokens)
		}
	}
	return ex.insp.promptBound() + out*choices(ex.req)
}

// ledgerError maps the ledger's refusals to the gateway's conditions.
func (s *Server) ledgerError(err error) error {
	var be *ledger.BudgetError
	switch {
	case errors.As(err, &be):
		return &budgetError{budget: be, retryAfter: max(be.ResetAt.Sub(s.now()), time.Second)}
	case errors.Is(err, ledger.ErrUnavailable):
		return fmt.Errorf("%w: %w", errLedgerDown, err)
	case errors.Is(err, ledger.ErrNoAccount):
		return fmt.Errorf("%w: %w", ledger.ErrInsufficientCredit, err)
	}
	return err
}

// takeRate takes one request and its estimated tokens from the key's
// per-minute allowance, once per request (failover never takes twice).
func (s *Server) takeRate(ctx context.Context, ex *exchange) error {
	lim, ok := s.rateLimits[ex.caller.Tenant+"/"+ex.caller.App]
	if !ok {
		return nil
	}
	r, st, err := s.limiter.Reserve(ctx, ex.caller.KeyID, lim, estimatedTokens(ex))
	ex.acct.rateSt, ex.acct.rated = st, true
	if err != nil {
		return &rateLimitedError{status: st, err: err}
	}
	ex.acct.rate = r
	return nil
}

// estimatedTokens is a request's token estimate for rate limits: the
// prompt estimate plus the output it asks for.
func estimatedTokens(ex *exchange) int64 {
	return ex.insp.estimatedTokens() + max(maxOutput(ex.req), 0)
}

// budgetError refuses a request that would exceed a budget, with how long
// until its period ends.
type budgetError struct {
	budget     *ledger.BudgetError
	retryAfter time.Duration
}

func (e *budgetError) Error() string { return "gateway: " + e.budget.Error() }

func (e *budgetError) Unwrap() error { return e.budget }

// scope names the budget's owner for the caller: the app or key (never
// another tenant's name: a request only meets its own budgets).
func (e *budgetError) scope() string {
	kind, name, _ := strings.Cut(e.budget.Scope, ":")
	what := map[string]string{"tenant": "the tenant", "app": "the app", "key": "the key"}[kind]
	unit := "spend"
	if e.budget.Tokens {
		unit = "tokens"
	}
	return what + " " + name + " (" + unit + ")"
}

// rateLimitedError refuses a request over its key's rate, with the state
// the x-ratelimit headers and Retry-After tell.
type rateLimitedError struct {
	status limits.Status
	err    error
}

func (e *rateLimitedError) Error() string {
	return "gateway: key over its rate limit: " + e.err.Error()
}

func (e *rateLimitedError) Unwrap() error { return e.err }

// price computes what the request cost, once it has an answer: from the
// provider's counts, or the tokenizer's when the provider gave none (marked
// estimated, and never zero for an answered request).
func (s *Server) price(ex *exchange) {
	m := &ex.acct
	if m.cost != nil || m.table == nil || ex.fwd.endpoint == nil || ex.ans.status == 0 {
		return
	}
	if ex.ans.usage == nil && ex.ans.estimated == nil {
		ex.ans.estimated = s.estimateUsage(ex)
	}
	u := ex.usage()
	if u == nil {
		return
	}
	c, err := m.table.Cost(pricingUsage(u), ex.fwd.endpoint.Served(ex.req.model), ex.fwd.endpoint.Name, m.start)
	if err != nil {
		m.costErr = err
		return
	}
	m.cost, m.estimate = &c, ex.ans.usage == nil
}

// pricingUsage splits OpenAI-form usage into the classes prices name.
func pricingUsage(u *openai.Usage) pricing.Usage {
	cached, written, reasoning := u.CachedTokens(), u.CacheWriteTokens(), u.ReasoningTokens()
	return pricing.Usage{
		Input: max(u.PromptTokens-cached-written, 0), CachedInput: cached, CacheWrite: written,
		Output: max(u.CompletionTokens-reasoning, 0), Reasoning: reasoning,
	}
}

// maxOutput is the output the request asks for at most (0: the model's cap).
func maxOutput(r *modelRequest) int64 {
	for _, f := range []string{"max_completion_tokens", "max_tokens", "max_output_tokens"} {
		if n, ok := count(r.doc.Get(f)); ok {
			return n
		}
	}
	return 0
}

// choices is the number of choices the request asks for.
func choices(r *modelRequest) int64 {
	if n, ok := count(r.doc.Get("n")); ok && n > 0 {
		return n
	}
	return 1
}

// count reads a whole, non-negative number of at most a billion.
func count(v *jsondoc.Value) (int64, bool) {
	if v == nil || v.Kind != jsondoc.Number {
		return 0, false
	}
	n, err := strconv.ParseInt(v.Str, 10, 64)
	return n, err == nil && n >= 0 && n <= 1e9
}

// settleMoney ends the request's reservations as it ended and writes its
// outcome record: the rate allowance corrected to the tokens used; the
// credit hold settled at the cost when a provider answered (the ledger
// writes the record with the charge, in one commit), released when none
// did. A hold the ledger no longer knows (forgotten a TTL after a crash) is
// recorded uncharged and logged.
func (s *Server) settleMoney(ex *exchange, rec audit.Record) error {
	m := &ex.acct
	if m.rate != nil {
		m.rate.Settle(usedTokens(ex))
		m.rate = nil
	}
	if m.hold == nil {
		return s.audit.AppendDeferred(rec)
	}
	h := *m.hold
	m.hold = nil
	ctx, cancel := context.WithTimeout(context.Background(), outcomeTimeout)
	defer cancel()
	if m.cost == nil || ex.ans.status == 0 { // no answer: nothing to charge
		if err := s.ledger.Release(ctx, h); err != nil {
			s.log.Warn("ledger hold not released", "request_id", ex.meta.id, "error", err.Error())
		}
		return s.audit.AppendDeferred(rec)
	}
	c := ledger.Charge{Micros: m.cost.Amount, Currency: m.cost.Currency, PriceVersion: m.cost.PriceVersion,
		Estimated: m.estimate, Tokens: usedTokens(ex)}
	err := s.ledger.Settle(ctx, h, c, rec)
	if err != nil && outcomeRecorded(err) {
		// Recorded, and charged later (a shared ledger that did not answer
		// queues the charge) or not at all (a hold the ledger forgot).
		s.log.Warn("request recorded, not charged now", "request_id", ex.meta.id, "error", err.Error())
		return nil
	}
	return err
}

// outcomeRecorded reports whether a settlement that failed still wrote its
// outcome record: no audit error, and a ledger that could not charge now
// (unreachable: queued for retry) or at all (unknown hold, other currency).
func outcomeRecorded(err error) bool {
	if errors.Is(err, audit.ErrUnavailable) || errors.Is(err, audit.ErrClosed) || errors.Is(err, audit.ErrInvalid) {
		return false
	}
	return errors.Is(err, ledger.ErrUnavailable) || errors.Is(err, ledger.ErrUnknownHold) || errors.Is(err, ledger.ErrCurrency)
}

// usedTokens is what the request used, prompt and completion.
func usedTokens(ex *exchange) int64 {
	if u := ex.usage(); u != nil {
		return u.PromptTokens + u.CompletionTokens
	}
	return 0
}

// checkAccounting fills the accounting wiring's defaults and refuses a
// configuration that bills a tenant with no ledger to bill it in.
func checkAccounting(cfg *config.Config, opts *Options) error {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.RateLimiter == nil {
		opts.RateLimiter = localLimiter{limits.New(limits.Options{Now: opts.Now})}
	}
	if opts.Prices == nil {
		if p, ok := opts.Decider.(PriceSource); ok {
			opts.Prices = p
		}
	}
	for _, t := range cfg.Tenants {
		if t.Billing != "" && opts.Ledger == nil {
			return fmt.Errorf("gateway: tenant %s is billed (%s), but no ledger is wired", t.ID, t.Billing)
		}
	}
	return nil
}

// rateLimits are the configured per-key allowances, by tenant/app.
func rateLimits(cfg *config.Config) map[string]limits.Limit {
	out := map[string]limits.Limit{}
	for _, t := range cfg.Tenants {
		for _, a := range t.Apps {
			if r := a.RateLimit; r != nil && (r.RequestsPerMinute > 0 || r.TokensPerMinute > 0) {
				out[t.ID+"/"+a.ID] = limits.Limit{RequestsPerMinute: r.RequestsPerMinute, TokensPerMinute: r.TokensPerMinute}
			}
		}
	}
	return out
}

// LedgerOptions are the ledger settings a configuration names: the hold
// TTL, the budgets by scope, and the postpaid tenants.
func LedgerOptions(cfg *config.Config) ledger.Options {
	opts := ledger.Options{HoldTTL: cfg.Accounting.HoldTTL.Std()}
	for _, b := range cfg.Accounting.Budgets {
		scope := ledger.ScopeKey(b.Key)
		switch {
		case b.App != "":
			scope = ledger.ScopeApp(b.Tenant, b.App)
		case b.Tenant != "":
			scope = ledger.ScopeTenant(b.Tenant)
		}
		opts.Budgets = append(opts.Budgets, ledger.Budget{Scope: scope, Period: b.Period,
			MaxMicros: b.MaxMicros, MaxTokens: b.MaxTokens, Currency: b.Currency})
	}
	for _, t := range cfg.Tenants {
		if t.Billing == "postpaid" {
			opts.Postpaid = append(opts.Postpaid, t.ID)
		}
	}
	return opts
}

// costHeaders tell the caller what the request cost, before the answer:
// x-custos-cost as an exact decimal and its currency ("0.000123 USD"),
// x-custos-cost-estimated when the counts were the tokenizer's.
func (ex *exchange) costHeaders(h http.Header) {
	c := ex.acct.cost
	if c == nil {
		return
	}
	var b [40]byte
	h["X-Custos-Cost"] = []string{string(append(append(ledger.AppendAmount(b[:0], c.Amount), ' '), c.Currency...))}
	if ex.acct.estimate {
		h.Set("x-custos-cost-estimated", "true")
	}
}

// rateHeaders are the x-ratelimit-* headers of the caller's key, on every
// answer of a rate-limited app (Retry-After too when it was refused).
func (ex *exchange) rateHeaders(h http.Header) {
	if ex.acct.rated {
		ex.acct.rateSt.Headers(h.Set)
	}
}

// withCost adds the cost to an answer's usage object (usage.cost, in the
// currency's units, as OpenRouter reports it) when it has one: spliced into
// the bytes, nothing else decoded or re-encoded; a cost the provider put
// there (OpenRouter's, in its own credits) is replaced by Custos's.
func (ex *exchange) withCost(body []byte) []byte {
	head, insert, tail := ex.costSplice(body)
	if insert == nil {
		return body
	}
	out := make([]byte, 0, len(head)+len(insert)+len(tail))
	return append(append(append(out, head...), insert...), tail...)
}

// costSplice is withCost without the copy: the answer is head, insert,
// tail (insert nil, head the body, when it gets no cost).
func (ex *exchange) costSplice(body []byte) (head, insert, tail []byte) {
	c := ex.acct.cost
	if c == nil || !bytes.Contains(body, []byte(`"usage"`)) {
		return body, nil, nil
	}
	start, end, found, err := jsondoc.Find(body, "usage")
	if err != nil || !found || body[start] != '{' {
		return body, nil, nil
	}
	usage := body[start:end]
	amount := ledger.AppendAmount(make([]byte, 0, 48), c.Amount)
	if ex.acct.estimate {
		amount = append(amount, `,"cost_estimated":true`...)
	}
	if cs, ce, has, err := jsondoc.Find(usage, "cost"); err != nil {
		return body, nil, nil
	} else if has {
		return body[:start+cs], amount, body[start+ce:]
	}
	member := `,"cost":`
	if len(bytes.TrimSpace(usage[1:len(usage)-1])) == 0 {
		member = `"cost":`
	}
	return body[:end-1], append([]byte(member), amount...), body[end-1:]
}
