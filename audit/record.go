package audit

import (
	"encoding/json"
	"time"
)

// Record kinds.
const (
	KindIntent  = "intent"  // written durably before anything is forwarded
	KindOutcome = "outcome" // written when the request has ended, forwarded or not
	KindExport  = "export"  // an auditor exported records
	// KindUnauthenticated aggregates the failed authentications of one
	// source over one window (Unauthenticated), instead of a record each.
	KindUnauthenticated = "unauthenticated"
)

// Record is one audit entry. It holds metadata only: there is deliberately
// no field for request or answer text.
type Record struct {
	Seq      uint64    `json:"seq"`
	Time     time.Time `json:"time"`
	Kind     string    `json:"kind"`
	Instance string    `json:"instance"`

	RequestID string `json:"request_id,omitempty"`
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

	Tokens    *Tokens   `json:"tokens,omitempty"`
	CostUSD   *float64  `json:"cost_usd,omitempty"`
	LatencyMS int64     `json:"latency_ms,omitempty"`
	Status    int       `json:"status,omitempty"`
	ErrorCode string    `json:"error_code,omitempty"`
	Attempts  []Attempt `json:"attempts,omitempty"`

	// Export describes an auditor's export (KindExport).
	Export *ExportInfo `json:"export,omitempty"`

	// Unauthenticated counts failed authentications (KindUnauthenticated).
	Unauthenticated *Unauthenticated `json:"unauthenticated,omitempty"`
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

func (r *Record) marshal() ([]byte, error) { return json.Marshal(r) }
