package providertest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
)

// Gemini simulates Google's Gemini API: generateContent and
// streamGenerateContent?alt=sse under /v1beta/models/{model}, the
// x-goog-api-key header, candidates with text or functionCall parts,
// usageMetadata, a stream that ends without a marker, and Google's error
// body {"error":{"code","message","status"}}.
type Gemini struct {
	*core
}

// NewGemini starts a simulator; URL is the /v1beta base URL.
func NewGemini(t testing.TB) *Gemini {
	s := &Gemini{core: newCore()}
	s.start(t, s.serve)
	s.URL = s.srv.URL + "/v1beta"
	return s
}

func writeGoogleError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"code": status, "message": msg, "status": code}})
}

func (s *Gemini) serve(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimPrefix(r.URL.Path, "/v1beta/models/")
	model, method, ok := strings.Cut(path, ":")
	if r.Method != http.MethodPost || !ok || path == r.URL.Path || (method != "generateContent" && method != "streamGenerateContent") {
		writeGoogleError(w, http.StatusNotFound, "NOT_FOUND", "Requested entity was not found.")
		return
	}
	stream := method == "streamGenerateContent"
	if stream && r.URL.Query().Get("alt") != "sse" {
		writeGoogleError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "this simulator streams only with alt=sse")
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	want := s.record(r, body, r.Header.Get("x-goog-api-key"))
	if want != "" && r.Header.Get("x-goog-api-key") != want {
		writeGoogleError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.")
		return
	}
	b := s.next()
	if !s.waitLatency(r, b) || failAsScriptedGoogle(w, b) {
		return
	}
	var req struct {
		Contents []json.RawMessage `json:"contents"`
	}
	if json.Unmarshal(body, &req) != nil || len(req.Contents) == 0 {
		writeGoogleError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "contents is not specified")
		return
	}
	reply := s.reply(b)
	chunks := ReplyChunks(reply)
	prompt, completion := Usage(len(chunks))
	a := geminiAnswer{
		usage: map[string]any{"promptTokenCount": prompt, "candidatesTokenCount": completion, "totalTokenCount": prompt + completion},
		model: model, id: fmt.Sprintf("sim%d", s.requests.Load()),
	}
	if !stream {
		parts := []any{map[string]any{"text": reply}}
		if tc := b.ToolCall; tc != nil {
			parts = []any{functionCallPart(tc)}
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(a.response(parts, "STOP"))
		return
	}
	streamGemini(w, b, a, chunks)
}

// failAsScriptedGoogle answers with the behaviour's error status, in
// Google's words for it; it reports whether it did.
func failAsScriptedGoogle(w http.ResponseWriter, b Behaviour) bool {
	switch b.Status {
	case 0, http.StatusOK:
		return false
	case http.StatusTooManyRequests:
		writeGoogleError(w, b.Status, "RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check quota).")
	case http.StatusServiceUnavailable:
		writeGoogleError(w, b.Status, "UNAVAILABLE", "The model is overloaded. Please try again later.")
	default:
		writeGoogleError(w, b.Status, "INTERNAL", "An internal error has occurred.")
	}
	return true
}

// geminiAnswer is what every response of one answer shares.
type geminiAnswer struct {
	usage     map[string]any
	model, id string
}

// response is one generateContent response (or stream chunk) with a single
// candidate; an empty finish leaves finishReason out.
func (a geminiAnswer) response(parts []any, finish string) map[string]any {
	c := map[string]any{"content": map[string]any{"role": "model", "parts": parts}, "index": 0}
	if finish != "" {
		c["finishReason"] = finish
	}
	return map[string]any{"candidates": []any{c}, "usageMetadata": a.usage, "modelVersion": a.model, "responseId": a.id}
}

// functionCallPart is the scripted tool call as a functionCall part.
func functionCallPart(tc *ToolCall) map[string]any {
	return map[string]any{"functionCall": map[string]any{"name": tc.Name, "args": json.RawMessage(tc.Arguments)}}
}

// streamGemini streams the answer as SSE chunks: the tool call in one, or
// the reply's chunks, the last with finishReason STOP; no end marker.
func streamGemini(w http.ResponseWriter, b Behaviour, a geminiAnswer, chunks []string) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	flusher := w.(http.Flusher)
	send := func(v any) {
		data, _ := json.Marshal(v)
		fmt.Fprintf(w, "data: %s\r\n\r\n", data)
		flusher.Flush()
	}
	if tc := b.ToolCall; tc != nil {
		send(a.response([]any{functionCallPart(tc)}, "STOP"))
		return
	}
	for i, c := range chunks {
		if b.DropAfterChunks > 0 && i == b.DropAfterChunks {
			panic(http.ErrAbortHandler)
		}
		finish := ""
		if i == len(chunks)-1 {
			finish = "STOP"
		}
		send(a.response([]any{map[string]any{"text": c}}, finish))
	}
}
