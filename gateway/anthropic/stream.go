package anthropic

import (
	"encoding/json"
	"fmt"
)

// StreamToOpenAI turns Anthropic stream events into OpenAI chunk payloads.
type StreamToOpenAI struct {
	ID           string
	Model        string
	Created      int64
	IncludeUsage bool

	toolIndex map[int]int // content block index → tool call index
	tools     int
	usage     Usage
	stop      string
}

// ErrStreamError is an error event inside an Anthropic stream.
var ErrStreamError = fmt.Errorf("anthropic: error event in stream")

// streamEvent is the part of an Anthropic stream event Custos translates.
type streamEvent struct {
	Type    string `json:"type"`
	Index   int    `json:"index"`
	Message struct {
		ID    string `json:"id"`
		Model string `json:"model"`
		Usage Usage  `json:"usage"`
	} `json:"message"`
	ContentBlock Block `json:"content_block"`
	Delta        struct {
		Type        string `json:"type"`
		Text        string `json:"text"`
		PartialJSON string `json:"partial_json"`
		StopReason  string `json:"stop_reason"`
	} `json:"delta"`
	Usage Usage `json:"usage"`
}

// Event translates one event; it returns zero or more OpenAI data payloads
// ("[DONE]" last).
func (s *StreamToOpenAI) Event(name string, data []byte) ([][]byte, error) {
	if s.toolIndex == nil {
		s.toolIndex = map[int]int{}
	}
	var ev streamEvent
	if err := json.Unmarshal(data, &ev); err != nil {
		return nil, fmt.Errorf("anthropic: unreadable stream event")
	}
	if ev.Type == "" {
		ev.Type = name
	}
	switch ev.Type {
	case "message_start":
		return s.messageStart(&ev), nil
	case "content_block_start":
		return s.contentBlockStart(&ev), nil
	case "content_block_delta":
		return s.contentBlockDelta(&ev), nil
	case "message_delta":
		s.stop = ev.Delta.StopReason
		s.usage.OutputTokens = ev.Usage.OutputTokens
		return [][]byte{s.chunk(map[string]any{}, finishReason(s.stop))}, nil
	case "message_stop":
		return s.messageStop(), nil
	case "error":
		return nil, ErrStreamError
	}
	return nil, nil // ping, content_block_stop
}

// chunk encodes one OpenAI chunk with a single choice.
func (s *StreamToOpenAI) chunk(delta map[string]any, finish any) []byte {
	b, _ := json.Marshal(map[string]any{
		"id": s.ID, "object": "chat.completion.chunk", "created": s.Created, "model": s.Model,
		"choices": []any{map[string]any{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": nil}},
	})
	return b
}

// messageStart takes the message's id, model and input usage, and opens the
// assistant turn.
func (s *StreamToOpenAI) messageStart(ev *streamEvent) [][]byte {
	if ev.Message.ID != "" {
		s.ID = ev.Message.ID
	}
	if ev.Message.Model != "" {
		s.Model = ev.Message.Model
	}
	s.usage.InputTokens = ev.Message.Usage.InputTokens
	s.usage.CacheReadInputTokens = ev.Message.Usage.CacheReadInputTokens
	s.usage.CacheCreationInputTokens = ev.Message.Usage.CacheCreationInputTokens
	return [][]byte{s.chunk(map[string]any{"role": "assistant", "content": ""}, nil)}
}

// contentBlockStart starts a tool call for a tool_use block; a text block
// needs no chunk of its own.
func (s *StreamToOpenAI) contentBlockStart(ev *streamEvent) [][]byte {
	if ev.ContentBlock.Type != "tool_use" {
		return nil
	}
	i := s.tools
	s.tools++
	s.toolIndex[ev.Index] = i
	return [][]byte{s.chunk(map[string]any{"tool_calls": []any{map[string]any{
		"index": i, "id": ev.ContentBlock.ID, "type": "function",
		"function": map[string]any{"name": ev.ContentBlock.Name, "arguments": ""},
	}}}, nil)}
}

// contentBlockDelta passes on text, or a piece of a tool call's arguments.
func (s *StreamToOpenAI) contentBlockDelta(ev *streamEvent) [][]byte {
	switch ev.Delta.Type {
	case "text_delta":
		return [][]byte{s.chunk(map[string]any{"content": ev.Delta.Text}, nil)}
	case "input_json_delta":
		return [][]byte{s.chunk(map[string]any{"tool_calls": []any{map[string]any{
			"index": s.toolIndex[ev.Index], "function": map[string]any{"arguments": ev.Delta.PartialJSON},
		}}}, nil)}
	}
	return nil
}

// messageStop ends the stream: the usage chunk when asked for, then [DONE].
func (s *StreamToOpenAI) messageStop() [][]byte {
	var out [][]byte
	if s.IncludeUsage {
		b, _ := json.Marshal(map[string]any{
			"id": s.ID, "object": "chat.completion.chunk", "created": s.Created, "model": s.Model, "choices": []any{},
			"usage": s.usage.openAIUsage(),
		})
		out = append(out, b)
	}
	return append(out, []byte("[DONE]"))
}
