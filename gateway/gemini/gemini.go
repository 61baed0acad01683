// Package gemini owns the Google Gemini generateContent wire format as
// Custos speaks it: translating OpenAI chat completion requests to Gemini
// requests, and Gemini answers (plain and streamed, function calls included)
// back to the OpenAI form the pipeline works on.
//
// It must never log or put request or answer text into an error.
package gemini

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// ErrUnsupported marks content Custos cannot translate.
var ErrUnsupported = errors.New("gemini: content cannot be translated")

type part struct {
	Text             string          `json:"text,omitempty"`
	FunctionCall     *functionCall   `json:"functionCall,omitempty"`
	FunctionResponse *functionResult `json:"functionResponse,omitempty"`
}

type functionCall struct {
	ID   string          `json:"id,omitempty"`
	Name string          `json:"name"`
	Args json.RawMessage `json:"args"`
}

type functionResult struct {
	ID       string          `json:"id,omitempty"`
	Name     string          `json:"name"`
	Response json.RawMessage `json:"response"`
}

type content struct {
	Role  string `json:"role,omitempty"`
	Parts []part `json:"parts"`
}

// chatRequest is the part of an OpenAI chat completions body Custos
// translates to Gemini. It and its parts alias unnamed structs so that a
// decoding error names a field by its JSON path alone (".messages"), not a
// Go type.
type chatRequest = struct {
	Messages            []chatMessage   `json:"messages"`
	MaxTokens           *int            `json:"max_tokens"`
	MaxCompletionTokens *int            `json:"max_completion_tokens"`
	Temperature         *float64        `json:"temperature"`
	TopP                *float64        `json:"top_p"`
	Stop                json.RawMessage `json:"stop"`
	Tools               []chatTool      `json:"tools"`
	ToolChoice          json.RawMessage `json:"tool_choice"`
}

// chatMessage is one OpenAI chat message.
type chatMessage = struct {
	Role       string          `json:"role"`
	Content    json.RawMessage `json:"content"`
	ToolCallID string          `json:"tool_call_id"`
	ToolCalls  []struct {
		ID       string `json:"id"`
		Function struct {
			Name      string `json:"name"`
			Arguments string `json:"arguments"`
		} `json:"function"`
	} `json:"tool_calls"`
}

// chatTool is one OpenAI function tool.
type chatTool = struct {
	Function struct {
		Name        string          `json:"name"`
		Description string          `json:"description"`
		Parameters  json.RawMessage `json:"parameters"`
	} `json:"function"`
}

// FromOpenAI translates an OpenAI chat completions body to a Gemini
// generateContent body.
func FromOpenAI(body []byte) ([]byte, error) {
	var in chatRequest
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, fmt.Errorf("gemini: reading the OpenAI request: %w", err)
	}
	contents, system, err := contentsFromOpenAI(in.Messages)
	if err != nil {
		return nil, err
	}
	out := map[string]any{"contents": contents}
	if len(system) > 0 {
		out["systemInstruction"] = content{Parts: []part{{Text: strings.Join(system, "\n\n")}}}
	}
	if gen := generationConfig(&in); len(gen) > 0 {
		out["generationConfig"] = gen
	}
	if len(in.Tools) > 0 {
		out["tools"] = []any{map[string]any{"functionDeclarations": functionDeclarations(in.Tools)}}
	}
	if mode := functionCallingMode(in.ToolChoice); mode != "" {
		out["toolConfig"] = map[string]any{"functionCallingConfig": map[string]any{"mode": mode}}
	}
	return json.Marshal(out)
}

// conversation builds Gemini contents, merging consecutive parts of one
// role into one content. It remembers each tool call's function name: a
// Gemini function response names the function it answers, where an OpenAI
// tool message gives only the call's id.
type conversation struct {
	contents  []content
	callNames map[string]string // tool call id → function name
}

// add appends a part to the last content if it has this role, else starts
// a new content.
func (c *conversation) add(role string, p part) {
	if n := len(c.contents); n > 0 && c.contents[n-1].Role == role {
		c.contents[n-1].Parts = append(c.contents[n-1].Parts, p)
		return
	}
	c.contents = append(c.contents, content{Role: role, Parts: []part{p}})
}

// contentsFromOpenAI translates the messages in order; system and developer
// messages are gathered apart, for the system instruction.
func contentsFromOpenAI(msgs []chatMessage) ([]content, []string, error) {
	conv := conversation{callNames: map[string]string{}}
	var system []string
	for _, m := range msgs {
		text, err := plainText(m.Content)
		if err != nil {
			return nil, nil, err
		}
		switch m.Role {
		case "system", "developer":
			system = append(system, text)
		case "user":
			conv.add("user", part{Text: text})
		case "assistant":
			conv.addAssistant(m, text)
		case "tool":
			conv.addToolResult(m, text)
		default:
			return nil, nil, fmt.Errorf("gemini: role %q: %w", m.Role, ErrUnsupported)
		}
	}
	return conv.contents, system, nil
}

// addAssistant adds a model turn: its text, then a functionCall part per
// tool call (arguments that are not JSON become {}).
func (c *conversation) addAssistant(m chatMessage, text string) {
	if text != "" {
		c.add("model", part{Text: text})
	}
	for _, tc := range m.ToolCalls {
		args := json.RawMessage(tc.Function.Arguments)
		if !json.Valid(args) {
			args = json.RawMessage("{}")
		}
		c.callNames[tc.ID] = tc.Function.Name
		c.add("model", part{FunctionCall: &functionCall{Name: tc.Function.Name, Args: args}})
	}
}

// addToolResult adds a tool message as a functionResponse part; a result
// that is not a JSON object is wrapped as {"result": text}.
func (c *conversation) addToolResult(m chatMessage, text string) {
	resp := json.RawMessage(text)
	if !json.Valid(resp) || !bytes.HasPrefix(bytes.TrimSpace(resp), []byte("{")) {
		resp, _ = json.Marshal(map[string]string{"result": text})
	}
	c.add("user", part{FunctionResponse: &functionResult{Name: c.callNames[m.ToolCallID], Response: resp}})
}

// generationConfig translates the sampling and length settings; an empty
// map means none was set.
func generationConfig(in *chatRequest) map[string]any {
	gen := map[string]any{}
	if in.MaxCompletionTokens != nil {
		gen["maxOutputTokens"] = *in.MaxCompletionTokens
	} else if in.MaxTokens != nil {
		gen["maxOutputTokens"] = *in.MaxTokens
	}
	if in.Temperature != nil {
		gen["temperature"] = *in.Temperature
	}
	if in.TopP != nil {
		gen["topP"] = *in.TopP
	}
	if len(in.Stop) > 0 && !bytes.Equal(in.Stop, []byte("null")) {
		var one string
		var many []string
		if json.Unmarshal(in.Stop, &one) == nil {
			gen["stopSequences"] = []string{one}
		} else if json.Unmarshal(in.Stop, &many) == nil {
			gen["stopSequences"] = many
		}
	}
	return gen
}

// functionDeclarations translates function tools.
func functionDeclarations(tools []chatTool) []any {
	var decls []any
	for _, t := range tools {
		d := map[string]any{"name": t.Function.Name}
		if t.Function.Description != "" {
			d["description"] = t.Function.Description
		}
		if len(t.Function.Parameters) > 0 {
			d["parameters"] = t.Function.Parameters
		}
		decls = append(decls, d)
	}
	return decls
}

// functionCallingMode translates a tool_choice of "auto", "required" or
// "none"; "" leaves the tool config out.
func functionCallingMode(toolChoice json.RawMessage) string {
	var s string
	if len(toolChoice) == 0 || json.Unmarshal(toolChoice, &s) != nil {
		return ""
	}
	return map[string]string{"auto": "AUTO", "required": "ANY", "none": "NONE"}[s]
}

func plainText(raw json.RawMessage) (string, error) {
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return "", nil
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, nil
	}
	var parts []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	if err := json.Unmarshal(raw, &parts); err != nil {
		return "", ErrUnsupported
	}
	var b strings.Builder
	for _, p := range parts {
		if p.Type != "text" {
			return "", fmt.Errorf("gemini: content part %q: %w", p.Type, ErrUnsupported)
		}
		b.WriteString(p.Text)
	}
	return b.String(), nil
}

// Response is a Gemini generateContent answer (or one stream chunk).
type Response struct {
	Candidates []struct {
		Content      content `json:"content"`
		FinishReason string  `json:"finishReason"`
		Index        int     `json:"index"`
	} `json:"candidates"`
	UsageMetadata *struct {
		PromptTokenCount        int64 `json:"promptTokenCount"`
		CandidatesTokenCount    int64 `json:"candidatesTokenCount"`
		TotalTokenCount         int64 `json:"totalTokenCount"`
		CachedContentTokenCount int64 `json:"cachedContentTokenCount"`
	} `json:"usageMetadata"`
	ResponseID string `json:"responseId"`
}

func finishReason(r string, calls bool) any {
	switch {
	case r == "":
		return nil
	case calls:
		return "tool_calls"
	case r == "MAX_TOKENS":
		return "length"
	case r == "SAFETY" || r == "RECITATION" || r == "BLOCKLIST" || r == "PROHIBITED_CONTENT" || r == "SPII":
		return "content_filter"
	}
	return "stop"
}

func usage(r *Response) map[string]any {
	if r.UsageMetadata == nil {
		return nil
	}
	u := r.UsageMetadata
	return map[string]any{"prompt_tokens": u.PromptTokenCount, "completion_tokens": u.CandidatesTokenCount,
		"total_tokens": u.PromptTokenCount + u.CandidatesTokenCount, "prompt_tokens_details": map[string]any{"cached_tokens": u.CachedContentTokenCount}}
}

// ToOpenAI translates a Gemini answer into a chat completion.
func ToOpenAI(body []byte, model string, created int64) ([]byte, error) {
	var r Response
	if err := json.Unmarshal(body, &r); err != nil || len(r.Candidates) == 0 {
		return nil, fmt.Errorf("gemini: the answer has no candidates")
	}
	c := r.Candidates[0]
	var text strings.Builder
	var calls []any
	for i, p := range c.Content.Parts {
		if p.FunctionCall != nil {
			id := p.FunctionCall.ID
			if id == "" {
				id = fmt.Sprintf("call_%d", i)
			}
			calls = append(calls, map[string]any{"id": id, "type": "function", "function": map[string]any{"name": p.FunctionCall.Name, "arguments": string(p.FunctionCall.Args)}})
			continue
		}
		text.WriteString(p.Text)
	}
	msg := map[string]any{"role": "assistant", "content": text.String(), "refusal": nil}
	if len(calls) > 0 {
		msg["tool_calls"] = calls
		if text.Len() == 0 {
			msg["content"] = nil
		}
	}
	out := map[string]any{"id": "chatcmpl-" + r.ResponseID, "object": "chat.completion", "created": created, "model": model,
		"choices": []any{map[string]any{"index": 0, "message": msg, "finish_reason": finishReason(c.FinishReason, len(calls) > 0), "logprobs": nil}}}
	if u := usage(&r); u != nil {
		out["usage"] = u
	}
	return json.Marshal(out)
}

// StreamToOpenAI turns Gemini stream chunks into OpenAI chunk payloads.
// Gemini ends a stream without a marker; End emits the usage and [DONE].
type StreamToOpenAI struct {
	Model        string
	Created      int64
	IncludeUsage bool
	started      bool
	calls        int
	finished     bool
	last         *Response
}

// Event translates one Gemini chunk.
func (s *StreamToOpenAI) Event(data []byte) ([][]byte, error) {
	var r Response
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("gemini: unreadable stream chunk")
	}
	if r.UsageMetadata != nil {
		s.last = &r
	}
	chunk := func(delta map[string]any, finish any) []byte {
		b, _ := json.Marshal(map[string]any{"id": "chatcmpl-" + r.ResponseID, "object": "chat.completion.chunk", "created": s.Created, "model": s.Model,
			"choices": []any{map[string]any{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": nil}}})
		return b
	}
	var out [][]byte
	if !s.started {
		s.started = true
		out = append(out, chunk(map[string]any{"role": "assistant", "content": ""}, nil))
	}
	for _, c := range r.Candidates {
		for _, p := range c.Content.Parts {
			if p.FunctionCall != nil {
				i := s.calls
				s.calls++
				id := p.FunctionCall.ID
				if id == "" {
					id = fmt.Sprintf("call_%d", i)
				}
				out = append(out, chunk(map[string]any{"tool_calls": []any{map[string]any{"index": i, "id": id, "type": "function",
					"function": map[string]any{"name": p.FunctionCall.Name, "arguments": string(p.FunctionCall.Args)}}}}, nil))
			} else if p.Text != "" {
				out = append(out, chunk(map[string]any{"content": p.Text}, nil))
			}
		}
		if c.FinishReason != "" && !s.finished {
			s.finished = true
			out = append(out, chunk(map[string]any{}, finishReason(c.FinishReason, s.calls > 0)))
		}
	}
	return out, nil
}

// End is called when the Gemini stream ends; it reports whether the stream
// had finished (else it was cut) and the closing payloads.
func (s *StreamToOpenAI) End() ([][]byte, bool) {
	if !s.finished {
		return nil, false
	}
	var out [][]byte
	if s.IncludeUsage && s.last != nil {
		b, _ := json.Marshal(map[string]any{"id": "chatcmpl-" + s.last.ResponseID, "object": "chat.completion.chunk", "created": s.Created,
			"model": s.Model, "choices": []any{}, "usage": usage(s.last)})
		out = append(out, b)
	}
	return append(out, []byte("[DONE]")), true
}
