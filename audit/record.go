package audit

import "time"

// Record kinds.
const (
	KindIntent  = "intent"  // written durably before anything is forwarded
	KindOutcome = "outcome" // written when the request has ended, forwarded or not
	KindExport  = "export"  // an auditor exported records
	// KindUnauthenticated aggregates the failed authentications of one
	// source over one window (Unauthenticated), instead of a record each.
	KindUnauthenticated = "unauthenticated"
	// KindCredit changes an account's balance other than by a request's
	// charge: a top-up, an adjustment, a refund, an expiry (Credit).
	KindCredit = "credit"
	// KindOpening begins a file that continues a rotated one: the balances
	// and the period spend carried over (Opening).
	KindOpening = "opening"
)

// Record is one audit entry. It holds metadata only: there is deliberately
// no field for request or answer text.
type Record struct {
	Seq      uint64    `json:"seq"`
	Time     time.Time `json:"time"`
	Kind     string    `json:"kind"`
	Instance string    `json:"instance"`

	RequestID string `json:"request_id,omitempty"`
	// CorrelationID is the caller's own X-Request-Id, when it sent a valid
	// one (short, printable): for joining the caller's logs to this record.
	CorrelationID string `json:"correlation_id,omitempty"`
	// IntentSeq links an outcome to the intent written before forwarding.
	IntentSeq uint64 `json:"intent_seq,omitempty"`
	Tenant    string `json:"tenant,omitempty"`
	App       string `json:"app,omitempty"`
	Purpose   string `json:"purpose,omitempty"`
	KeyID     string `json:"key_id,omitempty"`
	Route     string `json:"route,omitempty"`
	Stream    bool   `json:"stream,omitempty"`
	ClientIP  string `json:"client_ip,omitempty"` // only when configured

	ModelRequested string `json:"model_requested,omitempty"`
	ModelServed    string `json:"model_served,omitempty"`
	Endpoint       string `json:"endpoint,omitempty"`
	Provider       string `json:"provider,omitempty"`
	Region         string `json:"region,omitempty"`

	PolicyRevision string    `json:"policy_revision,omitempty"`
	Decision       *Decision `json:"decision,omitempty"`

	// PII maps a data class to how many were found and the action taken.
	PII map[string]PIIAction `json:"pii,omitempty"`

	Tokens *Tokens `json:"tokens,omitempty"`
	// Cost is what the request cost and which account paid (outcomes).
	Cost *Cost `json:"cost,omitempty"`
	// BalanceAfter is the charged (or credited) account's balance after
	// this record's change: the record's line in the credit journal,
	// written by the ledger in the commit that writes the record.
	BalanceAfter *int64    `json:"balance_after,omitempty"`
	LatencyMS    int64     `json:"latency_ms,omitempty"`
	Status       int       `json:"status,omitempty"`
	ErrorCode    string    `json:"error_code,omitempty"`
	Attempts     []Attempt `json:"attempts,omitempty"`

	// Export describes an auditor's export (KindExport).
	Export *ExportInfo `json:"export,omitempty"`

	// Unauthenticated counts failed authentications (KindUnauthenticated).
	Unauthenticated *Unauthenticated `json:"unauthenticated,omitempty"`

	// Credit is a balance change (KindCredit).
	Credit *Credit `json:"credit,omitempty"`
	// Opening is what a continued file starts from (KindOpening).
	Opening *Opening `json:"opening,omitempty"`
}

// Cost is what one request cost, in integer micro-units (millionths) of
// Currency: never a float.
type Cost struct {
	Micros       int64  `json:"micros"`
	Currency     string `json:"currency"`
	PriceVersion string `json:"price_version,omitempty"`
	// Estimated marks a cost computed from estimated token counts.
	Estimated bool `json:"estimated,omitempty"`
	// Account is the account charged ("tenant" or "tenant/app"); "" when
	// the request was costed but not charged.
	Account string `json:"account,omitempty"`
}

// Credit operations.
const (
	CreditTopUp  = "topup"  // prepaid credit bought (positive)
	CreditAdjust = "adjust" // a correction (either sign)
	CreditRefund = "refund" // unused credit paid back (negative)
	CreditExpire = "expire" // credit that lapsed (negative)
)

// Credit is one change to an account's balance other than a charge.
type Credit struct {
	Op       string `json:"op"`
	Account  string `json:"account"`
	Micros   int64  `json:"micros"` // signed change to the balance
	Currency string `json:"currency"`
	// Reference names the business document (an invoice or ticket
	// number); Actor who made the change. Both are identifiers, never
	// free text.
	Reference string `json:"reference,omitempty"`
	Actor     string `json:"actor,omitempty"`
}

// Opening is the state a file continuing a rotated one starts from.
type Opening struct {
	Balances []Balance `json:"balances,omitempty"`
	Spend    []Spend   `json:"spend,omitempty"`
}

// Balance is one account's balance.
type Balance struct {
	Account  string `json:"account"`
	Currency string `json:"currency"`
	Micros   int64  `json:"micros"`
}

// Spend is what one scope spent in one calendar period.
type Spend struct {
	Scope  string `json:"scope"`  // "tenant:T", "app:T/A" or "key:K"
	Period string `json:"period"` // "2026-11-30" (UTC day) or "2026-11" (UTC month)
	Micros int64  `json:"micros"`
	Tokens int64  `json:"tokens"`
}

// Unauthenticated is one source's failed authentications over one window.
// It holds no key material and no path: only the route templates the
// requests matched and the error codes answered.
type Unauthenticated struct {
	Source      string           `json:"source"` // client address or network, as the gateway keys it
	WindowStart time.Time        `json:"window_start"`
	WindowSecs  int64            `json:"window_seconds"`
	Count       int64            `json:"count"`
	Codes       map[string]int64 `json:"codes,omitempty"`  // error code → count
	Routes      map[string]int64 `json:"routes,omitempty"` // route template → count
}

// Decision is the policy outcome as recorded: codes, never messages.
type Decision struct {
	Allow  bool     `json:"allow"`
	Codes  []string `json:"codes,omitempty"`
	DryRun bool     `json:"dry_run,omitempty"`
}

// PIIAction is what was found of one data class and what was done.
type PIIAction struct {
	Count  int    `json:"count"`
	Action string `json:"action"`
}

// Tokens are the token counts of a request.
type Tokens struct {
	Prompt     int64 `json:"prompt"`
	Completion int64 `json:"completion"`
	Cached     int64 `json:"cached,omitempty"`
	// Estimated marks counts Custos estimated because the provider gave none.
	Estimated bool `json:"estimated,omitempty"`
}

// Attempt is one try at an endpoint.
type Attempt struct {
	Endpoint  string `json:"endpoint"`
	Status    int    `json:"status,omitempty"`
	ErrorCode string `json:"error_code,omitempty"`
	LatencyMS int64  `json:"latency_ms"`
}

// ExportInfo records who exported what.
type ExportInfo struct {
	Auditor string `json:"auditor"`
	From    string `json:"from,omitempty"`
	To      string `json:"to,omitempty"`
	Tenant  string `json:"tenant,omitempty"`
	Format  string `json:"format"`
}

func (r *Record) marshal() ([]byte, error) {
	v, err := r.marshalValue()
	return v[valueHeader:], err
}

// marshalValue returns the record's stored value with its JSON in place:
// valueHeader bytes left for the two hashes the commit writes in front
// (see putRecords), so that the commit stores the bytes without a copy.
func (r *Record) marshalValue() ([]byte, error) {
	v, err := appendRecord(make([]byte, valueHeader, valueHeader+768), r)
	if err != nil {
		return make([]byte, valueHeader), err
	}
	return v, nil
}

// valueHeader is the stored value's head: the previous record's hash and
// this one's.
const valueHeader = 64
