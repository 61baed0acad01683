package gateway

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/custos-gateway/custos/gateway/auth"
	"github.com/custos-gateway/custos/gateway/openai"
	"github.com/custos-gateway/custos/gateway/upstream"
	"github.com/custos-gateway/custos/policy"
	"github.com/custos-gateway/custos/residency"
)

// exchange is one request's journey through the pipeline. It holds metadata
// and the parsed request; only the forward stage sends the body anywhere.
type exchange struct {
	id      string
	route   string
	started time.Time
	caller  auth.Caller
	req     *openai.ChatRequest

	// stripUsageChunk: Custos asked the provider for stream usage the caller
	// did not ask for, so the usage-only chunk is not relayed.
	stripUsageChunk bool

	findings      map[string]int // data class → count, from inspect
	uninspectable int
	decision      policy.Decision
	decided       bool
	dryRunDenied  []string // codes a dry-run tenant's policy would have denied with

	candidates []*residency.Endpoint
	endpoint   *residency.Endpoint
	usage      *openai.Usage
	firstByte  time.Duration
	stages     []string // stages that ran, in order, for the log line
	skipped    []string // stages with no capability configured

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

// authenticate resolves the calling app from its Custos key.
func (s *Server) authenticate(c *gin.Context, ex *exchange) error {
	ex.stages = append(ex.stages, stageAuthenticate)
	caller, err := s.keyring.Authenticate(presentedKey(c.Request))
	if err != nil {
		return err
	}
	ex.caller = caller
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

// inspect finds personal data in every user-controlled field. No detector is
// configured yet, so the stage records that it did not run.
func (s *Server) inspect(ex *exchange) error {
	ex.skipped = append(ex.skipped, stageInspect)
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
		Route:         "chat.completions",
		Model:         model,
		Findings:      ex.findings,
		Uninspectable: ex.uninspectable,
	}
	if ex.req != nil {
		in.User = ex.req.User
		in.Stream = ex.req.Stream
		in.EstimatedTokens = estimateTokens(ex.req)
	}
	if eps, err := s.catalog.Candidates(model, residency.Constraint{}); err == nil {
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

// redact applies the decision's per-data-class actions. Without inspection
// there is nothing to act on, and the stage records that it did not run.
func (s *Server) redact(ex *exchange) error {
	ex.skipped = append(ex.skipped, stageRedact)
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
	cands, err := s.catalog.Candidates(ex.req.Model, con)
	if err != nil {
		return err
	}
	ex.candidates = cands
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
	ep := ex.candidates[0]
	ex.endpoint = ep
	resp, err := s.upstream.Do(c.Request.Context(), upstream.Request{
		Endpoint:  ep,
		Path:      "/chat/completions",
		Body:      body,
		RequestID: ex.id,
		Stream:    ex.req.Stream,
	})
	if err != nil {
		return nil, err
	}
	ex.firstByte = time.Since(ex.started)
	return resp, nil
}

// account closes the exchange: one metadata-only log line per request.
func (s *Server) account(ex *exchange) {
	ex.stages = append(ex.stages, stageAccount)
	attrs := []slog.Attr{
		slog.String("request_id", ex.id),
		slog.String("route", ex.route),
		slog.Int("status", ex.status),
		slog.Duration("latency", time.Since(ex.started)),
		slog.Any("stages", ex.stages),
	}
	if len(ex.skipped) > 0 {
		attrs = append(attrs, slog.Any("not_configured", ex.skipped))
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
