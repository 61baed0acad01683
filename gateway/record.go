package gateway

import (
	"time"

	"github.com/custos-gateway/custos/audit"
)

// auditRecord describes the exchange in metadata only.
func (s *Server) auditRecord(ex *exchange, kind string) audit.Record {
	r := audit.Record{
		Kind:      kind,
		RequestID: ex.meta.id, CorrelationID: ex.meta.correlationID,
		IntentSeq: ex.fwd.intentSeq,
		Tenant:    ex.caller.Tenant,
		App:       ex.caller.App,
		Purpose:   ex.caller.Purpose,
		KeyID:     ex.caller.KeyID,
		Route:     ex.meta.route.path,
		ClientIP:  ex.meta.clientIP,
		LatencyMS: time.Since(ex.meta.started).Milliseconds(),
	}
	if kind == audit.KindOutcome {
		r.Status = ex.end.status
		if ex.end.err != nil {
			r.ErrorCode = recordCode(ex.end.err)
		}
	}
	if ex.req != nil {
		r.Stream = ex.req.stream
		// The requested model is caller text; only a catalog name is kept.
		r.ModelRequested = s.catalogName(ex.req.model)
	}
	if ex.dec.decided {
		r.PolicyRevision = ex.dec.Revision.String()
		r.Decision = &audit.Decision{Allow: ex.dec.Allow, Codes: ex.dec.Codes(), DryRun: ex.dec.DryRun}
	}
	if ex.insp != nil && len(ex.insp.findings) > 0 {
		r.PII = make(map[string]audit.PIIAction, len(ex.insp.findings))
		for class, n := range ex.insp.findings {
			r.PII[class] = audit.PIIAction{Count: n, Action: string(ex.dec.Actions[class])}
		}
	}
	if ep := ex.fwd.endpoint; ep != nil {
		r.Endpoint, r.Provider, r.Region = ep.Name, ep.Provider, ep.Region
		r.ModelServed = ep.Served(ex.req.model)
		if kind == audit.KindOutcome {
			r.Attempts = ex.fwd.attempts
		}
	}
	switch u := ex.usage(); {
	case u != nil:
		r.Tokens = &audit.Tokens{Prompt: u.PromptTokens, Completion: u.CompletionTokens, Cached: u.CachedTokens(),
			Estimated: ex.ans.usage == nil}
	case ex.insp != nil && ex.fwd.endpoint != nil:
		r.Tokens = &audit.Tokens{Prompt: ex.insp.estimatedTokens(), Estimated: true}
	}
	if c := ex.acct.cost; c != nil && kind == audit.KindOutcome {
		r.Cost = &audit.Cost{Micros: c.Amount, Currency: c.Currency, PriceVersion: c.PriceVersion, Estimated: ex.acct.estimate}
	}
	return r
}
