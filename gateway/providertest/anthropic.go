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
	if !s.waitLatency(r, b) || failAsScriptedAnthropic(w, b) {
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
	reply := s.reply(b)
	chunks := ReplyChunks(reply)
	prompt, completion := Usage(len(chunks))
	a := anthropicAnswer{id: fmt.Sprintf("msg_sim%d", s.requests.Load()), model: req.Model, prompt: prompt, completion: completion}
	if !req.Stream {
		writeAnthropicMessage(w, b, reply, a)
		return
	}
	s.streamMessage(w, r, b, a, chunks)
}

// failAsScriptedAnthropic answers with the behaviour's error status, in
// Anthropic's words for it; it reports whether it did.
func failAsScriptedAnthropic(w http.ResponseWriter, b Behaviour) bool {
	switch b.Status {
	case 0, http.StatusOK:
		return false
	case http.StatusTooManyRequests:
		if b.RetryAfter != "" {
			w.Header().Set("retry-after", b.RetryAfter)
		}
		writeAnthropicError(w, b.Status, "rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit")
	case 529:
		writeAnthropicError(w, b.Status, "overloaded_error", "Overloaded")
	default:
		writeAnthropicError(w, b.Status, "api_error", "Internal server error")
	}
	return true
}

// anthropicAnswer is what both forms of one answer share.
type anthropicAnswer struct {
	id, model          string
	prompt, completion int
}

// writeAnthropicMessage answers with one JSON message: the reply, or the
// scripted tool_use block.
func writeAnthropicMessage(w http.ResponseWriter, b Behaviour, reply string, a anthropicAnswer) {
	content := []any{map[string]any{"type": "text", "text": reply}}
	stop := "end_turn"
	if tc := b.ToolCall; tc != nil {
		content = []any{map[string]any{"type": "tool_use", "id": tc.ID, "name": tc.Name, "input": json.RawMessage(tc.Arguments)}}
		stop = "tool_use"
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"id": a.id, "type": "message", "role": "assistant", "model": a.model, "content": content,
		"stop_reason": stop, "stop_sequence": nil,
		"usage": map[string]any{"input_tokens": a.prompt, "output_tokens": a.completion},
	})
}

// streamMessage streams the answer as Anthropic's named events: one content
// block (the tool_use, or the reply's text), then the stop reason.
func (s *Anthropic) streamMessage(w http.ResponseWriter, r *http.Request, b Behaviour, a anthropicAnswer, chunks []string) {
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
		"id": a.id, "type": "message", "role": "assistant", "model": a.model, "content": []any{},
		"stop_reason": nil, "stop_sequence": nil, "usage": map[string]any{"input_tokens": a.prompt, "output_tokens": 1}}})
	send("ping", map[string]any{"type": "ping"})
	stop := "end_turn"
	if tc := b.ToolCall; tc != nil {
		stop = "tool_use"
		streamToolUse(send, tc)
	} else if !s.streamTextBlock(send, r, b, chunks) {
		return
	}
	send("message_delta", map[string]any{"type": "message_delta", "delta": map[string]any{"stop_reason": stop, "stop_sequence": nil},
		"usage": map[string]any{"output_tokens": a.completion}})
	send("message_stop", map[string]any{"type": "message_stop"})
}

// streamToolUse sends the scripted tool call as a tool_use block, its input
// 8 bytes at a time.
func streamToolUse(send func(string, any), tc *ToolCall) {
	send("content_block_start", map[string]any{"type": "content_block_start", "index": 0,
		"content_block": map[string]any{"type": "tool_use", "id": tc.ID, "name": tc.Name, "input": map[string]any{}}})
	for i := 0; i < len(tc.Arguments); i += 8 {
		send("content_block_delta", map[string]any{"type": "content_block_delta", "index": 0,
			"delta": map[string]any{"type": "input_json_delta", "partial_json": tc.Arguments[i:min(len(tc.Arguments), i+8)]}})
	}
	send("content_block_stop", map[string]any{"type": "content_block_stop", "index": 0})
}

// streamTextBlock sends the reply's chunks as one text block, dropping the
// connection or waiting between chunks as the behaviour scripts; it reports
// false when the caller went away.
func (s *Anthropic) streamTextBlock(send func(string, any), r *http.Request, b Behaviour, chunks []string) bool {
	send("content_block_start", map[string]any{"type": "content_block_start", "index": 0,
		"content_block": map[string]any{"type": "text", "text": ""}})
	for i, c := range chunks {
		if b.DropAfterChunks > 0 && i == b.DropAfterChunks {
			panic(http.ErrAbortHandler)
		}
		if !s.waitChunk(r, b) {
			return false
		}
		send("content_block_delta", map[string]any{"type": "content_block_delta", "index": 0,
			"delta": map[string]any{"type": "text_delta", "text": c}})
	}
	send("content_block_stop", map[string]any{"type": "content_block_stop", "index": 0})
	return true
}
