package openai

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/custos-gateway/custos/gateway/jsondoc"
)

// RequestError is a client mistake in a request body. Its message is safe to
// show to the client and to log: it names fields and offsets, never content.
type RequestError struct {
	Code  string // stable machine code, e.g. "invalid_json"
	Param string // offending field, if any
	Msg   string
	// Cause, when set, is logged instead of Msg: Msg may name the caller's
	// own keys, which must not reach a log.
	Cause string
}

func (e *RequestError) Error() string {
	if e.Cause != "" {
		return e.Cause
	}
	return e.Msg
}

// ChatRequest is a parsed /v1/chat/completions body: the one tree Custos
// inspects, redacts and encodes, and the facts the pipeline reads from it.
type ChatRequest struct {
	Doc          *jsondoc.Value
	Model        string
	Stream       bool
	IncludeUsage bool // stream_options.include_usage
	User         string
}

// Message is one chat message as the echo provider and tests read it.
// Content stays raw: a string, an array of content parts, or null.
type Message struct {
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content,omitempty"`
	Name    string          `json:"name,omitempty"`
}

// ParseChatRequest parses and checks a chat completions body.
func ParseChatRequest(body []byte) (*ChatRequest, error) {
	doc, err := jsondoc.Parse(body, jsondoc.Limits{})
	if err != nil {
		return nil, ParseError(err)
	}
	return ChatFromDoc(doc)
}

// ChatFromDoc checks a parsed chat completions body and reads its facts.
func ChatFromDoc(doc *jsondoc.Value) (*ChatRequest, error) {
	if doc.Kind != jsondoc.Object {
		return nil, &RequestError{Code: "invalid_request", Msg: "request body must be a JSON object"}
	}
	r := &ChatRequest{Doc: doc}
	err := knownSpelling(doc, "", chatFields)
	if err == nil {
		err = knownSpelling(doc.Get("stream_options"), "stream_options.", streamOptionsFields)
	}
	if err != nil {
		return nil, err
	}
	if r.Model, err = Model(doc); err != nil {
		return nil, err
	}
	if r.Stream, err = optionalBool(doc, "stream"); err != nil {
		return nil, err
	}
	if so := doc.Get("stream_options"); !so.IsNull() {
		if so.Kind != jsondoc.Object {
			return nil, &RequestError{Code: "invalid_request", Param: "stream_options", Msg: "stream_options must be an object"}
		}
		iu := so.Get("include_usage")
		r.IncludeUsage = iu != nil && iu.Kind == jsondoc.Bool && iu.Str == "true"
	}
	if u := doc.Get("user"); !u.IsNull() {
		if r.User, err = stringValue(u, "user"); err != nil {
			return nil, err
		}
	}
	return r, checkMessages(doc.Get("messages"))
}

// Model reads a body's required model field.
func Model(doc *jsondoc.Value) (string, error) {
	m := doc.Get("model")
	if m.IsNull() {
		return "", &RequestError{Code: "missing_model", Param: "model", Msg: "you must provide a model parameter"}
	}
	if s, ok := m.Text(); ok && s != "" {
		return s, nil
	}
	return "", &RequestError{Code: "invalid_model", Param: "model", Msg: "model must be a non-empty string"}
}

// knownSpelling refuses a member that names a known field in another
// letter case: a case-insensitive decoder downstream would read it as that
// field, and Set would give the body both.
func knownSpelling(obj *jsondoc.Value, prefix string, known []string) error {
	key, ok := jsondoc.CaseVariant(obj, known)
	if !ok {
		return nil
	}
	p := prefix + key
	return &RequestError{Code: "invalid_request", Param: p,
		Msg: p + " differs from a known field only in letter case; spell it exactly"}
}

func optionalBool(doc *jsondoc.Value, field string) (bool, error) {
	v := doc.Get(field)
	if v.IsNull() {
		return false, nil
	}
	if v.Kind != jsondoc.Bool {
		return false, &RequestError{Code: "invalid_request", Param: field, Msg: field + " must be a boolean"}
	}
	return v.Str == "true", nil
}

func stringValue(v *jsondoc.Value, field string) (string, error) {
	if s, ok := v.Text(); ok {
		return s, nil
	}
	return "", &RequestError{Code: "invalid_request", Param: field, Msg: field + " must be a string"}
}

func checkMessages(msgs *jsondoc.Value) error {
	if msgs.IsNull() {
		return &RequestError{Code: "missing_messages", Param: "messages", Msg: "you must provide a messages parameter"}
	}
	if msgs.Kind != jsondoc.Array {
		return &RequestError{Code: "invalid_messages", Param: "messages", Msg: "messages must be an array of message objects"}
	}
	if len(msgs.Kids) == 0 {
		return &RequestError{Code: "invalid_messages", Param: "messages", Msg: "messages must contain at least one message"}
	}
	for i, m := range msgs.Kids {
		if m.Value.Kind != jsondoc.Object {
			return &RequestError{Code: "invalid_messages", Param: "messages", Msg: "messages must be an array of message objects"}
		}
		if role, ok := m.Value.Get("role").Text(); !ok || role == "" {
			p := fmt.Sprintf("messages[%d].role", i)
			return &RequestError{Code: "invalid_messages", Param: p, Msg: p + " is required"}
		}
	}
	return nil
}

// Set replaces a top-level field with value encoded as JSON.
func (r *ChatRequest) Set(field string, value any) error {
	b, err := json.Marshal(value)
	if err != nil {
		return fmt.Errorf("openai: encoding %s: %w", field, err)
	}
	v, err := jsondoc.Parse(b, jsondoc.Limits{})
	if err != nil {
		return fmt.Errorf("openai: encoding %s: %w", field, err)
	}
	r.Doc.Set(field, v)
	return nil
}

// Body encodes the tree: the bytes to forward.
func (r *ChatRequest) Body() ([]byte, error) { return jsondoc.Encode(r.Doc), nil }

// Messages decodes the messages array (for the echo provider and tests).
func (r *ChatRequest) Messages() []Message {
	var out []Message
	_ = json.Unmarshal(jsondoc.Encode(r.Doc.Get("messages")), &out)
	return out
}

// Text returns a message's content when it is a plain string, or the
// concatenated text parts of a content-part array.
func (m *Message) Text() string {
	if len(m.Content) == 0 || isNull(m.Content) {
		return ""
	}
	var s string
	if err := json.Unmarshal(m.Content, &s); err == nil {
		return s
	}
	var parts []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	if err := json.Unmarshal(m.Content, &parts); err != nil {
		return ""
	}
	var b bytes.Buffer
	for _, p := range parts {
		if p.Type == "text" {
			b.WriteString(p.Text)
		}
	}
	return b.String()
}

func isNull(b json.RawMessage) bool { return bytes.Equal(bytes.TrimSpace(b), []byte("null")) }

// ParseError turns a jsondoc parse failure into the client's error: what is
// wrong and where (the path names the caller's own keys), never a value.
func ParseError(err error) error {
	var pe *jsondoc.Error
	if !errors.As(err, &pe) {
		return &RequestError{Code: "invalid_json", Msg: "request body is not valid JSON"}
	}
	switch {
	case errors.Is(err, jsondoc.ErrDuplicateKey):
		return &RequestError{Code: "invalid_request", Param: pe.Path.String(), Cause: err.Error(),
			Msg: fmt.Sprintf("request body names the key %s twice; every key must be unique", pe.Path)}
	case errors.Is(err, jsondoc.ErrCaseVariantKey):
		return &RequestError{Code: "invalid_request", Param: pe.Path.String(), Cause: err.Error(),
			Msg: fmt.Sprintf("request body has keys that differ only in letter case at %s; spell each key once, exactly", pe.Path)}
	case errors.Is(err, jsondoc.ErrTooDeep):
		return &RequestError{Code: "request_too_deep", Msg: "request body is nested more deeply than this gateway accepts"}
	case errors.Is(err, jsondoc.ErrTooManyValues):
		return &RequestError{Code: "request_too_many_values", Msg: "request body holds more JSON values than this gateway accepts"}
	}
	return &RequestError{Code: "invalid_json", Msg: fmt.Sprintf("request body is not valid JSON (error at byte offset %d)", pe.Offset)}
}
