package gateway

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/custos-gateway/custos/audit"
	"github.com/custos-gateway/custos/gateway/anthropic"
	"github.com/custos-gateway/custos/gateway/auth"
	"github.com/custos-gateway/custos/gateway/openai"
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

// classify is the one place that maps errors to statuses and client messages.
func classify(err error) apiError {
	var reqErr *openai.RequestError
	var stErr *upstream.StatusError
	var denied *policy.DeniedError
	var cooling *residency.CoolingError
	var anthErr *anthropic.RequestError
	switch {
	case errors.As(err, &denied):
		msg := "Request denied by policy."
		for _, r := range denied.Decision.Deny {
			msg += " " + r.Message
		}
		return apiError{status: http.StatusForbidden, typ: "permission_error", code: policy.Code(err),
			message: msg, reasons: denied.Decision.Deny}
	case errors.Is(err, policy.ErrNoPolicy), errors.Is(err, policy.ErrUndefined), errors.Is(err, policy.ErrEvaluation),
		errors.Is(err, policy.ErrTimeout), errors.Is(err, policy.ErrAmbiguous), errors.Is(err, policy.ErrInvalidDecision),
		errors.Is(err, policy.ErrUnknownAction):
		// The policy could not decide: refuse, and say so without detail.
		return apiError{status: http.StatusServiceUnavailable, typ: "server_error", code: policy.Code(err),
			message: "The compliance policy could not decide on this request; it was not sent."}
	case errors.Is(err, auth.ErrMissingKey):
		return apiError{status: http.StatusUnauthorized, typ: "invalid_request_error", code: "missing_api_key",
			message: "No API key provided. Send your Custos app key as 'Authorization: Bearer cst_...' or 'x-api-key'."}
	case errors.Is(err, auth.ErrUnknownKey):
		return apiError{status: http.StatusUnauthorized, typ: "invalid_request_error", code: "invalid_api_key",
			message: "Incorrect API key provided."}
	case errors.Is(err, auth.ErrRevokedKey):
		return apiError{status: http.StatusUnauthorized, typ: "invalid_request_error", code: "revoked_api_key",
			message: "This API key has been revoked."}
	case errors.As(err, &anthErr):
		code := "invalid_request"
		if anthErr.Code != "" {
			code = anthErr.Code
		}
		return apiError{status: requestErrorStatus(code), typ: "invalid_request_error", code: code, message: anthErr.Msg}
	case errors.As(err, &reqErr):
		return apiError{status: requestErrorStatus(reqErr.Code), typ: "invalid_request_error", code: reqErr.Code,
			message: reqErr.Msg, param: reqErr.Param}
	case errors.Is(err, errBodyTooLarge):
		return apiError{status: http.StatusRequestEntityTooLarge, typ: "invalid_request_error", code: "request_too_large",
			message: "The request body exceeds this gateway's size limit."}
	case errors.Is(err, errUnsupportedMedia):
		return apiError{status: http.StatusUnsupportedMediaType, typ: "invalid_request_error", code: "unsupported_media_type",
			message: "Content-Type must be application/json."}
	case errors.Is(err, errBodyUnreadable):
		return apiError{status: http.StatusBadRequest, typ: "invalid_request_error", code: "unreadable_body",
			message: "The request body could not be read."}
	case errors.Is(err, errUnknownRoute):
		return apiError{status: http.StatusNotFound, typ: "invalid_request_error", code: "unknown_route",
			message: "Unknown request URL. Custos serves " + servedRoutes + "."}
	case errors.Is(err, errMethodNotAllowed):
		return apiError{status: http.StatusMethodNotAllowed, typ: "invalid_request_error", code: "method_not_allowed",
			message: "This method is not allowed on this URL."}
	case errors.Is(err, residency.ErrUnknownModel):
		return apiError{status: http.StatusNotFound, typ: "invalid_request_error", code: "model_not_found",
			message: "The requested model does not exist or you do not have access to it.", param: "model"}
	case errors.As(err, &cooling):
		return apiError{status: http.StatusServiceUnavailable, typ: "server_error", code: "no_endpoint_available",
			message: "Every endpoint this request may use is rate-limited or failing; retry later.", retryAfter: cooling.RetryAfter}
	case errors.Is(err, residency.ErrNoCompliantEndpoint):
		return apiError{status: http.StatusForbidden, typ: "permission_error", code: "no_compliant_endpoint",
			message: "No endpoint satisfies this request's compliance constraints; it was not sent anywhere."}
	case errors.Is(err, redact.ErrBlocked):
		return apiError{status: http.StatusForbidden, typ: "permission_error", code: "pii_blocked",
			message: "The request contains data that policy blocks; it was not sent."}
	case errors.Is(err, audit.ErrUnavailable), errors.Is(err, audit.ErrClosed):
		return apiError{status: http.StatusServiceUnavailable, typ: "server_error", code: "audit_unavailable",
			message: "The audit log cannot record this request, so it was not processed. Retry later."}
	case errors.Is(err, errWrongRole):
		return apiError{status: http.StatusForbidden, typ: "permission_error", code: "wrong_key_role",
			message: "This key is not valid here: app keys call models, auditor keys export the audit log."}
	case errors.Is(err, errUntranslatable):
		return apiError{status: http.StatusBadRequest, typ: "invalid_request_error", code: "untranslatable_request",
			message: "The request uses content the selected provider's format cannot carry."}
	case errors.Is(err, errBadQuery):
		return apiError{status: http.StatusBadRequest, typ: "invalid_request_error", code: "invalid_query",
			message: "Invalid query: from and to must be RFC 3339 times or YYYY-MM-DD dates, format jsonl or csv."}
	case errors.Is(err, errKeyUnavailable):
		return apiError{status: http.StatusServiceUnavailable, typ: "server_error", code: "key_unavailable",
			message: "The provider key for this request is unavailable; the request was not sent."}
	case errors.As(err, &stErr):
		return classifyUpstreamStatus(stErr)
	case errors.Is(err, upstream.ErrTimeout):
		return apiError{status: http.StatusGatewayTimeout, typ: "server_error", code: "upstream_timeout",
			message: "The provider did not answer in time."}
	case errors.Is(err, upstream.ErrUnreachable):
		return apiError{status: http.StatusBadGateway, typ: "server_error", code: "upstream_unreachable",
			message: "The provider could not be reached."}
	case errors.Is(err, errStreamInterrupted), errors.Is(err, errAnswerUnreadable):
		return apiError{status: http.StatusBadGateway, typ: "server_error", code: "upstream_interrupted",
			message: "The provider's answer ended before it was complete."}
	case errors.Is(err, errAnswerTooLarge):
		return apiError{status: http.StatusBadGateway, typ: "server_error", code: "upstream_answer_too_large",
			message: "The provider's answer exceeds this gateway's size limit."}
	case errors.Is(err, context.Canceled):
		return apiError{status: statusClientClosed, typ: "invalid_request_error", code: "client_closed",
			message: "The client closed the request."}
	case errors.Is(err, context.DeadlineExceeded):
		return apiError{status: http.StatusGatewayTimeout, typ: "server_error", code: "upstream_timeout",
			message: "The provider did not answer in time."}
	}
	return apiError{status: http.StatusInternalServerError, typ: "server_error", code: "internal_error",
		message: "Internal error. The request id identifies it in the gateway's logs."}
}

// servedRoutes names the API routes, for the unknown-route message.
const servedRoutes = "POST /v1/chat/completions, POST /v1/messages, POST /v1/embeddings and GET /v1/models"

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
