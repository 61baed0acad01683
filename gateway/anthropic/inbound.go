package anthropic

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// RequestError is a client mistake in a /v1/messages body; its message names
// fields, never content. Cause, when set, is what is logged instead (Msg may
// name the caller's own keys).
type RequestError struct {
	Msg   string
	Cause string
	Code  string // a stable code when more specific than invalid_request
}

func (e *RequestError) Error() string {
	if e.Cause != "" {
		return e.Cause
	}
	return e.Msg
}

// messagesRequest is the part of a /v1/messages body Custos translates.
type messagesRequest struct {
	Model         string           `json:"model"`
	System        json.RawMessage  `json:"system"`
	Messages      []inboundMessage `json:"messages"`
	MaxTokens     *int             `json:"max_tokens"`
	Temperature   *float64         `json:"temperature"`
	TopP          *float64         `json:"top_p"`
	StopSequences []string         `json:"stop_sequences"`
	Stream        bool             `json:"stream"`
	Tools         []Tool           `json:"tools"`
	ToolChoice    json.RawMessage  `json:"tool_choice"`
	Metadata      struct {
		UserID string `json:"user_id"`
	} `json:"metadata"`
}

// inboundMessage is one message of a /v1/messages body; Content is a string
// or an array of blocks.
type inboundMessage struct {
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
}

// ToOpenAIRequest translates an Anthropic Messages request (from an app using
// the Anthropic SDK) into the OpenAI chat form Custos's pipeline works on.
func ToOpenAIRequest(body []byte) ([]byte, error) {
	in, err := decodeMessagesRequest(body)
	if err != nil {
		return nil, err
	}
	msgs, err := toOpenAIMessages(in.System, in.Messages)
	if err != nil {
		return nil, err
	}
	out := map[string]any{"model": in.Model, "messages": msgs, "max_tokens": *in.MaxTokens}
	if in.Temperature != nil {
		out["temperature"] = *in.Temperature
	}
	if in.TopP != nil {
		out["top_p"] = *in.TopP
	}
	if len(in.StopSequences) > 0 {
		out["stop"] = in.StopSequences
	}
	if in.Stream {
		out["stream"] = true
	}
	if in.Metadata.UserID != "" {
		out["user"] = in.Metadata.UserID
	}
	if len(in.Tools) > 0 {
		out["tools"] = toOpenAITools(in.Tools)
	}
	if tc, ok := toOpenAIToolChoice(in.ToolChoice); ok {
		out["tool_choice"] = tc
	}
	return json.Marshal(out)
}

// decodeMessagesRequest reads a /v1/messages body and checks the fields
// every request needs.
func decodeMessagesRequest(body []byte) (*messagesRequest, error) {
	var in messagesRequest
	if err := json.Unmarshal(body, &in); err != nil {
		var syn *json.SyntaxError
		if ok := asSyntax(err, &syn); ok {
			return nil, &RequestError{Msg: fmt.Sprintf("request body is not valid JSON (error at byte offset %d)", syn.Offset)}
		}
		return nil, &RequestError{Msg: "request body does not have the Messages API shape"}
	}
	switch {
	case in.Model == "":
		return nil, &RequestError{Msg: "model: field required"}
	case in.MaxTokens == nil:
		return nil, &RequestError{Msg: "max_tokens: field required"}
	case len(in.Messages) == 0:
		return nil, &RequestError{Msg: "messages: at least one message is required"}
	}
	return &in, nil
}

// toOpenAIMessages translates the system prompt and the messages, in order.
func toOpenAIMessages(system json.RawMessage, messages []inboundMessage) ([]map[string]any, error) {
	var msgs []map[string]any
	if len(system) > 0 && !bytes.Equal(system, []byte("null")) {
		sys, err := blocksText(system)
		if err != nil {
			return nil, err
		}
		msgs = append(msgs, map[string]any{"role": "system", "content": sys})
	}
	for i, m := range messages {
		translated, err := toOpenAIMessage(i, m)
		if err != nil {
			return nil, err
		}
		msgs = append(msgs, translated...)
	}
	return msgs, nil
}

// toOpenAIMessage translates message i: a string content becomes one
// message; blocks become one tool message per tool_result, then one message
// with the text parts and tool calls, if any.
func toOpenAIMessage(i int, m inboundMessage) ([]map[string]any, error) {
	if m.Role != "user" && m.Role != "assistant" {
		return nil, &RequestError{Msg: fmt.Sprintf("messages.%d.role: must be user or assistant", i)}
	}
	var s string
	if json.Unmarshal(m.Content, &s) == nil {
		return []map[string]any{{"role": m.Role, "content": s}}, nil
	}
	var blocks []Block
	if err := json.Unmarshal(m.Content, &blocks); err != nil {
		return nil, &RequestError{Msg: fmt.Sprintf("messages.%d.content: must be a string or an array of blocks", i)}
	}
	var msgs, text, calls []map[string]any
	for _, b := range blocks {
		switch b.Type {
		case "text":
			text = append(text, map[string]any{"type": "text", "text": b.Text})
		case "tool_use":
			calls = append(calls, toOpenAIToolCall(b))
		case "tool_result":
			result, err := blocksText(b.Content)
			if err != nil {
				return nil, err
			}
			msgs = append(msgs, map[string]any{"role": "tool", "tool_call_id": b.ToolUseID, "content": result})
		default:
			// Images and documents: passed on as a part the inspector
			// cannot read, so that policy refuses or allows it knowingly.
			text = append(text, map[string]any{"type": b.Type})
		}
	}
	if len(text) == 0 && len(calls) == 0 {
		return msgs, nil
	}
	msg := map[string]any{"role": m.Role}
	if len(text) > 0 {
		msg["content"] = text
	} else {
		msg["content"] = nil
	}
	if len(calls) > 0 {
		msg["tool_calls"] = calls
	}
	return append(msgs, msg), nil
}

// toOpenAIToolCall translates a tool_use block into an OpenAI tool call.
func toOpenAIToolCall(b Block) map[string]any {
	args := string(b.Input)
	if args == "" {
		args = "{}"
	}
	return map[string]any{"id": b.ID, "type": "function", "function": map[string]any{"name": b.Name, "arguments": args}}
}

// toOpenAITools translates tool definitions into OpenAI function tools.
func toOpenAITools(tools []Tool) []any {
	var out []any
	for _, t := range tools {
		out = append(out, map[string]any{"type": "function", "function": map[string]any{
			"name": t.Name, "description": t.Description, "parameters": t.InputSchema}})
	}
	return out
}

// toOpenAIToolChoice translates a tool_choice; ok is false when there is
// none or it is not understood, and the field is then left out.
func toOpenAIToolChoice(raw json.RawMessage) (choice any, ok bool) {
	if len(raw) == 0 {
		return nil, false
	}
	var tc struct {
		Type string `json:"type"`
		Name string `json:"name"`
	}
	if json.Unmarshal(raw, &tc) != nil {
		return nil, false
	}
	switch tc.Type {
	case "auto":
		return "auto", true
	case "any":
		return "required", true
	case "none":
		return "none", true
	case "tool":
		return map[string]any{"type": "function", "function": map[string]any{"name": tc.Name}}, true
	}
	return nil, false
}

func asSyntax(err error, target **json.SyntaxError) bool {
	se, ok := err.(*json.SyntaxError)
	if ok {
		*target = se
	}
	return ok
}

// blocksText reads a string or an array of text blocks.
func blocksText(raw json.RawMessage) (string, error) {
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return "", nil
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, nil
	}
	var blocks []Block
	if err := json.Unmarshal(raw, &blocks); err != nil {
		return "", &RequestError{Msg: "content: must be a string or an array of text blocks"}
	}
	var b strings.Builder
	for _, bl := range blocks {
		if bl.Type != "text" {
			return "", &RequestError{Msg: "only text blocks are accepted in system prompts and tool results"}
		}
		b.WriteString(bl.Text)
	}
	return b.String(), nil
}

func stopReason(finish string) string {
	switch finish {
	case "length":
		return "max_tokens"
	case "tool_calls", "function_call":
		return "tool_use"
	}
	return "end_turn"
}

// FromOpenAIResponse turns a chat completion into a Messages answer.
func FromOpenAIResponse(body []byte, model string) ([]byte, error) {
	var r struct {
		ID      string `json:"id"`
		Choices []struct {
			Message struct {
				Content   *string       `json:"content"`
				ToolCalls []oaiToolCall `json:"tool_calls"`
			} `json:"message"`
			FinishReason string `json:"finish_reason"`
		} `json:"choices"`
		Usage struct {
			PromptTokens        int64 `json:"prompt_tokens"`
			CompletionTokens    int64 `json:"completion_tokens"`
			PromptTokensDetails struct {
				CachedTokens int64 `json:"cached_tokens"`
			} `json:"prompt_tokens_details"`
		} `json:"usage"`
	}
	if err := json.Unmarshal(body, &r); err != nil || len(r.Choices) == 0 {
		return nil, fmt.Errorf("anthropic: the answer is not a chat completion")
	}
	c := r.Choices[0]
	content := []map[string]any{}
	if c.Message.Content != nil && *c.Message.Content != "" {
		content = append(content, map[string]any{"type": "text", "text": *c.Message.Content})
	}
	for _, tc := range c.Message.ToolCalls {
		input := json.RawMessage(tc.Function.Arguments)
		if !json.Valid(input) {
			input = json.RawMessage("{}")
		}
		content = append(content, map[string]any{"type": "tool_use", "id": tc.ID, "name": tc.Function.Name, "input": input})
	}
	id := r.ID
	if !strings.HasPrefix(id, "msg_") {
		id = "msg_" + id
	}
	return json.Marshal(map[string]any{
		"id": id, "type": "message", "role": "assistant", "model": model, "content": content,
		"stop_reason": stopReason(c.FinishReason), "stop_sequence": nil,
		"usage": map[string]any{"input_tokens": r.Usage.PromptTokens - r.Usage.PromptTokensDetails.CachedTokens,
			"output_tokens": r.Usage.CompletionTokens, "cache_read_input_tokens": r.Usage.PromptTokensDetails.CachedTokens},
	})
}

// StreamFromOpenAI turns OpenAI chunks into Anthropic stream events.
type StreamFromOpenAI struct {
	Model   string
	started bool
	open    int // index of the open content block, -1 none
	kind    string
	blocks  int
	tools   map[int]int // tool call index → content block index
	finish  string
	usage   struct{ in, out, cached int64 }
}

// NamedEvent is one Anthropic SSE event.
type NamedEvent struct {
	Name string
	Data []byte
}

func ev(name string, v any) NamedEvent {
	b, _ := json.Marshal(v)
	return NamedEvent{Name: name, Data: b}
}

// openAIChunk is the part of an OpenAI stream chunk Custos translates.
type openAIChunk struct {
	ID      string `json:"id"`
	Choices []struct {
		Delta struct {
			Content   *string               `json:"content"`
			ToolCalls []openAIToolCallDelta `json:"tool_calls"`
		} `json:"delta"`
		FinishReason *string `json:"finish_reason"`
	} `json:"choices"`
	Usage *struct {
		PromptTokens        int64 `json:"prompt_tokens"`
		CompletionTokens    int64 `json:"completion_tokens"`
		PromptTokensDetails struct {
			CachedTokens int64 `json:"cached_tokens"`
		} `json:"prompt_tokens_details"`
	} `json:"usage"`
}

// openAIToolCallDelta is one piece of a streamed tool call.
type openAIToolCallDelta struct {
	Index    int    `json:"index"`
	ID       string `json:"id"`
	Function struct {
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	} `json:"function"`
}

// Chunk translates one OpenAI data payload ("[DONE]" included).
func (s *StreamFromOpenAI) Chunk(data []byte) []NamedEvent {
	if s.tools == nil {
		s.tools = map[int]int{}
		s.open = -1
	}
	if bytes.Equal(bytes.TrimSpace(data), []byte("[DONE]")) {
		return s.done()
	}
	var c openAIChunk
	if json.Unmarshal(data, &c) != nil {
		return nil
	}
	out := s.start(c.ID)
	if u := c.Usage; u != nil {
		// Anthropic counts cache reads apart from input tokens.
		s.usage.in, s.usage.out = u.PromptTokens-u.PromptTokensDetails.CachedTokens, u.CompletionTokens
		s.usage.cached = u.PromptTokensDetails.CachedTokens
	}
	for _, ch := range c.Choices {
		if t := ch.Delta.Content; t != nil && *t != "" {
			out = append(out, s.textDelta(*t)...)
		}
		for _, tc := range ch.Delta.ToolCalls {
			out = append(out, s.toolCallDelta(tc)...)
		}
		if ch.FinishReason != nil {
			s.finish = *ch.FinishReason
		}
	}
	return out
}

// start opens the message on the first chunk (no event afterwards).
func (s *StreamFromOpenAI) start(id string) []NamedEvent {
	if s.started {
		return nil
	}
	s.started = true
	return []NamedEvent{ev("message_start", map[string]any{"type": "message_start", "message": map[string]any{
		"id": "msg_" + id, "type": "message", "role": "assistant", "model": s.Model, "content": []any{},
		"stop_reason": nil, "stop_sequence": nil, "usage": map[string]any{"input_tokens": 0, "output_tokens": 0}}})}
}

// closeBlock closes the open content block, if any.
func (s *StreamFromOpenAI) closeBlock() []NamedEvent {
	if s.open < 0 {
		return nil
	}
	e := ev("content_block_stop", map[string]any{"type": "content_block_stop", "index": s.open})
	s.open = -1
	return []NamedEvent{e}
}

// done ends the message at "[DONE]": the open block closes, then the stop
// reason and usage follow.
func (s *StreamFromOpenAI) done() []NamedEvent {
	out := s.start("custos")
	out = append(out, s.closeBlock()...)
	out = append(out, ev("message_delta", map[string]any{"type": "message_delta",
		"delta": map[string]any{"stop_reason": stopReason(s.finish), "stop_sequence": nil},
		"usage": map[string]any{"input_tokens": s.usage.in, "output_tokens": s.usage.out,
			"cache_read_input_tokens": s.usage.cached}}))
	return append(out, ev("message_stop", map[string]any{"type": "message_stop"}))
}

// textDelta continues the open text block, or opens a new one.
func (s *StreamFromOpenAI) textDelta(t string) []NamedEvent {
	var out []NamedEvent
	if s.kind != "text" || s.open < 0 {
		out = s.closeBlock()
		s.open, s.kind = s.blocks, "text"
		s.blocks++
		out = append(out, ev("content_block_start", map[string]any{"type": "content_block_start", "index": s.open,
			"content_block": map[string]any{"type": "text", "text": ""}}))
	}
	return append(out, ev("content_block_delta", map[string]any{"type": "content_block_delta", "index": s.open,
		"delta": map[string]any{"type": "text_delta", "text": t}}))
}

// toolCallDelta opens a tool_use block for a tool call seen first, and
// passes its argument text on as input_json_delta.
func (s *StreamFromOpenAI) toolCallDelta(tc openAIToolCallDelta) []NamedEvent {
	var out []NamedEvent
	idx, known := s.tools[tc.Index]
	if !known {
		out = s.closeBlock()
		idx = s.blocks
		s.blocks++
		s.tools[tc.Index] = idx
		s.open, s.kind = idx, "tool"
		out = append(out, ev("content_block_start", map[string]any{"type": "content_block_start", "index": idx,
			"content_block": map[string]any{"type": "tool_use", "id": tc.ID, "name": tc.Function.Name, "input": map[string]any{}}}))
	}
	if tc.Function.Arguments != "" {
		out = append(out, ev("content_block_delta", map[string]any{"type": "content_block_delta", "index": idx,
			"delta": map[string]any{"type": "input_json_delta", "partial_json": tc.Function.Arguments}}))
	}
	return out
}

// ErrorBody encodes an Anthropic error body.
func ErrorBody(typ, message string) []byte {
	b, _ := json.Marshal(map[string]any{"type": "error", "error": map[string]any{"type": typ, "message": message}})
	return b
}
