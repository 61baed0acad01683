package gateway

import (
	"context"
	"errors"
	"slices"

	"github.com/custos-gateway/custos/policy"
)

// decide asks the policy whether and where the request may go. A deny, or
// any failure to decide, ends the request. A dry-run tenant's deny of an
// access rule (model, purpose, budget) is recorded and the request
// proceeds; a deny that protects the data itself (residency, blocked or
// uninspectable data) is enforced in dry-run too.
func (s *Server) decide(ctx context.Context, ex *exchange) (decision, error) {
	d, err := s.decider.Decide(ctx, s.policyInput(ex, ex.req.model))
	var denied *policy.DeniedError
	out := decision{Decision: d, decided: err == nil || errors.As(err, &denied)}
	if denied != nil && d.DryRun && !slices.ContainsFunc(d.Codes(), enforcedInDryRun) {
		out.dryRunDenied = d.Codes()
		return out, nil
	}
	return out, err
}

// enforcedInDryRun: deny codes dry-run never relaxes, because relaxing them
// would send data where, or in a form, the policy forbids.
func enforcedInDryRun(code string) bool {
	switch code {
	case "no_compliant_endpoint", "pii_blocked", "pii_action_unknown", "uninspectable_content":
		return true
	}
	return false
}

// policyInput gathers the facts the policy decides on; never request text.
func (s *Server) policyInput(ex *exchange, model string) policy.Input {
	in := policy.Input{
		RequestID: ex.meta.id,
		Tenant:    ex.caller.Tenant,
		App:       ex.caller.App,
		Purpose:   ex.caller.Purpose,
		Route:     ex.meta.route.name,
		Model:     model,
		Cost:      ex.acct.input,
	}
	if ex.insp != nil {
		in.Findings = ex.insp.findings
		in.Uninspectable = ex.insp.uninspectable
		in.EstimatedTokens = ex.insp.estimatedTokens()
	}
	if ex.req != nil {
		in.User = ex.req.user
		in.Stream = ex.req.stream
	}
	if eps := s.catalog.Serving(model); len(eps) > 0 {
		in.Candidates = make([]policy.Candidate, len(eps))
		for i, e := range eps {
			in.Candidates[i] = policy.Candidate{
				Endpoint: e.Name, Provider: e.Provider, Region: e.Region,
				Jurisdiction: e.Jurisdiction, Attributes: e.Attributes,
			}
		}
	}
	return in
}
