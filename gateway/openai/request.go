package openai

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// RequestError is a client mistake in a request body. Its message is safe to
// show to the client and to log: it names fields and offsets, never content.
type RequestError struct {
	Code  string // stable machine code, e.g. "invalid_json"
	Param string // offending field, if any
	Msg   string
}

func (e *RequestError) Error() string { return e.Msg }

// ChatRequest is a parsed /v1/chat/completions body. Fields Custos does not
// inspect stay in Raw exactly as received.
type ChatRequest struct {
	Model         string
	Stream        bool
	IncludeUsage  bool // stream_options.include_usage
	User          string
	Messages      []Message
	Raw           map[string]json.RawMessage
	originalBytes []byte
	dirty         bool
}

// Message is one chat message. Content stays raw: a string, an array of
// content parts, or null.
type Message struct {
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content,omitempty"`
	Name    string          `json:"name,omitempty"`
}

// ParseChatRequest parses and checks a chat completions body.
func ParseChatRequest(body []byte) (*ChatRequest, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, jsonError(err)
	}
	if raw == nil {
		return nil, &RequestError{Code: "invalid_request", Msg: "request body must be a JSON object"}
	}
	r := &ChatRequest{Raw: raw, originalBytes: body}

	m, ok := raw["model"]
	if !ok || isNull(m) {
		return nil, &RequestError{Code: "missing_model", Param: "model", Msg: "you must provide a model parameter"}
	}
	if err := json.Unmarshal(m, &r.Model); err != nil || r.Model == "" {
		return nil, &RequestError{Code: "invalid_model", Param: "model", Msg: "model must be a non-empty string"}
	}
	if s, ok := raw["stream"]; ok && !isNull(s) {
		if err := json.Unmarshal(s, &r.Stream); err != nil {
			return nil, &RequestError{Code: "invalid_request", Param: "stream", Msg: "stream must be a boolean"}
		}
	}
	if so, ok := raw["stream_options"]; ok && !isNull(so) {
		var opts struct {
			IncludeUsage bool `json:"include_usage"`
		}
		if err := json.Unmarshal(so, &opts); err != nil {
			return nil, &RequestError{Code: "invalid_request", Param: "stream_options", Msg: "stream_options must be an object"}
		}
		r.IncludeUsage = opts.IncludeUsage
	}
	if u, ok := raw["user"]; ok && !isNull(u) {
		if err := json.Unmarshal(u, &r.User); err != nil {
			return nil, &RequestError{Code: "invalid_request", Param: "user", Msg: "user must be a string"}
		}
	}
	msgs, ok := raw["messages"]
	if !ok || isNull(msgs) {
		return nil, &RequestError{Code: "missing_messages", Param: "messages", Msg: "you must provide a messages parameter"}
	}
	if err := json.Unmarshal(msgs, &r.Messages); err != nil {
		return nil, &RequestError{Code: "invalid_messages", Param: "messages", Msg: "messages must be an array of message objects"}
	}
	if len(r.Messages) == 0 {
		return nil, &RequestError{Code: "invalid_messages", Param: "messages", Msg: "messages must contain at least one message"}
	}
	for i, msg := range r.Messages {
		if msg.Role == "" {
			return nil, &RequestError{Code: "invalid_messages", Param: fmt.Sprintf("messages[%d].role", i), Msg: fmt.Sprintf("messages[%d].role is required", i)}
		}
	}
	return r, nil
}

// Set replaces a top-level field; the body is re-encoded on the next Body call.
func (r *ChatRequest) Set(field string, value any) error {
	b, err := json.Marshal(value)
	if err != nil {
		return fmt.Errorf("openai: encoding %s: %w", field, err)
	}
	r.Raw[field] = b
	r.dirty = true
	return nil
}

// Body returns the bytes to forward: the original bytes if nothing was changed,
// otherwise the re-encoded object with every unknown field kept.
func (r *ChatRequest) Body() ([]byte, error) {
	if !r.dirty {
		return r.originalBytes, nil
	}
	b, err := json.Marshal(r.Raw)
	if err != nil {
		return nil, fmt.Errorf("openai: encoding request: %w", err)
	}
	return b, nil
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

func jsonError(err error) error {
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		return &RequestError{Code: "invalid_json", Msg: fmt.Sprintf("request body is not valid JSON (error at byte offset %d)", syn.Offset)}
	}
	var typ *json.UnmarshalTypeError
	if errors.As(err, &typ) {
		return &RequestError{Code: "invalid_request", Msg: "request body must be a JSON object"}
	}
	return &RequestError{Code: "invalid_json", Msg: "request body is not valid JSON"}
}
