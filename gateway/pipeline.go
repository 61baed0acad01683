package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/custos-gateway/custos/audit"
	"github.com/custos-gateway/custos/gateway/anthropic"
	"github.com/custos-gateway/custos/gateway/auth"
	"github.com/custos-gateway/custos/gateway/config"
	"github.com/custos-gateway/custos/gateway/gemini"
	"github.com/custos-gateway/custos/gateway/openai"
	"github.com/custos-gateway/custos/gateway/upstream"
	"github.com/custos-gateway/custos/policy"
	"github.com/custos-gateway/custos/redact"
	"github.com/custos-gateway/custos/residency"
)

// exchange is one request's journey through the pipeline. It holds metadata
// and the parsed request; only the forward stage sends the body anywhere.
type exchange struct {
	dialect  dialect
	embed    *embedRequest // set for /v1/embeddings
	id       string
	route    string
	started  time.Time
	caller   auth.Caller
	clientIP string // only when configured
	req      *openai.ChatRequest

	// stripUsageChunk: Custos asked the provider for stream usage the caller
	// did not ask for, so the usage-only chunk is not relayed.
	stripUsageChunk bool

	findings      map[string]int // data class → count, from inspect
	plan          *redact.ChatPlan
	session       *redact.Session // the request's pseudonyms, when any were issued
	uninspectable int
	decision      policy.Decision
	decided       bool
	dryRunDenied  []string // codes a dry-run tenant's policy would have denied with

	intentSeq       uint64
	outcomeRecorded bool

	candidates []*residency.Endpoint
	endpoint   *residency.Endpoint
	usage      *openai.Usage
	attempts   []audit.Attempt
	firstByte  time.Duration
	stages     []string // stages that ran, in order, for the log line

	status int
	err    error
}

// Stage names, in pipeline order.
const (
	stageAuthenticate = "authenticate"
	stageInspect      = "inspect"
	stageDecide       = "decide"
	stageRedact       = "redact"
	stageRoute        = "route"
	stageForward      = "forward"
	stageAccount      = "account"
)

func (s *Server) newExchange(c *gin.Context) *exchange {
	return &exchange{id: c.GetString(requestIDKey), route: c.FullPath(), started: time.Now()}
}

// authenticate resolves the caller from its Custos key, which must carry role.
func (s *Server) authenticate(c *gin.Context, ex *exchange, role string) error {
	ex.stages = append(ex.stages, stageAuthenticate)
	caller, err := s.keyring.Authenticate(presentedKey(c.Request))
	if err != nil {
		return err
	}
	ex.caller = caller
	if caller.Role != role {
		return errWrongRole
	}
	if s.cfg.Audit.RecordClientIP {
		ex.clientIP = c.ClientIP()
	}
	return nil
}

// presentedKey reads "Authorization: Bearer <key>" or "x-api-key: <key>".
func presentedKey(r *http.Request) string {
	if h := r.Header.Get("Authorization"); h != "" {
		if scheme, rest, ok := strings.Cut(h, " "); ok && strings.EqualFold(scheme, "Bearer") {
			return strings.TrimSpace(rest)
		}
		return ""
	}
	return strings.TrimSpace(r.Header.Get("x-api-key"))
}

// readJSONBody reads the size-limited body of a JSON request.
func (s *Server) readJSONBody(c *gin.Context) ([]byte, error) {
	if ct := c.GetHeader("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			return nil, errUnsupportedMedia
		}
	}
	limit := s.cfg.Limits.MaxBodyBytes
	if c.Request.ContentLength > limit {
		return nil, errBodyTooLarge
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, limit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, errBodyTooLarge
		}
		return nil, errBodyUnreadable
	}
	return body, nil
}

// inspect finds personal data in every user-controlled field of the
// messages; the policy sees the data classes and counts, never the values.
func (s *Server) inspect(ex *exchange) error {
	ex.stages = append(ex.stages, stageInspect)
	plan, err := s.scanner.InspectChat(ex.req.Raw["messages"])
	if err != nil {
		return &openai.RequestError{Code: "invalid_messages", Param: "messages", Msg: "messages could not be inspected"}
	}
	ex.plan = plan
	ex.uninspectable = plan.Uninspectable
	counts := plan.Counts()
	if len(counts) > 0 {
		ex.findings = make(map[string]int, len(counts))
		for t, n := range counts {
			ex.findings[string(t)] = n
		}
	}
	return nil
}

// decide asks the policy whether and where the request may go. A deny, or
// any failure to decide, ends the request; a dry-run tenant's deny is
// recorded and the request proceeds.
func (s *Server) decide(ctx context.Context, ex *exchange) error {
	ex.stages = append(ex.stages, stageDecide)
	d, err := s.decider.Decide(ctx, s.policyInput(ex, ex.req.Model))
	ex.decision = d
	var denied *policy.DeniedError
	ex.decided = err == nil || errors.As(err, &denied)
	if denied != nil && d.DryRun {
		ex.dryRunDenied = d.Codes()
		return nil
	}
	return err
}

// policyInput gathers the facts the policy decides on; never request text.
func (s *Server) policyInput(ex *exchange, model string) policy.Input {
	in := policy.Input{
		RequestID:     ex.id,
		Tenant:        ex.caller.Tenant,
		App:           ex.caller.App,
		Purpose:       ex.caller.Purpose,
		Route:         ex.policyRoute(),
		Model:         model,
		Findings:      ex.findings,
		Uninspectable: ex.uninspectable,
	}
	if ex.req != nil {
		in.User = ex.req.User
		in.Stream = ex.req.Stream
		in.EstimatedTokens = estimateTokens(ex.req)
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

// estimateTokens gives a rough prompt size (about four bytes a token) for
// budgets before the provider's own count is known.
func estimateTokens(r *openai.ChatRequest) int64 {
	n := 0
	for i := range r.Messages {
		n += len(r.Messages[i].Content) + len(r.Messages[i].Name) + 4
	}
	return int64((n + 3) / 4)
}

// redact applies the decision's per-data-class actions to the messages, so
// that the provider never sees what the policy hides. In dry-run a class the
// policy would block is pseudonymized, never sent in clear.
func (s *Server) redact(ex *exchange) error {
	ex.stages = append(ex.stages, stageRedact)
	actions := make(map[redact.Type]redact.Action, len(ex.decision.Actions))
	for class, a := range ex.decision.Actions {
		act := redact.Action(a)
		if act == redact.Block && ex.decision.DryRun {
			act = redact.Pseudonymize
		}
		actions[redact.Type(class)] = act
	}
	if ex.plan == nil || !ex.plan.Changed(actions) {
		return nil
	}
	sess := redact.NewSession(s.hashKey)
	msgs, err := ex.plan.Apply(sess, actions)
	if err != nil {
		return err
	}
	if err := ex.req.Set("messages", json.RawMessage(msgs)); err != nil {
		return err
	}
	ex.session = sess
	return nil
}

// route picks the endpoints the request may be sent to, in order.
func (s *Server) route(ex *exchange) error {
	ex.stages = append(ex.stages, stageRoute)
	con := residency.Constraint{}
	if len(ex.dryRunDenied) == 0 {
		// An allowed decision bounds where the request may go. A dry-run
		// deny is not enforced: the request proceeds as without the policy.
		con.Endpoints = ex.decision.AllowedEndpoints
		if con.Endpoints == nil {
			con.Endpoints = []string{}
		}
	}
	cands, err := s.router.Plan(ex.req.Model, con)
	if err != nil {
		return err
	}
	// An alias may serve another model only if the policy allows that one too.
	kept := cands[:0]
	for _, ep := range cands {
		if served := ep.Served(ex.req.Model); served == ex.req.Model || len(ex.dryRunDenied) > 0 || slices.Contains(ex.decision.AllowedModels, served) {
			kept = append(kept, ep)
		}
	}
	if len(kept) == 0 {
		return fmt.Errorf("endpoints serve the model only under aliases the policy does not allow: %w", residency.ErrNoCompliantEndpoint)
	}
	ex.candidates = kept
	return nil
}

// forward sends the request to the first candidate and returns its answer.
// The caller relays and closes it.
func (s *Server) forward(c *gin.Context, ex *exchange) (*http.Response, error) {
	ex.stages = append(ex.stages, stageForward)
	if ex.req.Stream && !ex.req.IncludeUsage {
		// Accounting needs the provider's token counts; ask for them and keep
		// the extra chunk from a caller that did not ask.
		if err := ex.req.Set("stream_options", map[string]bool{"include_usage": true}); err != nil {
			return nil, err
		}
		ex.stripUsageChunk = true
	}
	body, err := ex.req.Body()
	if err != nil {
		return nil, err
	}
	if ex.embed != nil {
		if body, err = ex.embed.body(ex.req); err != nil {
			return nil, err
		}
	}
	ctx := c.Request.Context()
	// Write-ahead: nothing leaves Custos unless its intent is on disk.
	ex.endpoint = ex.candidates[0]
	rc, err := s.audit.Append(ctx, s.auditRecord(ex, audit.KindIntent))
	if err != nil {
		return nil, err
	}
	ex.intentSeq = rc.Seq

	// Fail over within the compliant candidates only, before the first
	// byte of an answer; a bounded number of attempts and total time.
	deadline := ex.started.Add(s.cfg.Routing.FailoverBudget.Std())
	var lastErr error
	for i, ep := range ex.candidates {
		if i >= s.cfg.Routing.MaxAttempts || (i > 0 && time.Now().After(deadline)) {
			break
		}
		ex.endpoint = ep
		t0 := time.Now()
		resp, err := s.attempt(ctx, ex, ep, body)
		att := audit.Attempt{Endpoint: ep.Name, LatencyMS: time.Since(t0).Milliseconds()}
		if err == nil {
			s.router.Report(ep.Name, residency.Outcome{OK: true, Latency: time.Since(t0)})
			att.Status = resp.StatusCode
			ex.attempts = append(ex.attempts, att)
			ex.firstByte = time.Since(ex.started)
			return resp, nil
		}
		if ctx.Err() != nil {
			return nil, err // the caller went away: no failover
		}
		var st *upstream.StatusError
		retryAfter := time.Duration(0)
		if errors.As(err, &st) {
			att.Status = st.StatusCode
			retryAfter = st.RetryAfter
		} else {
			att.ErrorCode = classify(err).code
		}
		ex.attempts = append(ex.attempts, att)
		lastErr = err
		if !retryable(err) {
			return nil, err
		}
		s.router.Report(ep.Name, residency.Outcome{RetryAfter: retryAfter})
	}
	return nil, lastErr
}

// attempt sends the request to one endpoint, with its key; a 401 from the
// provider leads to one forced key refresh and one retry.
func (s *Server) attempt(ctx context.Context, ex *exchange, ep *residency.Endpoint, body []byte) (*http.Response, error) {
	var key string
	var err error
	if !ep.Keyless {
		if key, err = s.keys.Key(ctx, ep.Name); err != nil {
			return nil, fmt.Errorf("%w: endpoint %s: %w", errKeyUnavailable, ep.Name, err)
		}
	}
	path := "/chat/completions"
	if ex.embed != nil {
		path = "/embeddings"
		if !config.OpenAICompatible(ep.Kind) && ep.Kind != config.KindAzure {
			return nil, fmt.Errorf("%w: %s has no embeddings API", errUntranslatable, ep.Kind)
		}
	} else if ep.Kind == config.KindGemini {
		if body, err = gemini.FromOpenAI(body); err != nil {
			return nil, fmt.Errorf("%w: %w", errUntranslatable, err)
		}
	} else if ep.Kind == config.KindAnthropic {
		if body, err = anthropic.FromOpenAI(body); err != nil {
			return nil, fmt.Errorf("%w: %w", errUntranslatable, err)
		}
		path = "/messages"
	}
	model := ep.Served(ex.req.Model)
	if model != ex.req.Model && ep.Kind != config.KindGemini && ep.Kind != config.KindAzure {
		if body, err = withModel(body, model); err != nil {
			return nil, err
		}
	}
	call := upstream.Request{Endpoint: ep, Path: path, Body: body, Key: key, RequestID: ex.id, Stream: ex.req.Stream, Model: model}
	resp, err := s.upstream.Do(ctx, call)
	var st *upstream.StatusError
	if errors.As(err, &st) && st.StatusCode == http.StatusUnauthorized && !ep.Keyless {
		// The provider refused the cached key: it may have been rotated.
		if call.Key, err = s.keys.Refresh(ctx, ep.Name); err != nil {
			return nil, fmt.Errorf("%w: endpoint %s: %w", errKeyUnavailable, ep.Name, err)
		}
		resp, err = s.upstream.Do(ctx, call)
	}
	return resp, err
}

// withModel replaces the model field of a JSON body, keeping the rest.
func withModel(body []byte, model string) ([]byte, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, err
	}
	m["model"], _ = json.Marshal(model)
	return json.Marshal(m)
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

// recordOutcome makes the request's outcome durable, once. It runs before
// the last byte of an answer or error is sent, so that every response a
// client saw complete has its record.
func (s *Server) recordOutcome(ctx context.Context, ex *exchange) error {
	if ex.outcomeRecorded {
		return nil
	}
	ex.outcomeRecorded = true
	_, err := s.audit.Append(ctx, s.auditRecord(ex, audit.KindOutcome))
	return err
}

// auditRecord describes the exchange in metadata only.
func (s *Server) auditRecord(ex *exchange, kind string) audit.Record {
	r := audit.Record{
		Kind:      kind,
		RequestID: ex.id,
		IntentSeq: ex.intentSeq,
		Tenant:    ex.caller.Tenant,
		App:       ex.caller.App,
		Purpose:   ex.caller.Purpose,
		KeyID:     ex.caller.KeyID,
		Route:     ex.route,
		ClientIP:  ex.clientIP,
		LatencyMS: time.Since(ex.started).Milliseconds(),
	}
	if kind == audit.KindOutcome {
		r.Status = ex.status
		if ex.err != nil {
			r.ErrorCode = classify(ex.err).code
		}
	}
	if ex.req != nil {
		r.Stream = ex.req.Stream
		// The requested model is caller text; only a catalog name is kept.
		r.ModelRequested = "(not in catalog)"
		if s.catalog.Known(ex.req.Model) {
			r.ModelRequested = ex.req.Model
		}
	}
	if ex.decided {
		r.PolicyRevision = ex.decision.Revision.String()
		r.Decision = &audit.Decision{Allow: ex.decision.Allow, Codes: ex.decision.Codes(), DryRun: ex.decision.DryRun}
	}
	if len(ex.findings) > 0 {
		r.PII = make(map[string]audit.PIIAction, len(ex.findings))
		for class, n := range ex.findings {
			r.PII[class] = audit.PIIAction{Count: n, Action: string(ex.decision.Actions[class])}
		}
	}
	if ep := ex.endpoint; ep != nil {
		r.Endpoint, r.Provider, r.Region = ep.Name, ep.Provider, ep.Region
		r.ModelServed = ep.Served(ex.req.Model)
		if kind == audit.KindOutcome {
			r.Attempts = ex.attempts
		}
	}
	switch {
	case ex.usage != nil:
		r.Tokens = &audit.Tokens{Prompt: ex.usage.PromptTokens, Completion: ex.usage.CompletionTokens, Cached: ex.usage.CachedTokens()}
	case ex.req != nil && ex.endpoint != nil:
		r.Tokens = &audit.Tokens{Prompt: estimateTokens(ex.req), Estimated: true}
	}
	return r
}

// account closes the exchange: the outcome record if no earlier point wrote
// it (a client that went away), and one metadata-only log line.
func (s *Server) account(ex *exchange) {
	ex.stages = append(ex.stages, stageAccount)
	if !ex.outcomeRecorded && ex.caller.Role != auth.RoleAuditor {
		if err := s.recordOutcome(context.Background(), ex); err != nil {
			s.log.Error("audit outcome not recorded", "request_id", ex.id, "error", err.Error())
		}
	}
	attrs := []slog.Attr{
		slog.String("request_id", ex.id),
		slog.String("route", ex.route),
		slog.Int("status", ex.status),
		slog.Duration("latency", time.Since(ex.started)),
		slog.Any("stages", ex.stages),
	}
	if ex.caller.Tenant != "" {
		attrs = append(attrs, slog.String("tenant", ex.caller.Tenant), slog.String("app", ex.caller.App),
			slog.String("key_id", ex.caller.KeyID))
	}
	if ex.req != nil {
		// The model name is caller text; only a catalog name is logged.
		model := "(not in catalog)"
		if s.catalog.Known(ex.req.Model) {
			model = ex.req.Model
		}
		attrs = append(attrs, slog.String("model", model), slog.Bool("stream", ex.req.Stream))
	}
	if ex.endpoint != nil {
		attrs = append(attrs, slog.String("endpoint", ex.endpoint.Name), slog.String("region", ex.endpoint.Region),
			slog.Duration("first_byte", ex.firstByte))
	}
	if ex.decided {
		attrs = append(attrs, slog.String("policy_revision", ex.decision.Revision.String()))
		if ex.decision.DryRun {
			attrs = append(attrs, slog.Bool("dry_run", true))
		}
		if len(ex.dryRunDenied) > 0 {
			attrs = append(attrs, slog.Any("dry_run_deny", ex.dryRunDenied))
		}
	}
	if len(ex.findings) > 0 {
		attrs = append(attrs, slog.Any("pii", ex.findings))
	}
	if ex.usage != nil {
		attrs = append(attrs, slog.Int64("prompt_tokens", ex.usage.PromptTokens),
			slog.Int64("completion_tokens", ex.usage.CompletionTokens))
	}
	level := slog.LevelInfo
	if ex.err != nil {
		e := classify(ex.err)
		attrs = append(attrs, slog.String("code", e.code), slog.String("cause", ex.err.Error()))
		if e.status >= 500 {
			level = slog.LevelWarn
		}
	}
	s.log.LogAttrs(context.Background(), level, "request", attrs...)
}
