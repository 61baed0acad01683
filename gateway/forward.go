package gateway

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/custos-gateway/custos/audit"
	"github.com/custos-gateway/custos/gateway/jsondoc"
	"github.com/custos-gateway/custos/gateway/limits"
	"github.com/custos-gateway/custos/gateway/responses"
	"github.com/custos-gateway/custos/gateway/upstream"
	"github.com/custos-gateway/custos/residency"
)

// route picks the endpoints the request may be sent to, in order: only
// those the decision allows, in dry-run too (dry-run relaxes access rules,
// never where data may go).
func (s *Server) route(ex *exchange) ([]*residency.Endpoint, error) {
	con := residency.Constraint{Endpoints: ex.dec.AllowedEndpoints}
	if con.Endpoints == nil {
		con.Endpoints = []string{}
	}
	model := ex.req.model
	cands, err := s.router.Plan(model, con)
	if err != nil {
		return nil, err
	}
	// An alias may serve another model only if the policy allows that one too.
	kept := cands[:0]
	for _, ep := range cands {
		if served := ep.Served(model); served == model || len(ex.dec.dryRunDenied) > 0 || slices.Contains(ex.dec.AllowedModels, served) {
			kept = append(kept, ep)
		}
	}
	if len(kept) == 0 {
		return nil, fmt.Errorf("endpoints serve the model only under aliases the policy does not allow: %w", residency.ErrNoCompliantEndpoint)
	}
	able := kept[:0]
	for _, ep := range kept {
		if a := s.targets[ep.Name].adapter; a.Supports(ex.req.op) || (ex.req.op == upstream.OpResponses && a.Supports(upstream.OpChat)) {
			able = append(able, ep)
		}
	}
	if len(able) == 0 {
		return nil, fmt.Errorf("%w: no allowed endpoint of the model serves this API", upstream.ErrUntranslatable)
	}
	return able, nil
}

// forward makes the intent durable, then sends the request to the first
// candidate that answers, failing over within the compliant candidates only,
// before the first byte of an answer, within a bounded number of attempts
// and time. The caller relays and closes the answer.
func (s *Server) forward(ctx context.Context, ex *exchange) (*http.Response, error) {
	if ex.req.stream && !ex.req.includeUsage && ex.req.op == upstream.OpChat {
		// Accounting needs the provider's token counts; ask for them and
		// keep the extra chunk from a caller that did not ask.
		ex.req.doc.Set("stream_options", jsondoc.NewObject(jsondoc.Member{Key: "include_usage", Value: jsondoc.NewBool(true)}))
		ex.ans.stripUsageChunk = true
	}
	// Write-ahead: nothing leaves Custos unless its intent is on disk.
	ex.stage(stageIntent)
	ex.fwd.endpoint = ex.cands[0]
	rc, err := s.audit.Append(ctx, s.auditRecord(ex, audit.KindIntent))
	if err != nil {
		return nil, err
	}
	ex.stage(stageForward)
	ex.fwd.intentSeq = rc.Seq
	deadline := ex.meta.started.Add(s.cfg.Routing.FailoverBudget.Std())
	var lastErr error
	for i, ep := range ex.cands {
		if i >= s.cfg.Routing.MaxAttempts || (i > 0 && time.Now().After(deadline)) {
			break
		}
		resp, err := s.try(ctx, ex, ep)
		if err == nil || ctx.Err() != nil || !retryable(err) {
			return resp, err
		}
		lastErr = err
	}
	return nil, lastErr
}

// try is one attempt at one endpoint, recorded, traced and reported to the
// router.
func (s *Server) try(ctx context.Context, ex *exchange, ep *residency.Endpoint) (*http.Response, error) {
	ex.fwd.endpoint = ep
	t0 := time.Now()
	ctx, span, hdr := s.tracing.startAttempt(ctx, genAIOp(ex), ep.Provider, ep.Name, ep.Region, ep.Served(ex.req.model))
	resp, err := s.attempt(ctx, ex, ep, hdr)
	att := audit.Attempt{Endpoint: ep.Name, LatencyMS: time.Since(t0).Milliseconds()}
	defer endAttemptSpan(span, &att)
	if err == nil {
		s.router.Report(ep.Name, residency.Outcome{OK: true, Latency: time.Since(t0), Throttled: s.throttled(resp, ex)})
		att.Status = resp.StatusCode
		ex.fwd.attempts = append(ex.fwd.attempts, att)
		ex.ans.firstByte = time.Since(ex.meta.started)
		return resp, nil
	}
	var st *upstream.StatusError
	retryAfter := time.Duration(0)
	if errors.As(err, &st) {
		att.Status = st.StatusCode
		retryAfter = st.RetryAfter
	} else {
		att.ErrorCode = classify(err).code
	}
	ex.fwd.attempts = append(ex.fwd.attempts, att)
	if ctx.Err() == nil && retryable(err) {
		s.router.Report(ep.Name, residency.Outcome{RetryAfter: retryAfter})
	}
	return nil, err
}

// throttled reads an answering endpoint's rate-limit headers: how long
// until it could take another request like this one, or 0 when it can now.
func (s *Server) throttled(resp *http.Response, ex *exchange) time.Duration {
	if !limits.MayThrottle(resp.Header) {
		return 0
	}
	now := s.now()
	th := limits.ParseThrottle(resp.Header.Get, now)
	if !th.Known() {
		return 0
	}
	if ok, until := th.Fits(now, estimatedTokens(ex), limits.Margin{}); !ok {
		return until.Sub(now)
	}
	return 0
}

// attempt sends the request to one endpoint, with its key; a 401 from the
// provider leads to one forced key refresh and one retry.
func (s *Server) attempt(ctx context.Context, ex *exchange, ep *residency.Endpoint, hdr http.Header) (*http.Response, error) {
	t := s.targets[ep.Name]
	call := &upstream.Call{Op: ex.req.op, Model: ep.Served(ex.req.model), Stream: ex.req.stream, RequestID: ex.meta.id, Header: hdr}
	// A Responses request goes as it is where the endpoint serves the
	// API, translated to chat where it does not.
	ex.fwd.translated = !t.adapter.Supports(ex.req.op)
	body, err := s.encodeFor(ex.req, call.Model, ex.fwd.translated)
	if err != nil {
		return nil, err
	}
	call.Body = body
	if ex.fwd.translated {
		call.Op = upstream.OpChat
	}
	if t.needsKey {
		key, err := s.keys.Key(ctx, ep.Name)
		if err != nil {
			return nil, fmt.Errorf("%w: endpoint %s: %w", errKeyUnavailable, ep.Name, err)
		}
		call.Key = key
	}
	resp, err := s.upstream.Do(ctx, &t.Target, call)
	var st *upstream.StatusError
	if errors.As(err, &st) && st.StatusCode == http.StatusUnauthorized && t.needsKey {
		// The provider refused the cached key: it may have been rotated.
		if call.Key, err = s.keys.Refresh(ctx, ep.Name); err != nil {
			return nil, fmt.Errorf("%w: endpoint %s: %w", errKeyUnavailable, ep.Name, err)
		}
		resp, err = s.upstream.Do(ctx, &t.Target, call)
	}
	return resp, err
}

// genAIOp names the request's operation for an attempt span.
func genAIOp(ex *exchange) string {
	if op := genAIOperation[ex.meta.route.name]; op != "" {
		return op
	}
	return "chat"
}

// endAttemptSpan closes an attempt's span with its result.
func endAttemptSpan(span trace.Span, att *audit.Attempt) {
	if att.Status != 0 {
		span.SetAttributes(attribute.Int("http.response.status_code", att.Status))
	}
	if att.ErrorCode != "" || att.Status >= 400 {
		span.SetAttributes(attribute.String("error.type", errorType(att)))
		span.SetStatus(codes.Error, errorType(att))
	}
	span.End()
}

func errorType(att *audit.Attempt) string {
	if att.ErrorCode != "" {
		return att.ErrorCode
	}
	return strconv.Itoa(att.Status)
}

// encodeFor encodes the (redacted) tree with the model the endpoint serves,
// translated from the Responses API to chat when asked: the bytes that
// leave are always encoded from the tree that was inspected.
func (s *Server) encodeFor(req *modelRequest, model string, toChat bool) ([]byte, error) {
	if m, ok := req.doc.Get("model").Text(); !ok || m != model {
		req.doc.Set("model", jsondoc.NewString(model))
	}
	body := jsondoc.Encode(req.doc)
	if !toChat {
		return body, nil
	}
	return responses.ToChat(body)
}

// retryable: failures another compliant endpoint may not have.
func retryable(err error) bool {
	var st *upstream.StatusError
	switch {
	case errors.As(err, &st):
		return st.StatusCode == http.StatusTooManyRequests || st.StatusCode >= 500
	case errors.Is(err, upstream.ErrUnreachable), errors.Is(err, upstream.ErrTimeout), errors.Is(err, errKeyUnavailable):
		return true
	}
	return false
}
