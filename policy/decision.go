package policy

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Input is the policy input: facts about a request, never its text.
type Input struct {
	RequestID       string         `json:"request_id"`
	Tenant          string         `json:"tenant"`
	App             string         `json:"app"`
	Purpose         string         `json:"purpose"`
	User            string         `json:"user,omitempty"`
	Route           string         `json:"route"`
	Model           string         `json:"model"`
	Stream          bool           `json:"stream"`
	EstimatedTokens int64          `json:"estimated_tokens"`
	Candidates      []Candidate    `json:"candidates"`
	Findings        map[string]int `json:"findings"`
	Uninspectable   int            `json:"uninspectable"`
	// Cost is what the request may cost at most and what the account has
	// left, for spend rules; nil when the tenant is not metered.
	Cost *CostInput `json:"cost,omitempty"`
}

// CostInput is the money side of a request, in integer micro-units.
type CostInput struct {
	EstimatedMicros int64  `json:"estimated_micros"` // the most the request can cost
	Currency        string `json:"currency"`
	Billing         string `json:"billing"` // "prepaid" or "postpaid"
	// AvailableMicros is a prepaid account's balance less its reservations;
	// nil for postpaid or when unknown.
	AvailableMicros *int64 `json:"available_micros,omitempty"`
}

// Candidate is an endpoint that serves the requested model.
type Candidate struct {
	Endpoint     string          `json:"endpoint"`
	Provider     string          `json:"provider"`
	Region       string          `json:"region"`
	Jurisdiction string          `json:"jurisdiction"`
	Attributes   map[string]bool `json:"attributes,omitempty"`
}

// Action is what to do with one data class.
type Action string

// The actions Custos can carry out. Any other action fails closed.
const (
	ActionAllow        Action = "allow"
	ActionMask         Action = "mask"
	ActionPseudonymize Action = "pseudonymize"
	ActionHash         Action = "hash"
	ActionBlock        Action = "block"
)

// KnownActions lists every action Custos can carry out.
var KnownActions = []Action{ActionAllow, ActionMask, ActionPseudonymize, ActionHash, ActionBlock}

// Reason is one deny reason: a stable code, the control it enforces and a
// message for the caller.
type Reason struct {
	Code    string `json:"code"`
	Control string `json:"control"`
	Rule    string `json:"rule"`
	Message string `json:"message"`
}

// Revision names the exact policy text that made a decision.
type Revision struct {
	Manifest string `json:"manifest,omitempty"` // the bundle .manifest revision
	SHA256   string `json:"sha256"`             // over the served files' paths and content
	str      string // String's result, made once per loaded bundle (every request reports it)
}

// NewRevision returns the revision of a bundle with its string form made.
func NewRevision(manifest, sha256 string) Revision {
	r := Revision{Manifest: manifest, SHA256: sha256}
	r.str = r.String()
	return r
}

func (r Revision) String() string {
	if r.str != "" {
		return r.str
	}
	if r.Manifest == "" {
		return "sha256:" + r.SHA256
	}
	return r.Manifest + "+sha256:" + r.SHA256
}

// Decision is the policy's answer for one request.
type Decision struct {
	Allow                bool              `json:"allow"`
	Deny                 []Reason          `json:"deny"`
	DryRun               bool              `json:"dry_run"`
	AllowedJurisdictions []string          `json:"allowed_jurisdictions"`
	AllowedRegions       []string          `json:"allowed_regions"`
	AllowedProviders     []string          `json:"allowed_providers"`
	AllowedEndpoints     []string          `json:"allowed_endpoints"`
	AllowedModels        []string          `json:"allowed_models"`
	Actions              map[string]Action `json:"actions"`
	RestorePseudonyms    bool              `json:"restore_pseudonyms"`
	// MaxEstimatedTokens is the per-request budget the policy sets; nil sets
	// none. Decide enforces it with the deny code token_budget_exceeded.
	MaxEstimatedTokens *int64 `json:"max_estimated_tokens"`
	// MaxRequestCostMicros caps a metered request's maximum cost and
	// MinAvailableMicros is the prepaid balance it needs left; nil sets
	// none. Optional in the document. Decide enforces them against
	// Input.Cost (codes request_cost_over_cap and balance_below_floor), so
	// that spend limits leave decisions memoized.
	MaxRequestCostMicros *int64 `json:"max_request_cost_micros,omitempty"`
	MinAvailableMicros   *int64 `json:"min_available_micros,omitempty"`
	// ProviderStorage lets providers keep conversation state for the tenant
	// (the Responses API's store, previous_response_id, conversation).
	// Optional in the document: absent is false.
	ProviderStorage bool `json:"provider_storage"`
	// DateScope says which dates are redacted: "any" (absent, the default)
	// or "person" (only dates tied to an individual by context).
	DateScope string   `json:"date_scope"`
	Revision  Revision `json:"revision"`
}

// Date scopes.
const (
	DatesAny    = "any"
	DatesPerson = "person"
)

// Budget enforcement is Custos's: the policy states the limit.
const codeTokenBudget = "token_budget_exceeded"

// enforceLimits turns a decision's limits into deny reasons for this input.
func enforceLimits(d *Decision, in *Input) {
	var add []Reason
	if d.MaxEstimatedTokens != nil && in.EstimatedTokens > *d.MaxEstimatedTokens {
		add = append(add, Reason{
			Code:    codeTokenBudget,
			Control: "Tenant budget: max_estimated_tokens set by policy",
			Rule:    "Token budget per request",
			Message: fmt.Sprintf("The request is estimated at %d tokens, over this tenant's limit of %d per request.",
				in.EstimatedTokens, *d.MaxEstimatedTokens),
		})
	}
	if c := in.Cost; c != nil && d.MaxRequestCostMicros != nil && c.EstimatedMicros > *d.MaxRequestCostMicros {
		add = append(add, Reason{
			Code: codeCostCap, Control: "Spend control: max_request_cost_micros set by policy", Rule: "Spend cap per request",
			Message: "The request's maximum cost is above this tenant's cap for one request; lower max_tokens or shorten it.",
		})
	}
	if c := in.Cost; c != nil && d.MinAvailableMicros != nil && c.AvailableMicros != nil && *c.AvailableMicros < *d.MinAvailableMicros {
		add = append(add, Reason{
			Code: codeBalanceFloor, Control: "Spend control: min_available_micros set by policy", Rule: "Balance floor",
			Message: "The prepaid balance is below the floor the policy sets for this model; use a cheaper model or top up.",
		})
	}
	if len(add) > 0 {
		d.Allow = false
		d.Deny = append(slices.Clone(d.Deny), add...)
		slices.SortStableFunc(d.Deny, func(a, b Reason) int { return strings.Compare(a.Code, b.Code) })
	}
}

// Spend limits are enforced by Custos; the policy states them.
const (
	codeCostCap      = "request_cost_over_cap"
	codeBalanceFloor = "balance_below_floor"
)

// Codes returns the deny reasons' codes.
func (d *Decision) Codes() []string {
	out := make([]string, len(d.Deny))
	for i, r := range d.Deny {
		out[i] = r.Code
	}
	return out
}

// Fail-closed conditions. Each wraps into an error whose Code is stable.
var (
	ErrNoPolicy        = errors.New("policy: no policy set loaded")
	ErrUndefined       = errors.New("policy: decision undefined")
	ErrEvaluation      = errors.New("policy: evaluation failed")
	ErrTimeout         = errors.New("policy: evaluation timed out")
	ErrAmbiguous       = errors.New("policy: more than one decision")
	ErrInvalidDecision = errors.New("policy: decision document invalid")
	ErrUnknownAction   = errors.New("policy: unknown action")
	// ErrDenied is wrapped by *DeniedError: the rules denied the request.
	ErrDenied = errors.New("policy: request denied")
)

// DeniedError is a deny decided by the rules, with its reasons.
type DeniedError struct {
	Decision Decision
}

func (e *DeniedError) Error() string {
	return fmt.Sprintf("policy: request denied (%s) by revision %s", strings.Join(e.Decision.Codes(), ", "), e.Decision.Revision)
}

func (e *DeniedError) Unwrap() error { return ErrDenied }

// Code returns the stable code of a fail-closed error or deny.
func Code(err error) string {
	var d *DeniedError
	switch {
	case errors.As(err, &d) && len(d.Decision.Deny) > 0:
		return d.Decision.Deny[0].Code
	case errors.Is(err, ErrNoPolicy):
		return "policy_unavailable"
	case errors.Is(err, ErrUndefined):
		return "policy_undefined"
	case errors.Is(err, ErrTimeout):
		return "policy_timeout"
	case errors.Is(err, ErrAmbiguous):
		return "policy_ambiguous"
	case errors.Is(err, ErrUnknownAction):
		return "policy_unknown_action"
	case errors.Is(err, ErrInvalidDecision):
		return "policy_invalid_decision"
	case errors.Is(err, ErrEvaluation):
		return "policy_error"
	}
	return "policy_error"
}

// decode turns the evaluated document into a Decision, refusing anything
// that is not exactly the documented shape.
// optionalFields reads the decision's optional fields; absent, each takes
// its strictest value (no provider storage, every date redacted).
func optionalFields(doc map[string]any, err *error) (bool, string) {
	storage := false
	if v, ok := doc["provider_storage"]; ok {
		b, isBool := v.(bool)
		if !isBool && *err == nil {
			*err = fmt.Errorf("%w: field \"provider_storage\" is not a boolean", ErrInvalidDecision)
		}
		storage = b
	}
	scope := DatesAny
	if v, ok := doc["date_scope"]; ok {
		s, _ := v.(string)
		if s != DatesAny && s != DatesPerson && *err == nil {
			*err = fmt.Errorf("%w: field \"date_scope\" is not \"any\" or \"person\"", ErrInvalidDecision)
		}
		scope = s
	}
	return storage, scope
}

// optionalCount reads an optional whole number of the decision (absent or
// null: nil).
func optionalCount(doc map[string]any, name string, err *error) *int64 {
	switch v := doc[name].(type) {
	case nil:
		return nil
	case json.Number:
		n, nerr := v.Int64()
		if nerr != nil && *err == nil {
			*err = fmt.Errorf("%w: %s is not a whole number", ErrInvalidDecision, name)
		}
		return &n
	default:
		if *err == nil {
			*err = fmt.Errorf("%w: %s is neither null nor a number", ErrInvalidDecision, name)
		}
		return nil
	}
}

func decode(v any) (Decision, error) {
	var d Decision
	doc, ok := v.(map[string]any)
	if !ok {
		return d, fmt.Errorf("%w: not an object", ErrInvalidDecision)
	}
	var err error
	field := func(name string) any {
		x, ok := doc[name]
		if !ok && err == nil {
			err = fmt.Errorf("%w: field %q missing", ErrInvalidDecision, name)
		}
		return x
	}
	boolean := func(name string) bool {
		x := field(name)
		b, ok := x.(bool)
		if !ok && err == nil {
			err = fmt.Errorf("%w: field %q is not a boolean", ErrInvalidDecision, name)
		}
		return b
	}
	strs := func(name string) []string {
		x := field(name)
		arr, ok := x.([]any)
		if !ok {
			if err == nil {
				err = fmt.Errorf("%w: field %q is not an array", ErrInvalidDecision, name)
			}
			return nil
		}
		out := make([]string, 0, len(arr))
		for _, e := range arr {
			s, ok := e.(string)
			if !ok && err == nil {
				err = fmt.Errorf("%w: field %q holds a non-string", ErrInvalidDecision, name)
			}
			out = append(out, s)
		}
		return out
	}
	d.Allow = boolean("allow")
	d.DryRun = boolean("dry_run")
	d.ProviderStorage, d.DateScope = optionalFields(doc, &err)
	d.MaxRequestCostMicros = optionalCount(doc, "max_request_cost_micros", &err)
	d.MinAvailableMicros = optionalCount(doc, "min_available_micros", &err)
	d.RestorePseudonyms = boolean("restore_pseudonyms")
	d.AllowedJurisdictions = strs("allowed_jurisdictions")
	d.AllowedRegions = strs("allowed_regions")
	d.AllowedProviders = strs("allowed_providers")
	d.AllowedEndpoints = strs("allowed_endpoints")
	d.AllowedModels = strs("allowed_models")
	switch v := field("max_estimated_tokens").(type) {
	case nil:
	case json.Number:
		n, nerr := v.Int64()
		if nerr != nil && err == nil {
			err = fmt.Errorf("%w: max_estimated_tokens is not a whole number", ErrInvalidDecision)
		}
		d.MaxEstimatedTokens = &n
	default:
		if err == nil {
			err = fmt.Errorf("%w: max_estimated_tokens is neither null nor a number", ErrInvalidDecision)
		}
	}

	if deny, ok := field("deny").([]any); ok {
		for i, e := range deny {
			r, ok := e.(map[string]any)
			code, _ := r["code"].(string)
			control, _ := r["control"].(string)
			rule, _ := r["rule"].(string)
			msg, _ := r["message"].(string)
			if !ok || code == "" || msg == "" {
				if err == nil {
					err = fmt.Errorf("%w: deny[%d] lacks a code or message", ErrInvalidDecision, i)
				}
				continue
			}
			d.Deny = append(d.Deny, Reason{Code: code, Control: control, Rule: rule, Message: msg})
		}
	} else if err == nil {
		err = fmt.Errorf("%w: field \"deny\" is not an array", ErrInvalidDecision)
	}

	if acts, ok := field("actions").(map[string]any); ok {
		d.Actions = make(map[string]Action, len(acts))
		for class, a := range acts {
			s, _ := a.(string)
			if !slices.Contains(KnownActions, Action(s)) {
				if err == nil {
					err = fmt.Errorf("%w %q for data class %s", ErrUnknownAction, s, class)
				}
				continue
			}
			d.Actions[class] = Action(s)
		}
	} else if err == nil {
		err = fmt.Errorf("%w: field \"actions\" is not an object", ErrInvalidDecision)
	}
	if err != nil {
		return Decision{}, err
	}
	sortDecision(&d)
	switch {
	case d.Allow && len(d.Deny) > 0:
		return Decision{}, fmt.Errorf("%w: allow with %d deny reason(s)", ErrInvalidDecision, len(d.Deny))
	case !d.Allow && len(d.Deny) == 0:
		return Decision{}, fmt.Errorf("%w: deny without a reason", ErrInvalidDecision)
	}
	return d, nil
}

// sortDecision orders the decision's lists (the policy may return sets in
// any order): names alphabetically, deny reasons by code.
func sortDecision(d *Decision) {
	for _, l := range [][]string{d.AllowedJurisdictions, d.AllowedRegions, d.AllowedProviders, d.AllowedEndpoints, d.AllowedModels} {
		slices.Sort(l)
	}
	slices.SortStableFunc(d.Deny, func(a, b Reason) int { return strings.Compare(a.Code, b.Code) })
}

// checkActions makes sure every data class found has a known action.
func checkActions(d *Decision, findings map[string]int) error {
	for class, n := range findings {
		if n <= 0 {
			continue
		}
		if _, ok := d.Actions[class]; !ok {
			return fmt.Errorf("%w: no action for data class %s", ErrInvalidDecision, class)
		}
	}
	return nil
}
