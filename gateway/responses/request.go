package responses

import (
	"fmt"
	"slices"
	"strconv"

	"github.com/custos-gateway/custos/gateway/jsondoc"
	"github.com/custos-gateway/custos/gateway/openai"
)

// Request is a checked /v1/responses body: the one tree Custos inspects,
// redacts and forwards (or translates), and the facts read from it.
type Request struct {
	Doc    *jsondoc.Value
	Model  string
	Stream bool
	// Store is the request's store flag, nil when absent (the API then
	// stores the response).
	Store *bool
	// PreviousResponseID, Conversation, ItemReferences and Prompt are
	// references to state kept by the provider: an earlier response, a
	// conversation object, stored items, a stored prompt template.
	PreviousResponseID string
	Conversation       bool
	ItemReferences     int
	Prompt             bool
	// MaxOutputTokens is max_output_tokens, nil when absent.
	MaxOutputTokens *int64
	// Instructions reports a non-empty instructions string.
	Instructions bool
	// Items counts the input items (1 for a string input).
	Items int
	Tools []Tool
	// Format is text.format.type: "text", "json_schema", "json_object", or
	// "" when absent.
	Format string
	// ReasoningEffort is reasoning.effort, "" when absent.
	ReasoningEffort string
	// ToolChoice is "auto", "none" or "required", the type of an object
	// tool_choice ("function", "allowed_tools", ...), or "" when absent.
	ToolChoice string
	User       string
}

// Tool is one entry of tools: its type, and a function tool's name.
type Tool struct {
	Type string
	Name string
}

// Stateful reports whether the request depends on state kept by the
// provider.
func (r *Request) Stateful() bool {
	return r.PreviousResponseID != "" || r.Conversation || r.ItemReferences > 0 || r.Prompt
}

// StateError is the refusal of a request that depends on provider-side
// state, for a caller whose policy does not allow it (nil when the request
// is self-contained). Its code is stable: provider_state_not_allowed.
func (r *Request) StateError() *openai.RequestError {
	param := ""
	switch {
	case r.PreviousResponseID != "":
		param = "previous_response_id"
	case r.Conversation:
		param = "conversation"
	case r.ItemReferences > 0:
		param = "input"
	case r.Prompt:
		param = "prompt"
	default:
		return nil
	}
	return &openai.RequestError{Code: "provider_state_not_allowed", Param: param,
		Msg: param + " refers to state kept by the provider, which this gateway's policy does not allow; " +
			"send the whole conversation in input instead"}
}

// SetStore sets the store flag of the tree (Custos forwards store:false
// unless policy allows provider-side storage).
func (r *Request) SetStore(store bool) {
	r.Doc.Set("store", jsondoc.NewBool(store))
	r.Store = &store
}

// FromDoc checks a parsed /v1/responses body and reads its facts. Errors are
// *openai.RequestError naming fields, never values.
func FromDoc(doc *jsondoc.Value) (*Request, error) {
	if doc == nil || doc.Kind != jsondoc.Object {
		return nil, invalid("", "request body must be a JSON object")
	}
	r := &Request{Doc: doc}
	var err error
	if r.Model, err = openai.Model(doc); err != nil {
		return nil, err
	}
	for _, step := range []func(*Request) error{readFlags, readState, readLimits, readInput, readTools, readText, readReasoning, readToolChoice} {
		if err := step(r); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// readFlags reads stream, store, background and user.
func readFlags(r *Request) error {
	var err error
	if r.Stream, _, err = optBool(r.Doc, "stream"); err != nil {
		return err
	}
	store, set, err := optBool(r.Doc, "store")
	if err != nil {
		return err
	}
	if set {
		r.Store = &store
	}
	bg, _, err := optBool(r.Doc, "background")
	if err != nil {
		return err
	}
	if bg {
		return &openai.RequestError{Code: "unsupported_parameter", Param: "background",
			Msg: "background mode is not supported: this gateway serves no route to retrieve a response later"}
	}
	if u := r.Doc.Get("user"); !u.IsNull() {
		if r.User, err = str(u, "user"); err != nil {
			return err
		}
	}
	return nil
}

// readState reads the references to provider-side state.
func readState(r *Request) error {
	if v := r.Doc.Get("previous_response_id"); !v.IsNull() {
		id, err := str(v, "previous_response_id")
		if err != nil {
			return err
		}
		r.PreviousResponseID = id
	}
	switch c := r.Doc.Get("conversation"); {
	case c.IsNull():
	case c.Kind == jsondoc.String, c.Kind == jsondoc.Object:
		r.Conversation = true
	default:
		return invalid("conversation", "conversation must be a string or an object")
	}
	if p := r.Doc.Get("prompt"); !p.IsNull() {
		if p.Kind != jsondoc.Object {
			return invalid("prompt", "prompt must be an object")
		}
		r.Prompt = true
	}
	return nil
}

// readLimits reads max_output_tokens, instructions and the sampling numbers.
func readLimits(r *Request) error {
	if v := r.Doc.Get("max_output_tokens"); !v.IsNull() {
		n, err := strconv.ParseInt(v.Str, 10, 64)
		if v.Kind != jsondoc.Number || err != nil || n < 1 {
			return invalid("max_output_tokens", "max_output_tokens must be a positive integer")
		}
		r.MaxOutputTokens = &n
	}
	if v := r.Doc.Get("instructions"); !v.IsNull() {
		s, err := str(v, "instructions")
		if err != nil {
			return err
		}
		r.Instructions = s != ""
	}
	for _, f := range []string{"temperature", "top_p", "top_logprobs", "max_tool_calls"} {
		if v := r.Doc.Get(f); !v.IsNull() && v.Kind != jsondoc.Number {
			return invalid(f, f+" must be a number")
		}
	}
	for _, f := range []string{"metadata", "stream_options", "text", "reasoning"} {
		if v := r.Doc.Get(f); !v.IsNull() && v.Kind != jsondoc.Object {
			return invalid(f, f+" must be an object")
		}
	}
	if v := r.Doc.Get("parallel_tool_calls"); !v.IsNull() && v.Kind != jsondoc.Bool {
		return invalid("parallel_tool_calls", "parallel_tool_calls must be a boolean")
	}
	return nil
}

// readTools checks tools: objects with a type; function tools with a name,
// parameters an object and strict a boolean when given.
func readTools(r *Request) error {
	v := r.Doc.Get("tools")
	if v.IsNull() {
		return nil
	}
	if v.Kind != jsondoc.Array {
		return invalid("tools", "tools must be an array of tool objects")
	}
	for i, m := range v.Kids {
		p := fmt.Sprintf("tools[%d]", i)
		t := m.Value
		typ, ok := t.Get("type").Text()
		if t.Kind != jsondoc.Object || !ok || typ == "" {
			return invalid(p+".type", p+".type is required")
		}
		tool := Tool{Type: typ}
		if typ == "function" {
			name, ok := t.Get("name").Text()
			if !ok || name == "" {
				return invalid(p+".name", p+".name is required for a function tool")
			}
			if ps := t.Get("parameters"); !ps.IsNull() && ps.Kind != jsondoc.Object {
				return invalid(p+".parameters", p+".parameters must be an object")
			}
			if s := t.Get("strict"); !s.IsNull() && s.Kind != jsondoc.Bool {
				return invalid(p+".strict", p+".strict must be a boolean")
			}
			tool.Name = name
		}
		r.Tools = append(r.Tools, tool)
	}
	return nil
}

// formatTypes are the text.format types.
var formatTypes = []string{"text", "json_schema", "json_object"}

// readText checks text.format; a json_schema format needs a name and a
// schema object.
func readText(r *Request) error {
	f := r.Doc.Get("text").Get("format")
	if f.IsNull() {
		return nil
	}
	typ, ok := f.Get("type").Text()
	if f.Kind != jsondoc.Object || !ok || !slices.Contains(formatTypes, typ) {
		return invalid("text.format.type", "text.format.type must be one of text, json_schema, json_object")
	}
	r.Format = typ
	if typ != "json_schema" {
		return nil
	}
	if name, ok := f.Get("name").Text(); !ok || name == "" {
		return invalid("text.format.name", "text.format.name is required for a json_schema format")
	}
	if s := f.Get("schema"); s == nil || s.Kind != jsondoc.Object {
		return invalid("text.format.schema", "text.format.schema must be an object")
	}
	if s := f.Get("strict"); !s.IsNull() && s.Kind != jsondoc.Bool {
		return invalid("text.format.strict", "text.format.strict must be a boolean")
	}
	return nil
}

// efforts are the reasoning.effort values.
var efforts = []string{"none", "minimal", "low", "medium", "high", "xhigh", "max"}

func readReasoning(r *Request) error {
	e := r.Doc.Get("reasoning").Get("effort")
	if e.IsNull() {
		return nil
	}
	s, ok := e.Text()
	if !ok || !slices.Contains(efforts, s) {
		return invalid("reasoning.effort", "reasoning.effort must be one of none, minimal, low, medium, high, xhigh, max")
	}
	r.ReasoningEffort = s
	return nil
}

// readToolChoice reads tool_choice: an option string, or an object with a
// type (a function choice names its function).
func readToolChoice(r *Request) error {
	tc := r.Doc.Get("tool_choice")
	switch {
	case tc.IsNull():
		return nil
	case tc.Kind == jsondoc.String:
		if !slices.Contains([]string{"auto", "none", "required"}, tc.Str) {
			return invalid("tool_choice", "tool_choice must be auto, none, required or an object")
		}
		r.ToolChoice = tc.Str
		return nil
	case tc.Kind != jsondoc.Object:
		return invalid("tool_choice", "tool_choice must be auto, none, required or an object")
	}
	typ, ok := tc.Get("type").Text()
	if !ok || typ == "" {
		return invalid("tool_choice.type", "tool_choice.type is required")
	}
	if name, ok := tc.Get("name").Text(); typ == "function" && (!ok || name == "") {
		return invalid("tool_choice.name", "tool_choice.name is required for a function choice")
	}
	r.ToolChoice = typ
	return nil
}

func invalid(param, msg string) *openai.RequestError {
	return &openai.RequestError{Code: "invalid_request", Param: param, Msg: msg}
}

// optBool reads an optional boolean member: its value and whether it was
// given (null counts as absent).
func optBool(doc *jsondoc.Value, field string) (val, set bool, err error) {
	v := doc.Get(field)
	if v.IsNull() {
		return false, false, nil
	}
	if v.Kind != jsondoc.Bool {
		return false, false, invalid(field, field+" must be a boolean")
	}
	return v.Str == "true", true, nil
}

func str(v *jsondoc.Value, param string) (string, error) {
	if s, ok := v.Text(); ok {
		return s, nil
	}
	return "", invalid(param, param+" must be a string")
}
