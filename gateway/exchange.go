package gateway

import (
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/custos-gateway/custos/audit"
	"github.com/custos-gateway/custos/gateway/auth"
	"github.com/custos-gateway/custos/gateway/openai"
	"github.com/custos-gateway/custos/policy"
	"github.com/custos-gateway/custos/redact"
	"github.com/custos-gateway/custos/residency"
)

// exchange is one request's record as it goes through the spine: metadata
// and stage results, never request text. Each part is written by one stage,
// in pipeline order, and read by the later ones and by the outcome record:
//
//	meta      the spine, when the request arrives (never changed)
//	caller    authenticate
//	req       parse
//	insp      inspect
//	dec       decide
//	sess      redact
//	acct      estimate, reserve (what it may cost and what is held), then
//	          price and settle at the outcome
//	cands     route
//	fwd       forward (endpoint, attempts, intent record)
//	ans       relay (status, usage, first byte)
//	end       the spine, when the handler returns (error, outcome record)
type exchange struct {
	meta   exchangeMeta
	caller auth.Caller
	req    *modelRequest
	insp   *inspection
	dec    decision
	acct   metering
	sess   *redact.Session
	cands  []*residency.Endpoint
	fwd    forwarding
	ans    answer
	end    ending
}

type exchangeMeta struct {
	id            string
	correlationID string // the caller's own valid X-Request-Id, if any
	route         *route
	dialect       *dialect // the shape answers and errors are written in
	started       time.Time
	clientIP      string     // only when configured
	span          trace.Span // the request's server span (a no-op when tracing is off)
}

// decision is the decide stage's result.
type decision struct {
	policy.Decision
	decided      bool     // the policy produced a decision (allow or deny)
	dryRunDenied []string // codes a dry-run tenant's policy would have denied with
}

// forwarding is the forward stage's result.
type forwarding struct {
	intentSeq uint64
	endpoint  *residency.Endpoint
	attempts  []audit.Attempt
	// translated: a Responses API request went to the endpoint as chat, so
	// its answer is a chat completion to turn back into a response.
	translated bool
}

// answer is the relay's result.
type answer struct {
	status int
	usage  *openai.Usage // the provider's counts
	// estimated are the tokenizer's counts when the provider gave none
	// (a stream cut short, a provider that reports no usage).
	estimated *openai.Usage
	// completion holds the answer's text as relayed, in memory only, to
	// count it when the provider reports no usage.
	completion completionText
	firstByte  time.Duration
	// stripUsageChunk: Custos asked the provider for stream usage the
	// caller did not ask for, so the usage-only chunk is not relayed.
	stripUsageChunk bool
}

// ending is written by the spine and by the relay's outcome recording.
type ending struct {
	err       error
	status    int
	stages    []stageMark // in marks unless more stages ran
	marks     [16]stageMark
	names     [16]string // stageNames's, for the log line
	recorded  bool       // the outcome record was attempted (once)
	recordErr error      // its failure, if any
}

// stageMark notes when a stage began.
type stageMark struct {
	name string
	at   time.Time
}

func (ex *exchange) stage(name string) {
	ex.end.stages = append(ex.end.stages, stageMark{name: name, at: time.Now()})
}

// stageNames lists the stages that ran, in order.
func (ex *exchange) stageNames() []string {
	out := ex.end.names[:0]
	for _, m := range ex.end.stages {
		out = append(out, m.name)
	}
	return out
}

// stageTimes is the time spent in each stage: until the next began, the
// last until end.
func (ex *exchange) stageTimes(end time.Time) map[string]time.Duration {
	out := make(map[string]time.Duration, len(ex.end.stages))
	for i, m := range ex.end.stages {
		next := end
		if i+1 < len(ex.end.stages) {
			next = ex.end.stages[i+1].at
		}
		out[m.name] += next.Sub(m.at)
	}
	return out
}

// Stage names, in pipeline order.
const (
	stageAuthenticate = "authenticate"
	stageInspect      = "inspect"
	stageDecide       = "decide"
	stageRedact       = "redact"
	stageRoute        = "route"
	stageReserve      = "reserve"
	stageIntent       = "intent" // the write-ahead intent record made durable
	stageForward      = "forward"
	stageAccount      = "account"
)

// usage is the request's token counts: the provider's, else the estimate.
func (ex *exchange) usage() *openai.Usage {
	if ex.ans.usage != nil {
		return ex.ans.usage
	}
	return ex.ans.estimated
}
