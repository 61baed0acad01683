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

// Event translates one event; it returns zero or more OpenAI data payloads
// ("[DONE]" last).
func (s *StreamToOpenAI) Event(name string, data []byte) ([][]byte, error) {
	if s.toolIndex == nil {
		s.toolIndex = map[int]int{}
	}
	var ev struct {
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
	if err := json.Unmarshal(data, &ev); err != nil {
		return nil, fmt.Errorf("anthropic: unreadable stream event")
	}
	if ev.Type == "" {
		ev.Type = name
	}
	chunk := func(delta map[string]any, finish any) []byte {
		b, _ := json.Marshal(map[string]any{
			"id": s.ID, "object": "chat.completion.chunk", "created": s.Created, "model": s.Model,
			"choices": []any{map[string]any{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": nil}},
		})
		return b
	}
	switch ev.Type {
	case "message_start":
		if ev.Message.ID != "" {
			s.ID = ev.Message.ID
		}
		if ev.Message.Model != "" {
			s.Model = ev.Message.Model
		}
		s.usage.InputTokens = ev.Message.Usage.InputTokens
		s.usage.CacheReadInputTokens = ev.Message.Usage.CacheReadInputTokens
		return [][]byte{chunk(map[string]any{"role": "assistant", "content": ""}, nil)}, nil
	case "content_block_start":
		if ev.ContentBlock.Type == "tool_use" {
			i := s.tools
			s.tools++
			s.toolIndex[ev.Index] = i
			return [][]byte{chunk(map[string]any{"tool_calls": []any{map[string]any{
				"index": i, "id": ev.ContentBlock.ID, "type": "function",
				"function": map[string]any{"name": ev.ContentBlock.Name, "arguments": ""},
			}}}, nil)}, nil
		}
		return nil, nil
	case "content_block_delta":
		switch ev.Delta.Type {
		case "text_delta":
			return [][]byte{chunk(map[string]any{"content": ev.Delta.Text}, nil)}, nil
		case "input_json_delta":
			return [][]byte{chunk(map[string]any{"tool_calls": []any{map[string]any{
				"index": s.toolIndex[ev.Index], "function": map[string]any{"arguments": ev.Delta.PartialJSON},
			}}}, nil)}, nil
		}
		return nil, nil
	case "message_delta":
		s.stop = ev.Delta.StopReason
		s.usage.OutputTokens = ev.Usage.OutputTokens
		return [][]byte{chunk(map[string]any{}, finishReason(s.stop))}, nil
	case "message_stop":
		var out [][]byte
		if s.IncludeUsage {
			b, _ := json.Marshal(map[string]any{
				"id": s.ID, "object": "chat.completion.chunk", "created": s.Created, "model": s.Model, "choices": []any{},
				"usage": map[string]any{
					"prompt_tokens": s.usage.InputTokens + s.usage.CacheReadInputTokens, "completion_tokens": s.usage.OutputTokens,
					"total_tokens":          s.usage.InputTokens + s.usage.CacheReadInputTokens + s.usage.OutputTokens,
					"prompt_tokens_details": map[string]any{"cached_tokens": s.usage.CacheReadInputTokens},
				},
			})
			out = append(out, b)
		}
		return append(out, []byte("[DONE]")), nil
	case "error":
		return nil, ErrStreamError
	}
	return nil, nil // ping, content_block_stop
}
