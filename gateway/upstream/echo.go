package upstream

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/custos-gateway/custos/gateway/openai"
	"github.com/custos-gateway/custos/gateway/sse"
)

// EchoModel is the model name the echo provider serves.
const EchoModel = "echo"

// echo is the built-in provider: an OpenAI-compatible handler served in
// process, taking no key.
type echo struct{ openAICompatible }

func (echo) keyless() {}

func (echo) transport() http.RoundTripper { return echoTransport }

var echoTransport = HandlerTransport{Handler: EchoHandler()}

func (echo) Request(ctx context.Context, _ *Target, call *Call) (*http.Request, error) {
	return newPost(ctx, "http://echo.custos.invalid/v1"+openAIPath(call.Op), call.Body)
}

// EchoHandler returns an OpenAI-compatible handler whose chat answer is
// exactly the text of the last user message it received, so that a
// newcomer sees what a provider would see; embeddings get a vector derived
// from the text received. Token counts are estimates (about four bytes a
// token), since echo has no tokenizer.
func EchoHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			writeEchoError(w, http.StatusBadRequest, "could not read request body")
			return
		}
		if strings.HasSuffix(r.URL.Path, "/embeddings") {
			echoEmbeddings(w, body)
			return
		}
		echoChat(w, body)
	})
}

// echoAnswer is what echo says back to one chat request.
type echoAnswer struct {
	id, model, reply string
	created          int64
	usage            openai.Usage
}

func echoChat(w http.ResponseWriter, body []byte) {
	req, err := openai.ParseChatRequest(body)
	if err != nil {
		writeEchoError(w, http.StatusBadRequest, err.Error())
		return
	}
	a := echoAnswer{id: fmt.Sprintf("chatcmpl-echo%d", time.Now().UnixNano()), model: req.Model, created: time.Now().Unix()}
	promptBytes := 0
	for _, m := range req.Messages() {
		t := m.Text()
		promptBytes += len(t)
		if m.Role == "user" {
			a.reply = t
		}
	}
	a.usage = openai.Usage{PromptTokens: estimateTokens(promptBytes), CompletionTokens: estimateTokens(len(a.reply))}
	a.usage.TotalTokens = a.usage.PromptTokens + a.usage.CompletionTokens
	if !req.Stream {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"id": a.id, "object": "chat.completion", "created": a.created, "model": a.model,
			"choices": []any{map[string]any{
				"index":         0,
				"message":       map[string]any{"role": "assistant", "content": a.reply, "refusal": nil},
				"finish_reason": "stop", "logprobs": nil,
			}},
			"usage": a.usage,
		})
		return
	}
	a.stream(w, req.IncludeUsage)
}

// stream sends the answer word by word, as a provider streams.
func (a echoAnswer) stream(w http.ResponseWriter, includeUsage bool) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	flusher, _ := w.(http.Flusher)
	send := func(v any) {
		b, _ := json.Marshal(v)
		_ = sse.Write(w, sse.Event{Data: b})
		if flusher != nil {
			flusher.Flush()
		}
	}
	chunk := func(delta map[string]any, finish any) map[string]any {
		return map[string]any{
			"id": a.id, "object": "chat.completion.chunk", "created": a.created, "model": a.model,
			"choices": []any{map[string]any{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": nil}},
		}
	}
	send(chunk(map[string]any{"role": "assistant", "content": ""}, nil))
	for _, piece := range splitWords(a.reply) {
		send(chunk(map[string]any{"content": piece}, nil))
	}
	send(chunk(map[string]any{}, "stop"))
	if includeUsage {
		send(map[string]any{"id": a.id, "object": "chat.completion.chunk", "created": a.created, "model": a.model,
			"choices": []any{}, "usage": a.usage})
	}
	_ = sse.Write(w, sse.Event{Data: openai.DoneData})
	if flusher != nil {
		flusher.Flush()
	}
}

func estimateTokens(n int) int64 { return int64((n + 3) / 4) }

// splitWords cuts s after each run of spaces, keeping every byte, so that the
// pieces concatenate back to s.
func splitWords(s string) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		if r == ' ' && (i >= len(s) || s[i] != ' ') {
			out = append(out, s[start:i])
			start = i
		}
	}
	if start < len(s) {
		out = append(out, s[start:])
	}
	return out
}

func writeEchoError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(openai.ErrorBody("invalid_request_error", "invalid_request", strings.TrimSpace(msg), ""))
}
