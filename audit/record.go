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

	Tokens    *Tokens   `json:"tokens,omitempty"`
	CostUSD   *float64  `json:"cost_usd,omitempty"`
	LatencyMS int64     `json:"latency_ms,omitempty"`
	Status    int       `json:"status,omitempty"`
	ErrorCode string    `json:"error_code,omitempty"`
	Attempts  []Attempt `json:"attempts,omitempty"`

	// Export describes an auditor's export (KindExport).
	Export *ExportInfo `json:"export,omitempty"`
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
