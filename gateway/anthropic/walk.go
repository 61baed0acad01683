package anthropic

import (
	"errors"
	"fmt"

	"github.com/custos-gateway/custos/gateway/jsondoc"
)

// MessagesRules name the Messages API's known fields, so that a key that
// differs from one only in letter case is refused before translation.
var MessagesRules = jsondoc.Rules{
	Fields: []jsondoc.FieldSet{
		{At: jsondoc.P(""), Names: []string{"model", "messages", "system", "max_tokens", "metadata", "stop_sequences",
			"stream", "temperature", "top_p", "top_k", "tools", "tool_choice", "thinking", "service_tier", "container", "mcp_servers"}},
		{At: jsondoc.P("messages[]"), Names: []string{"role", "content"}},
		{At: jsondoc.P("messages[].content[]"), Names: []string{"type", "text", "id", "name", "input", "tool_use_id", "content",
			"is_error", "source", "cache_control", "citations"}},
		{At: jsondoc.P("system[]"), Names: []string{"type", "text", "cache_control", "citations"}},
		{At: jsondoc.P("tools[]"), Names: []string{"name", "description", "input_schema", "type", "cache_control"}},
		{At: jsondoc.P("metadata"), Names: []string{"user_id"}},
		{At: jsondoc.P("tool_choice"), Names: []string{"type", "name", "disable_parallel_tool_use"}},
	},
}

// ParseRequest checks a /v1/messages body strictly (no duplicate keys, no
// case variants of known fields) and translates it into the OpenAI chat
// form the pipeline inspects and forwards.
func ParseRequest(body []byte) ([]byte, error) {
	if _, err := strictDoc(body); err != nil {
		return nil, err
	}
	return ToOpenAIRequest(body)
}

// ParseCountTokens reads a /v1/messages/count_tokens body (a Messages
// request without max_tokens) into the OpenAI chat form, for counting.
func ParseCountTokens(body []byte) ([]byte, error) {
	doc, err := strictDoc(body)
	if err != nil {
		return nil, err
	}
	if doc.Get("max_tokens") == nil {
		doc.Set("max_tokens", &jsondoc.Value{Kind: jsondoc.Number, Str: "1"})
	}
	return ToOpenAIRequest(jsondoc.Encode(doc))
}

// strictDoc parses a body strictly and refuses case variants of known fields.
func strictDoc(body []byte) (*jsondoc.Value, error) {
	doc, err := jsondoc.Parse(body, jsondoc.Limits{})
	if err != nil {
		return nil, parseError(err)
	}
	if doc.Kind != jsondoc.Object {
		return nil, &RequestError{Msg: "request body must be a JSON object"}
	}
	if _, err := jsondoc.InspectData(doc, &MessagesRules, jsondoc.Limits{}); err != nil {
		var fe *jsondoc.FieldError
		if errors.As(err, &fe) {
			return nil, &RequestError{Msg: fmt.Sprintf("%s: differs from a known field only in letter case", fe.Path), Cause: err.Error()}
		}
		return nil, err
	}
	return doc, nil
}

func parseError(err error) error {
	var pe *jsondoc.Error
	if !errors.As(err, &pe) {
		return &RequestError{Msg: "request body is not valid JSON"}
	}
	switch {
	case errors.Is(err, jsondoc.ErrDuplicateKey):
		return &RequestError{Msg: fmt.Sprintf("%s: key given twice; every key must be unique", pe.Path), Cause: err.Error()}
	case errors.Is(err, jsondoc.ErrCaseVariantKey):
		return &RequestError{Msg: fmt.Sprintf("%s: keys differ only in letter case; spell each key once, exactly", pe.Path), Cause: err.Error()}
	case errors.Is(err, jsondoc.ErrTooDeep), errors.Is(err, jsondoc.ErrTooManyValues):
		return &RequestError{Msg: "request body is larger or deeper than this gateway accepts", Code: "request_too_complex"}
	}
	return &RequestError{Msg: fmt.Sprintf("request body is not valid JSON (error at byte offset %d)", pe.Offset)}
}
