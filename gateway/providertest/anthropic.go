package providertest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"
)

// Anthropic simulates the Anthropic Messages API: JSON answers, the named
// SSE events of a stream (message_start, content_block_*, message_delta,
// message_stop, ping), tool_use blocks, and its error bodies (429
// rate_limit_error with retry-after, 529 overloaded_error, 500 api_error).
type Anthropic struct {
	*core
}

// NewAnthropic starts a simulator on 127.0.0.1, stopped when t ends.
func NewAnthropic(t testing.TB) *Anthropic {
	s := &Anthropic{core: newCore()}
	s.start(t, s.serve)
	return s
}

func writeAnthropicError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"type": "error", "error": map[string]any{"type": typ, "message": msg}})
}

func (s *Anthropic) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/v1/messages" {
		writeAnthropicError(w, http.StatusNotFound, "not_found_error", "Not found")
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	want := s.record(r, body, r.Header.Get("x-api-key"))
	if r.Header.Get("anthropic-version") == "" {
		writeAnthropicError(w, http.StatusBadRequest, "invalid_request_error", "anthropic-version: header is required")
		return
	}
	if want != "" && r.Header.Get("x-api-key") != want {
		writeAnthropicError(w, http.StatusUnauthorized, "authentication_error", "invalid x-api-key")
		return
	}
	b := s.next()
	if b.Latency > 0 && !sleep(r, b.Latency) {
		s.cancelled.Add(1)
		return
	}
	switch b.Status {
	case 0, http.StatusOK:
	case http.StatusTooManyRequests:
		if b.RetryAfter != "" {
			w.Header().Set("retry-after", b.RetryAfter)
		}
		writeAnthropicError(w, b.Status, "rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit")
		return
	case 529:
		writeAnthropicError(w, b.Status, "overloaded_error", "Overloaded")
		return
	default:
		writeAnthropicError(w, b.Status, "api_error", "Internal server error")
		return
	}
	var req struct {
		Model     string            `json:"model"`
		MaxTokens int               `json:"max_tokens"`
		Stream    bool              `json:"stream"`
		Messages  []json.RawMessage `json:"messages"`
	}
	if err := json.Unmarshal(body, &req); err != nil || req.Model == "" || req.MaxTokens == 0 || len(req.Messages) == 0 {
		writeAnthropicError(w, http.StatusBadRequest, "invalid_request_error", "model, max_tokens and messages are required")
		return
	}
	reply := b.Reply
	if reply == "" {
		reply = s.defaultReply
	}
	chunks := ReplyChunks(reply)
	prompt, completion := Usage(len(chunks))
	id := fmt.Sprintf("msg_sim%d", s.requests.Load())

	if !req.Stream {
		content := []any{map[string]any{"type": "text", "text": reply}}
		stop := "end_turn"
		if tc := b.ToolCall; tc != nil {
			content = []any{map[string]any{"type": "tool_use", "id": tc.ID, "name": tc.Name, "input": json.RawMessage(tc.Arguments)}}
			stop = "tool_use"
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"id": id, "type": "message", "role": "assistant", "model": req.Model, "content": content,
			"stop_reason": stop, "stop_sequence": nil,
			"usage": map[string]any{"input_tokens": prompt, "output_tokens": completion},
		})
		return
	}
	w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	flusher := w.(http.Flusher)
	send := func(event string, v any) {
		data, _ := json.Marshal(v)
		fmt.Fprintf(w, "event: %s\ndata: %s\n\n", event, data)
		flusher.Flush()
	}
	send("message_start", map[string]any{"type": "message_start", "message": map[string]any{
		"id": id, "type": "message", "role": "assistant", "model": req.Model, "content": []any{},
		"stop_reason": nil, "stop_sequence": nil, "usage": map[string]any{"input_tokens": prompt, "output_tokens": 1}}})
	send("ping", map[string]any{"type": "ping"})
	stop := "end_turn"
	if tc := b.ToolCall; tc != nil {
		stop = "tool_use"
		send("content_block_start", map[string]any{"type": "content_block_start", "index": 0,
			"content_block": map[string]any{"type": "tool_use", "id": tc.ID, "name": tc.Name, "input": map[string]any{}}})
		for i := 0; i < len(tc.Arguments); i += 8 {
			send("content_block_delta", map[string]any{"type": "content_block_delta", "index": 0,
				"delta": map[string]any{"type": "input_json_delta", "partial_json": tc.Arguments[i:min(len(tc.Arguments), i+8)]}})
		}
		send("content_block_stop", map[string]any{"type": "content_block_stop", "index": 0})
	} else {
		send("content_block_start", map[string]any{"type": "content_block_start", "index": 0,
			"content_block": map[string]any{"type": "text", "text": ""}})
		for i, c := range chunks {
			if b.DropAfterChunks > 0 && i == b.DropAfterChunks {
				panic(http.ErrAbortHandler)
			}
			if b.ChunkDelay > 0 && !sleep(r, b.ChunkDelay) {
				s.cancelled.Add(1)
				return
			}
			send("content_block_delta", map[string]any{"type": "content_block_delta", "index": 0,
				"delta": map[string]any{"type": "text_delta", "text": c}})
		}
		send("content_block_stop", map[string]any{"type": "content_block_stop", "index": 0})
	}
	send("message_delta", map[string]any{"type": "message_delta", "delta": map[string]any{"stop_reason": stop, "stop_sequence": nil},
		"usage": map[string]any{"output_tokens": completion}})
	send("message_stop", map[string]any{"type": "message_stop"})
}
