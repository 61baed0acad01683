package gateway

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/custos-gateway/custos/audit"
	"github.com/custos-gateway/custos/audit/ledger"
	"github.com/custos-gateway/custos/gateway/anthropic"
	"github.com/custos-gateway/custos/gateway/auth"
	"github.com/custos-gateway/custos/gateway/limits"
	"github.com/custos-gateway/custos/gateway/openai"
	"github.com/custos-gateway/custos/gateway/responses"
	"github.com/custos-gateway/custos/gateway/upstream"
	"github.com/custos-gateway/custos/policy"
	"github.com/custos-gateway/custos/redact"
	"github.com/custos-gateway/custos/residency"
)

// Gateway-level conditions. Domain packages own their own sentinels; these are
// the ones only the HTTP layer can notice.
var (
	errBodyTooLarge      = errors.New("gateway: request body over the size limit")
	errUnsupportedMedia  = errors.New("gateway: unsupported content type")
	errBodyUnreadable    = errors.New("gateway: request body could not be read")
	errBodyTimeout       = errors.New("gateway: request body not received in time")
	errUnknownRoute      = errors.New("gateway: unknown route")
	errMethodNotAllowed  = errors.New("gateway: method not allowed")
	errStreamInterrupted = upstream.ErrStreamInterrupted
	errAnswerTooLarge    = errors.New("gateway: provider answer over the size limit")
	errAnswerUnreadable  = errors.New("gateway: provider answer could not be read")
	errKeyUnavailable    = errors.New("gateway: provider key unavailable")
	errWrongRole         = errors.New("gateway: key not valid for this route")
	errBadQuery          = errors.New("gateway: invalid query parameter")
	errUntranslatable    = upstream.ErrUntranslatable
	errInternal          = errors.New("gateway: internal error")
)

// apiError is what the client is told. message is shown to the caller; the
// error it was classified from is logged separately as the cause.
type apiError struct {
	status     int
	typ        string // OpenAI error type
	code       string // stable machine code
	message    string
	param      string
	retryAfter time.Duration
	reasons    []policy.Reason
}

// statusClientClosed is logged (never sent) when the caller went away.
const statusClientClosed = 499

// classify is the one place that maps errors to statuses and client
// messages: the first entry of errorClasses that matches wins.
func classify(err error) apiError {
	for _, c := range errorClasses {
		if c.match(err) {
			if c.build != nil {
				return c.build(err)
			}
			return c.api
		}
	}
	return apiError{status: http.StatusInternalServerError, typ: "server_error", code: "internal_error",
		message: "Internal error. The request id identifies it in the gateway's logs."}
}

// errorClass maps the errors match accepts to a fixed answer, or to one
// build makes from the error.
type errorClass struct {
	match func(error) bool
	api   apiError
	build func(error) apiError
}

// is matches errors wrapping any of targets.
func is(targets ...error) func(error) bool {
	return func(err error) bool {
		for _, t := range targets {
			if errors.Is(err, t) {
				return true
			}
		}
		return false
	}
}

// as matches errors wrapping a *T.
func as[T error](err error) bool {
	var t T
	return errors.As(err, &t)
}

// unknownModelError: no endpoint in the catalog serves the model. The
// client is told which model (its own text); the log is not.
type unknownModelError struct{ model string }

func (e *unknownModelError) Error() string { return "gateway: model not in the catalog" }

func (e *unknownModelError) Unwrap() error { return residency.ErrUnknownModel }

func unknownModel(err error) apiError {
	var e *unknownModelError
	name := "the requested model"
	if errors.As(err, &e) && printable(e.model, 128) {
		name = "'" + e.model + "'"
	}
	return apiError{status: http.StatusNotFound, typ: "invalid_request_error", code: "model_not_found", param: "model",
		message: "The model " + name + " does not exist here. GET /v1/models lists the models this key may use."}
}

// printable reports a short string of printable ASCII without quotes.
func printable(s string, max int) bool {
	if s == "" || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e || s[i] == '\'' || s[i] == '"' || s[i] == '\\' {
			return false
		}
	}
	return true
}

var errorClasses = []errorClass{
	{match: as[*unknownModelError], build: unknownModel},
	{match: is(errDiskLow), api: apiError{status: http.StatusServiceUnavailable, typ: "server_error", code: "audit_disk_low",
		message: "The audit log's disk is nearly full, so new requests are refused before it fills. Retry later.", retryAfter: 30 * time.Second}},
	{match: is(errOverloaded), api: apiError{status: http.StatusServiceUnavailable, typ: "server_error", code: "overloaded",
		message: "The gateway is serving as many requests as it may; retry shortly.", retryAfter: time.Second}},
	{match: as[*throttledError], build: func(err error) apiError {
		var e *throttledError
		errors.As(err, &e)
		return apiError{status: http.StatusTooManyRequests, typ: "rate_limit_error", code: "too_many_failed_authentications",
			message: "Too many failed authentications from this address; retry later.", retryAfter: e.retryAfter}
	}},
	{match: as[*policy.DeniedError], build: deniedError},
	{match: as[*rateLimitedError], build: rateLimited},
	{match: as[*budgetError], build: func(err error) apiError {
		var e *budgetError
		errors.As(err, &e)
		return apiError{status: http.StatusTooManyRequests, typ: "insufficient_quota", code: "budget_exceeded",
			message: "This request would exceed the " + e.budget.Period + " budget of " + e.scope() + "; it was not sent. The budget resets at " +
				e.budget.ResetAt.UTC().Format(time.RFC3339) + ".", retryAfter: e.retryAfter}
	}},
	{match: is(ledger.ErrInsufficientCredit), api: apiError{status: http.StatusPaymentRequired, typ: "insufficient_quota", code: "insufficient_credit",
		message: "The account's prepaid credit does not cover this request's maximum cost; it was not sent. Top up the credit, or lower max_tokens. GET /v1/credits shows the balance."}},
	{match: is(errPriceUnavailable), api: apiError{status: http.StatusForbidden, typ: "permission_error", code: "price_unavailable", param: "model",
		message: "This model has no price in the gateway's price table, and this account pays per token; it was not sent."}},
	{match: is(ledger.ErrCurrency), api: apiError{status: http.StatusServiceUnavailable, typ: "server_error", code: "ledger_currency_mismatch",
		message: "The account is kept in another currency than this model's price; the request was not sent. The gateway's operators can fix it."}},
	{match: is(errLedgerDown, ledger.ErrUnavailable), api: apiError{status: http.StatusServiceUnavailable, typ: "server_error", code: "ledger_unavailable",
		message: "The credit ledger cannot be reached, so the request cannot be paid for; it was not sent. Retry later.", retryAfter: 5 * time.Second}},
	{match: is(policy.ErrNoPolicy, policy.ErrUndefined, policy.ErrEvaluation, policy.ErrTimeout, policy.ErrAmbiguous,
		policy.ErrInvalidDecision, policy.ErrUnknownAction), build: func(err error) apiError {
		// The policy could not decide: refuse, and say so without detail.
		return apiError{status: http.StatusServiceUnavailable, typ: "server_error", code: policy.Code(err),
			message: "The compliance policy could not decide on this request; it was not sent."}
	}},
	{match: is(auth.ErrMissingKey), api: apiError{status: http.StatusUnauthorized, typ: "invalid_request_error", code: "missing_api_key",
		message: "No API key provided. Send your Custos app key as 'Authorization: Bearer cst_...' or 'x-api-key'."}},
	{match: is(auth.ErrUnknownKey), api: apiError{status: http.StatusUnauthorized, typ: "invalid_request_error", code: "invalid_api_key",
		message: "Incorrect API key provided."}},
	// A revoked key is answered like an unknown one (the log and the audit
	// record keep the difference: see recordCode).
	{match: is(auth.ErrRevokedKey), api: apiError{status: http.StatusUnauthorized, typ: "invalid_request_error", code: "invalid_api_key",
		message: "Incorrect API key provided."}},
	{match: as[*anthropic.RequestError], build: anthropicRequestError},
	{match: as[*openai.RequestError], build: func(err error) apiError {
		var e *openai.RequestError
		errors.As(err, &e)
		return apiError{status: requestErrorStatus(e.Code), typ: "invalid_request_error", code: e.Code, message: e.Msg, param: e.Param}
	}},
	{match: is(errBodyTooLarge), api: apiError{status: http.StatusRequestEntityTooLarge, typ: "invalid_request_error", code: "request_too_large",
		message: "The request body exceeds this gateway's size limit."}},
	{match: is(errUnsupportedMedia), api: apiError{status: http.StatusUnsupportedMediaType, typ: "invalid_request_error", code: "unsupported_media_type",
		message: "Content-Type must be application/json."}},
	{match: is(errBodyTimeout), api: apiError{status: http.StatusRequestTimeout, typ: "invalid_request_error", code: "request_timeout",
		message: "The request body was not received in time."}},
	{match: is(errBodyUnreadable), api: apiError{status: http.StatusBadRequest, typ: "invalid_request_error", code: "unreadable_body",
		message: "The request body could not be read."}},
	{match: is(errUnknownRoute), api: apiError{status: http.StatusNotFound, typ: "invalid_request_error", code: "unknown_route",
		message: "Unknown request URL. Custos serves " + servedRoutes + "."}},
	{match: is(errMethodNotAllowed), api: apiError{status: http.StatusMethodNotAllowed, typ: "invalid_request_error", code: "method_not_allowed",
		message: "This method is not allowed on this URL."}},
	{match: is(residency.ErrUnknownModel), api: apiError{status: http.StatusNotFound, typ: "invalid_request_error", code: "model_not_found",
		message: "The requested model does not exist or you do not have access to it.", param: "model"}},
	{match: as[*residency.CoolingError], build: func(err error) apiError {
		var e *residency.CoolingError
		errors.As(err, &e)
		return apiError{status: http.StatusServiceUnavailable, typ: "server_error", code: "no_endpoint_available",
			message: "Every endpoint this request may use is rate-limited or failing; retry later.", retryAfter: e.RetryAfter}
	}},
	{match: is(residency.ErrNoCompliantEndpoint), api: apiError{status: http.StatusForbidden, typ: "permission_error", code: "no_compliant_endpoint",
		message: "No endpoint satisfies this request's compliance constraints; it was not sent anywhere."}},
	{match: is(redact.ErrTooManyFindings), api: apiError{status: http.StatusRequestEntityTooLarge, typ: "invalid_request_error", code: "too_many_findings",
		message: "The request holds more personal-data findings than this gateway inspects in one request (limits.max_findings); send it in smaller parts."}},
	{match: is(redact.ErrBlocked), api: apiError{status: http.StatusForbidden, typ: "permission_error", code: "pii_blocked",
		message: "The request contains data that policy blocks; it was not sent."}},
	{match: is(audit.ErrUnavailable, audit.ErrClosed), api: apiError{status: http.StatusServiceUnavailable, typ: "server_error", code: "audit_unavailable",
		message: "The audit log cannot record this request, so it was not processed. Retry later."}},
	{match: is(errWrongRole), api: apiError{status: http.StatusForbidden, typ: "permission_error", code: "wrong_key_role",
		message: "This key is not valid here: app keys call models, auditor keys export the audit log, finance keys manage credit."}},
	{match: as[*responses.TranslateError], build: func(err error) apiError {
		var e *responses.TranslateError
		errors.As(err, &e)
		return apiError{status: http.StatusBadRequest, typ: "invalid_request_error", code: "untranslatable_request", param: e.Param,
			message: "The request uses " + e.Param + ", which the endpoint serving this model cannot carry: " + e.Reason + "."}
	}},
	{match: is(errUntranslatable), api: apiError{status: http.StatusBadRequest, typ: "invalid_request_error", code: "untranslatable_request",
		message: "The request uses content or an API the selected provider's format cannot carry."}},
	{match: is(errBadQuery), api: apiError{status: http.StatusBadRequest, typ: "invalid_request_error", code: "invalid_query",
		message: "Invalid query: from and to must be RFC 3339 times or YYYY-MM-DD dates, format jsonl or csv."}},
	{match: is(errKeyUnavailable), api: apiError{status: http.StatusServiceUnavailable, typ: "server_error", code: "key_unavailable",
		message: "The provider key for this request is unavailable; the request was not sent."}},
	{match: as[*upstream.StatusError], build: func(err error) apiError {
		var e *upstream.StatusError
		errors.As(err, &e)
		return classifyUpstreamStatus(e)
	}},
	{match: is(upstream.ErrTimeout, context.DeadlineExceeded), api: apiError{status: http.StatusGatewayTimeout, typ: "server_error", code: "upstream_timeout",
		message: "The provider did not answer in time."}},
	{match: is(upstream.ErrUnreachable), api: apiError{status: http.StatusBadGateway, typ: "server_error", code: "upstream_unreachable",
		message: "The provider could not be reached."}},
	{match: is(errStreamInterrupted, errAnswerUnreadable), api: apiError{status: http.StatusBadGateway, typ: "server_error", code: "upstream_interrupted",
		message: "The provider's answer ended before it was complete."}},
	{match: is(errAnswerTooLarge), api: apiError{status: http.StatusBadGateway, typ: "server_error", code: "upstream_answer_too_large",
		message: "The provider's answer exceeds this gateway's size limit."}},
	{match: is(context.Canceled), api: apiError{status: statusClientClosed, typ: "invalid_request_error", code: "client_closed",
		message: "The client closed the request."}},
}

// recordCode is the code the log and the audit record keep for err: the
// client's code, except where the answer deliberately says less.
func recordCode(err error) string {
	if errors.Is(err, auth.ErrRevokedKey) && !errors.Is(err, errTooManyFailures) {
		return "revoked_api_key"
	}
	return classify(err).code
}

// rateLimited answers a request over its key's rate.
func rateLimited(err error) apiError {
	var e *rateLimitedError
	errors.As(err, &e)
	switch {
	case errors.Is(err, limits.ErrTooLarge):
		return apiError{status: http.StatusTooManyRequests, typ: "rate_limit_error", code: "tokens_exceed_rate_limit",
			message: "This request needs more tokens than this key may use in a minute; lower max_tokens or shorten it."}
	case errors.Is(err, limits.ErrTooManyKeys):
		return apiError{status: http.StatusServiceUnavailable, typ: "server_error", code: "overloaded",
			message: "The gateway is tracking as many keys as it may; retry shortly.", retryAfter: time.Second}
	}
	return apiError{status: http.StatusTooManyRequests, typ: "rate_limit_error", code: "rate_limited",
		message: "This key is over its rate limit; retry after the time in Retry-After.", retryAfter: e.status.RetryAfter}
}

func deniedError(err error) apiError {
	var denied *policy.DeniedError
	errors.As(err, &denied)
	msg := "Request denied by policy."
	for _, r := range denied.Decision.Deny {
		msg += " " + r.Message
	}
	return apiError{status: http.StatusForbidden, typ: "permission_error", code: policy.Code(err),
		message: msg, reasons: denied.Decision.Deny}
}

func anthropicRequestError(err error) apiError {
	var e *anthropic.RequestError
	errors.As(err, &e)
	code := "invalid_request"
	if e.Code != "" {
		code = e.Code
	}
	return apiError{status: requestErrorStatus(code), typ: "invalid_request_error", code: code, message: e.Msg}
}

// servedRoutes names the API routes, for the unknown-route message.
const servedRoutes = "POST /v1/chat/completions, POST /v1/responses, POST /v1/messages, POST /v1/messages/count_tokens, POST /v1/embeddings, GET /v1/models and GET /v1/credits"

// requestErrorStatus is 413 for a body too large to take apart, else 400.
func requestErrorStatus(code string) int {
	if code == "request_too_many_values" || code == "request_too_complex" {
		return http.StatusRequestEntityTooLarge
	}
	return http.StatusBadRequest
}

func classifyUpstreamStatus(e *upstream.StatusError) apiError {
	switch {
	case e.StatusCode == http.StatusTooManyRequests:
		return apiError{status: http.StatusTooManyRequests, typ: "rate_limit_error", code: "upstream_rate_limited",
			message: "The provider is rate limiting requests; retry later.", retryAfter: e.RetryAfter}
	case e.StatusCode == http.StatusUnauthorized || e.StatusCode == http.StatusForbidden:
		// The provider refused Custos's key, not the caller's: never a 401 to the app.
		return apiError{status: http.StatusBadGateway, typ: "server_error", code: "upstream_auth_failed",
			message: "The provider refused the gateway's credentials."}
	case e.StatusCode >= 500:
		return apiError{status: http.StatusBadGateway, typ: "server_error", code: "upstream_error",
			message: "The provider failed to answer (status " + strconv.Itoa(e.StatusCode) + ")."}
	}
	// Other 4xx: the provider judged the (redacted) request invalid; its own
	// message is the most useful thing to show the caller.
	msg := "The provider rejected the request (status " + strconv.Itoa(e.StatusCode) + ")."
	if e.Message != "" {
		msg = "The provider rejected the request: " + e.Message
	}
	return apiError{status: e.StatusCode, typ: "invalid_request_error", code: "upstream_rejected", message: msg}
}

func writeRetryAfter(c *gin.Context, e apiError) {
	c.Header("Retry-After", strconv.Itoa(int((e.retryAfter+time.Second-1)/time.Second)))
}
