package anthropic

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Version is the anthropic-version header Custos sends.
const Version = "2023-06-01"

// DefaultMaxTokens is used when an OpenAI request sets no limit; Anthropic
// requires one.
const DefaultMaxTokens = 4096

// ErrUnsupported marks content Custos cannot translate (e.g. audio).
var ErrUnsupported = errors.New("anthropic: content cannot be translated")

// --- OpenAI request → Anthropic request (outbound) ---

type oaiMessage struct {
	Role       string          `json:"role"`
	Content    json.RawMessage `json:"content"`
	Name       string          `json:"name,omitempty"`
	ToolCalls  []oaiToolCall   `json:"tool_calls,omitempty"`
	ToolCallID string          `json:"tool_call_id,omitempty"`
}

type oaiToolCall struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Function struct {
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	} `json:"function"`
}

type oaiTool struct {
	Type     string `json:"type"`
	Function struct {
		Name        string          `json:"name"`
		Description string          `json:"description,omitempty"`
		Parameters  json.RawMessage `json:"parameters,omitempty"`
	} `json:"function"`
}

// Block is an Anthropic content block.
type Block struct {
	Type      string          `json:"type"`
	Text      string          `json:"text,omitempty"`
	ID        string          `json:"id,omitempty"`
	Name      string          `json:"name,omitempty"`
	Input     json.RawMessage `json:"input,omitempty"`
	ToolUseID string          `json:"tool_use_id,omitempty"`
	Content   json.RawMessage `json:"content,omitempty"`
	IsError   bool            `json:"is_error,omitempty"`
}

// Message is an Anthropic message.
type Message struct {
	Role    string  `json:"role"`
	Content []Block `json:"content"`
}

// Tool is an Anthropic tool definition.
type Tool struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	InputSchema json.RawMessage `json:"input_schema"`
}

// Request is an Anthropic Messages request.
type Request struct {
	Model         string          `json:"model"`
	System        json.RawMessage `json:"system,omitempty"`
	Messages      []Message       `json:"messages"`
	MaxTokens     int             `json:"max_tokens"`
	Temperature   *float64        `json:"temperature,omitempty"`
	TopP          *float64        `json:"top_p,omitempty"`
	StopSequences []string        `json:"stop_sequences,omitempty"`
	Stream        bool            `json:"stream,omitempty"`
	Tools         []Tool          `json:"tools,omitempty"`
	ToolChoice    json.RawMessage `json:"tool_choice,omitempty"`
	Metadata      json.RawMessage `json:"metadata,omitempty"`
}

// chatRequest is the part of an OpenAI chat completions body Custos
// translates to Anthropic. It aliases an unnamed struct so that a decoding
// error names a field by its JSON path alone (".messages"), not a Go type.
type chatRequest = struct {
	Model               string          `json:"model"`
	Messages            []oaiMessage    `json:"messages"`
	MaxTokens           *int            `json:"max_tokens"`
	MaxCompletionTokens *int            `json:"max_completion_tokens"`
	Temperature         *float64        `json:"temperature"`
	TopP                *float64        `json:"top_p"`
	Stop                json.RawMessage `json:"stop"`
	Stream              bool            `json:"stream"`
	Tools               []oaiTool       `json:"tools"`
	ToolChoice          json.RawMessage `json:"tool_choice"`
}

// FromOpenAI translates an OpenAI chat completions body to a Messages body.
func FromOpenAI(body []byte) ([]byte, error) {
	var in chatRequest
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, fmt.Errorf("anthropic: reading the OpenAI request: %w", err)
	}
	out := Request{Model: in.Model, Temperature: in.Temperature, TopP: in.TopP, Stream: in.Stream, MaxTokens: DefaultMaxTokens}
	if in.MaxCompletionTokens != nil {
		out.MaxTokens = *in.MaxCompletionTokens
	} else if in.MaxTokens != nil {
		out.MaxTokens = *in.MaxTokens
	}
	stop, err := stopSequences(in.Stop)
	if err != nil {
		return nil, err
	}
	out.StopSequences = stop
	msgs, system, err := fromOpenAIMessages(in.Messages)
	if err != nil {
		return nil, err
	}
	out.Messages = msgs
	if len(system) > 0 {
		out.System, _ = json.Marshal(strings.Join(system, "\n\n"))
	}
	out.Tools = fromOpenAITools(in.Tools)
	out.ToolChoice = fromOpenAIToolChoice(in.ToolChoice)
	return json.Marshal(out)
}

// stopSequences reads OpenAI's stop, a string or an array of strings.
func stopSequences(raw json.RawMessage) ([]string, error) {
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, nil
	}
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return []string{one}, nil
	}
	var many []string
	if err := json.Unmarshal(raw, &many); err != nil {
		return nil, fmt.Errorf("anthropic: stop must be a string or an array: %w", ErrUnsupported)
	}
	return many, nil
}

// fromOpenAIMessages translates the messages in order, merging consecutive
// ones of a role; system and developer messages are gathered apart, for
// the system prompt.
func fromOpenAIMessages(in []oaiMessage) (msgs []Message, system []string, err error) {
	for _, m := range in {
		switch m.Role {
		case "system", "developer":
			t, err := plainText(m.Content)
			if err != nil {
				return nil, nil, err
			}
			system = append(system, t)
		case "user":
			blocks, err := contentBlocks(m.Content)
			if err != nil {
				return nil, nil, err
			}
			msgs = appendMessage(msgs, "user", blocks)
		case "assistant":
			blocks, err := assistantBlocks(m)
			if err != nil {
				return nil, nil, err
			}
			msgs = appendMessage(msgs, "assistant", blocks)
		case "tool":
			block, err := toolResultBlock(m)
			if err != nil {
				return nil, nil, err
			}
			msgs = appendMessage(msgs, "user", []Block{block})
		default:
			return nil, nil, fmt.Errorf("anthropic: role %q: %w", m.Role, ErrUnsupported)
		}
	}
	return msgs, system, nil
}

// assistantBlocks translates an assistant message: its text, then a
// tool_use block per tool call (arguments that are not JSON become {}).
func assistantBlocks(m oaiMessage) ([]Block, error) {
	blocks, err := contentBlocks(m.Content)
	if err != nil {
		return nil, err
	}
	for _, tc := range m.ToolCalls {
		input := json.RawMessage(tc.Function.Arguments)
		if !json.Valid(input) || len(bytes.TrimSpace(input)) == 0 {
			input = json.RawMessage("{}")
		}
		blocks = append(blocks, Block{Type: "tool_use", ID: tc.ID, Name: tc.Function.Name, Input: input})
	}
	return blocks, nil
}

// toolResultBlock translates a tool message into a tool_result block.
func toolResultBlock(m oaiMessage) (Block, error) {
	t, err := plainText(m.Content)
	if err != nil {
		return Block{}, err
	}
	c, _ := json.Marshal(t)
	return Block{Type: "tool_result", ToolUseID: m.ToolCallID, Content: c}, nil
}

// fromOpenAITools translates function tools; a tool without parameters
// gets an empty object schema, as Anthropic requires one.
func fromOpenAITools(tools []oaiTool) []Tool {
	var out []Tool
	for _, t := range tools {
		schema := t.Function.Parameters
		if len(schema) == 0 {
			schema = json.RawMessage(`{"type":"object","properties":{}}`)
		}
		out = append(out, Tool{Name: t.Function.Name, Description: t.Function.Description, InputSchema: schema})
	}
	return out
}

// fromOpenAIToolChoice translates tool_choice ("auto", "required", "none"
// or a named function); nil leaves it out.
func fromOpenAIToolChoice(raw json.RawMessage) json.RawMessage {
	if len(raw) == 0 {
		return nil
	}
	var s string
	var obj struct {
		Function struct {
			Name string `json:"name"`
		} `json:"function"`
	}
	switch {
	case json.Unmarshal(raw, &s) == nil:
		switch s {
		case "auto":
			return json.RawMessage(`{"type":"auto"}`)
		case "required":
			return json.RawMessage(`{"type":"any"}`)
		case "none":
			return json.RawMessage(`{"type":"none"}`)
		}
	case json.Unmarshal(raw, &obj) == nil && obj.Function.Name != "":
		choice, _ := json.Marshal(map[string]string{"type": "tool", "name": obj.Function.Name})
		return choice
	}
	return nil
}

// appendMessage merges consecutive messages of one role, as Anthropic wants
// roles to alternate.
func appendMessage(msgs []Message, role string, blocks []Block) []Message {
	if len(blocks) == 0 {
		return msgs
	}
	if n := len(msgs); n > 0 && msgs[n-1].Role == role {
		msgs[n-1].Content = append(msgs[n-1].Content, blocks...)
		return msgs
	}
	return append(msgs, Message{Role: role, Content: blocks})
}

func plainText(raw json.RawMessage) (string, error) {
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return "", nil
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, nil
	}
	blocks, err := contentBlocks(raw)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for _, bl := range blocks {
		b.WriteString(bl.Text)
	}
	return b.String(), nil
}

func contentBlocks(raw json.RawMessage) ([]Block, error) {
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, nil
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		if s == "" {
			return nil, nil
		}
		return []Block{{Type: "text", Text: s}}, nil
	}
	var parts []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	if err := json.Unmarshal(raw, &parts); err != nil {
		return nil, fmt.Errorf("anthropic: content: %w", ErrUnsupported)
	}
	var out []Block
	for _, p := range parts {
		if p.Type != "text" {
			return nil, fmt.Errorf("anthropic: content part %q: %w", p.Type, ErrUnsupported)
		}
		out = append(out, Block{Type: "text", Text: p.Text})
	}
	return out, nil
}

// --- Anthropic answer → OpenAI answer (outbound, back) ---

// Response is an Anthropic Messages answer.
type Response struct {
	ID         string  `json:"id"`
	Type       string  `json:"type"`
	Role       string  `json:"role"`
	Model      string  `json:"model"`
	Content    []Block `json:"content"`
	StopReason string  `json:"stop_reason"`
	Usage      Usage   `json:"usage"`
}

// Usage is Anthropic's token accounting.
type Usage struct {
	InputTokens              int64 `json:"input_tokens"`
	OutputTokens             int64 `json:"output_tokens"`
	CacheReadInputTokens     int64 `json:"cache_read_input_tokens,omitempty"`
	CacheCreationInputTokens int64 `json:"cache_creation_input_tokens,omitempty"`
}

// openAIUsage is u in the OpenAI form: the prompt counts every input token
// (Anthropic counts cache reads and writes apart), with cache reads as
// cached_tokens and cache writes as cache_write_tokens.
func (u Usage) openAIUsage() map[string]any {
	prompt := u.InputTokens + u.CacheReadInputTokens + u.CacheCreationInputTokens
	return map[string]any{
		"prompt_tokens": prompt, "completion_tokens": u.OutputTokens, "total_tokens": prompt + u.OutputTokens,
		"prompt_tokens_details": map[string]any{"cached_tokens": u.CacheReadInputTokens, "cache_write_tokens": u.CacheCreationInputTokens},
	}
}

func finishReason(stop string) string {
	switch stop {
	case "max_tokens":
		return "length"
	case "tool_use":
		return "tool_calls"
	case "refusal":
		return "content_filter"
	}
	return "stop"
}

// ToOpenAI translates a Messages answer into a chat completion.
func ToOpenAI(body []byte, created int64) ([]byte, error) {
	var r Response
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("anthropic: reading the answer: %w", err)
	}
	var text strings.Builder
	var calls []map[string]any
	for _, b := range r.Content {
		switch b.Type {
		case "text":
			text.WriteString(b.Text)
		case "tool_use":
			args := string(b.Input)
			if args == "" {
				args = "{}"
			}
			calls = append(calls, map[string]any{"id": b.ID, "type": "function", "function": map[string]any{"name": b.Name, "arguments": args}})
		}
	}
	msg := map[string]any{"role": "assistant", "content": text.String(), "refusal": nil}
	if len(calls) > 0 {
		msg["tool_calls"] = calls
		if text.Len() == 0 {
			msg["content"] = nil
		}
	}
	usage := r.Usage.openAIUsage()
	return json.Marshal(map[string]any{
		"id": r.ID, "object": "chat.completion", "created": created, "model": r.Model,
		"choices": []any{map[string]any{"index": 0, "message": msg, "finish_reason": finishReason(r.StopReason), "logprobs": nil}},
		"usage":   usage,
	})
}
