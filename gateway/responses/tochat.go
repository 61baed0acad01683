package responses

import (
	"errors"
	"fmt"

	"github.com/custos-gateway/custos/gateway/jsondoc"
)

// ErrUntranslatable means the request uses something chat completions
// cannot carry (a built-in tool, provider-side state, a file by reference).
var ErrUntranslatable = errors.New("responses: request cannot be translated to chat completions")

// TranslateError names what could not be translated. Param is a path as
// this package spells it (with indices); Reason is safe to show the caller.
// Neither holds request text.
type TranslateError struct {
	Param  string
	Reason string
}

func (e *TranslateError) Error() string { return "responses: " + e.Param + ": " + e.Reason }

func (e *TranslateError) Unwrap() error { return ErrUntranslatable }

func untranslatable(param, reason string) error {
	return &TranslateError{Param: param, Reason: reason}
}

// ToChat translates a (redacted) Responses body into a chat completions
// body for an endpoint without the Responses API: instructions become a
// system message first, input items messages (function calls an
// assistant's tool_calls, their outputs tool messages), function tools
// chat tools, text.format a response_format, max_output_tokens
// max_completion_tokens, reasoning.effort reasoning_effort. A streamed
// request asks for usage in the stream. Reasoning items and hints chat has
// no place for (store, include, truncation, service tier, prompt cache,
// verbosity, reasoning summaries, top_logprobs) are left out; what would
// change the answer's meaning is refused with ErrUntranslatable.
func ToChat(body []byte) ([]byte, error) {
	doc, err := jsondoc.Parse(body, jsondoc.Limits{})
	if err != nil {
		return nil, fmt.Errorf("responses: reading the request: %w", err)
	}
	req, err := FromDoc(doc)
	if err != nil {
		return nil, err
	}
	out, err := toChat(req)
	if err != nil {
		return nil, err
	}
	return jsondoc.AppendEncode(make([]byte, 0, len(body)+len(body)/8), out), nil
}

// field translates one top-level member into the chat body.
type field func(out, v *jsondoc.Value) error

// topLevel says what becomes of each top-level member; a member not listed
// is refused.
var topLevel = map[string]field{
	"model": nil, "input": nil, "instructions": nil, // written first, in order
	"stream":              streamField,
	"max_output_tokens":   renamed("max_completion_tokens"),
	"temperature":         renamed("temperature"),
	"top_p":               renamed("top_p"),
	"user":                renamed("user"),
	"metadata":            renamed("metadata"),
	"parallel_tool_calls": renamed("parallel_tool_calls"),
	"tools":               toolsField,
	"tool_choice":         toolChoiceField,
	"text":                textField,
	"reasoning":           reasoningField,
	// Hints chat has no place for; none changes what the answer means.
	"store": dropped, "include": dropped, "truncation": dropped, "service_tier": dropped,
	"prompt_cache_key": dropped, "prompt_cache_retention": dropped, "prompt_cache_options": dropped,
	"safety_identifier": dropped, "stream_options": dropped, "top_logprobs": dropped, "background": dropped,
	"max_tool_calls": dropped,
}

// stateful members name provider-side state or services chat lacks.
var stateful = map[string]string{
	"previous_response_id": "an earlier response stored by the provider cannot be resolved by a chat endpoint",
	"conversation":         "a conversation stored by the provider cannot be resolved by a chat endpoint",
	"prompt":               "a prompt template stored by the provider cannot be resolved by a chat endpoint",
	"context_management":   "server-side context management is not available on a chat endpoint",
	"moderation":           "server-side moderation is not available on a chat endpoint",
}

func toChat(req *Request) (*jsondoc.Value, error) {
	for _, m := range req.Doc.Kids {
		if m.Value.IsNull() {
			continue
		}
		if why, ok := stateful[m.Key]; ok {
			return nil, untranslatable(m.Key, why)
		}
		if _, known := topLevel[m.Key]; !known {
			return nil, untranslatable("", "the request has a field chat completions cannot carry")
		}
	}
	out := jsondoc.NewObject(jsondoc.Member{Key: "model", Value: req.Doc.Get("model")})
	msgs, err := chatMessages(req)
	if err != nil {
		return nil, err
	}
	if len(msgs.Kids) == 0 {
		return nil, untranslatable("input", "the input holds nothing a chat endpoint can take")
	}
	out.Set("messages", msgs)
	for _, m := range req.Doc.Kids {
		if f := topLevel[m.Key]; f != nil && !m.Value.IsNull() {
			if err := f(out, m.Value); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

func renamed(name string) field {
	return func(out, v *jsondoc.Value) error {
		out.Set(name, v)
		return nil
	}
}

func dropped(_, _ *jsondoc.Value) error { return nil }

// streamField asks a streamed answer to end with its usage.
func streamField(out, v *jsondoc.Value) error {
	out.Set("stream", v)
	if v.Str == "true" {
		out.Set("stream_options", jsondoc.NewObject(jsondoc.Member{Key: "include_usage", Value: jsondoc.NewBool(true)}))
	}
	return nil
}

// toolsField translates function tools, which Responses writes flat, into
// chat's nested form; a built-in tool is refused.
func toolsField(out, v *jsondoc.Value) error {
	var tools []jsondoc.Member
	for i, m := range v.Kids {
		t := m.Value
		if typ, _ := t.Get("type").Text(); typ != "function" {
			return untranslatable(fmt.Sprintf("tools[%d]", i), "built-in tool "+typ+" is not available on this endpoint")
		}
		fn := jsondoc.NewObject()
		for _, k := range []string{"name", "description", "parameters", "strict"} {
			if x := t.Get(k); !x.IsNull() {
				fn.Set(k, x)
			}
		}
		tools = append(tools, jsondoc.Member{Value: jsondoc.NewObject(
			jsondoc.Member{Key: "type", Value: jsondoc.NewString("function")},
			jsondoc.Member{Key: "function", Value: fn})})
	}
	if len(tools) > 0 {
		out.Set("tools", &jsondoc.Value{Kind: jsondoc.Array, Kids: tools})
	}
	return nil
}

// toolChoiceField translates tool_choice: the options as they are, a
// function choice into chat's form; other choices are refused.
func toolChoiceField(out, v *jsondoc.Value) error {
	if v.Kind == jsondoc.String {
		out.Set("tool_choice", v)
		return nil
	}
	typ, _ := v.Get("type").Text()
	if typ != "function" {
		return untranslatable("tool_choice", "tool_choice of type "+typ+" is not available on this endpoint")
	}
	out.Set("tool_choice", jsondoc.NewObject(
		jsondoc.Member{Key: "type", Value: jsondoc.NewString("function")},
		jsondoc.Member{Key: "function", Value: jsondoc.NewObject(jsondoc.Member{Key: "name", Value: v.Get("name")})}))
	return nil
}

// textField translates text.format into response_format (plain text needs
// none); verbosity is a hint chat endpoints do not share.
func textField(out, v *jsondoc.Value) error {
	f := v.Get("format")
	typ, _ := f.Get("type").Text()
	switch typ {
	case "json_object":
		out.Set("response_format", jsondoc.NewObject(jsondoc.Member{Key: "type", Value: jsondoc.NewString("json_object")}))
	case "json_schema":
		schema := jsondoc.NewObject()
		for _, k := range []string{"name", "description", "schema", "strict"} {
			if x := f.Get(k); !x.IsNull() {
				schema.Set(k, x)
			}
		}
		out.Set("response_format", jsondoc.NewObject(
			jsondoc.Member{Key: "type", Value: jsondoc.NewString("json_schema")},
			jsondoc.Member{Key: "json_schema", Value: schema}))
	}
	return nil
}

// reasoningField carries reasoning.effort; summaries have no chat form.
func reasoningField(out, v *jsondoc.Value) error {
	if e := v.Get("effort"); !e.IsNull() {
		out.Set("reasoning_effort", e)
	}
	return nil
}
