package providertest

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Behaviour scripts how the simulator answers one request.
type Behaviour struct {
	Status     int           // non-2xx status to answer with; 0 answers normally
	RetryAfter string        // Retry-After header value sent with Status
	Latency    time.Duration // wait before the response header
	ChunkDelay time.Duration // wait between stream chunks
	// Gate, when set, is received from before each content chunk of a
	// stream: the test says when the provider sends its next chunk.
	Gate <-chan struct{}
	// DropAfterChunks > 0 aborts the connection after that many content
	// chunks of a stream, without the final chunk or [DONE].
	DropAfterChunks int
	Reply           string // answer text; empty uses the simulator's default
	// ToolCall makes the answer a call of this tool instead of text.
	ToolCall *ToolCall
	// ChunkBytes > 0 streams the reply in pieces of this many bytes instead
	// of word by word, so pieces can split anything (a placeholder, a rune).
	ChunkBytes int
	// NoUsage answers without usage, as a provider that ignores
	// stream_options.include_usage (or reports none) does.
	NoUsage bool
	// Cached and Reasoning are reported in the usage's details: prompt
	// tokens read from the provider's cache, and reasoning tokens (added to
	// the completion tokens, as reasoning models count them).
	Cached, Reasoning int
	// Header is sent with the answer (e.g. the provider's own
	// x-ratelimit-* headers).
	Header map[string]string
}

// ToolCall is a scripted tool call answer.
type ToolCall struct {
	ID        string
	Name      string
	Arguments string // JSON
}

// Received is what the simulator saw of one request.
type Received struct {
	Path          string
	Authorization string
	Header        http.Header
	Body          []byte
}

// OpenAI simulates an OpenAI-compatible chat completions API.
type OpenAI struct {
	*core
}

// core is what every simulator shares: scripted behaviours, counters and
// what was received.
type core struct {
	URL string // base URL including /v1

	srv          *httptest.Server
	mu           sync.Mutex
	script       []Behaviour
	def          Behaviour
	received     []Received
	requireKey   string
	chaos        *Chaos
	flavor       string // the provider whose variant of the OpenAI wire this is
	requests     atomic.Int64
	cancelled    atomic.Int64
	defaultReply string
}

// NewOpenAI starts a simulator on 127.0.0.1, stopped when t ends.
func NewOpenAI(t testing.TB) *OpenAI {
	s := &OpenAI{core: newCore()}
	s.start(t, s.serve)
	return s
}

func newCore() *core { return &core{defaultReply: "Simulated answer from the provider."} }

// Providers that speak a variant of the OpenAI wire format.
const (
	FlavorAzure      = "azure"      // /openai/deployments/{d}/chat/completions?api-version=…, api-key header, content filter results
	FlavorMistral    = "mistral"    // /v1, Mistral's error body {"object":"error",…}
	FlavorDeepSeek   = "deepseek"   // no /v1 prefix, reasoning_content in deltas, cache-hit usage
	FlavorQwen       = "qwen"       // DashScope /compatible-mode/v1
	FlavorOpenRouter = "openrouter" // /api/v1, ": OPENROUTER PROCESSING" keep-alive comments
)

// NewProvider starts a simulator of one provider's variant of the OpenAI
// wire format; URL is the base URL an endpoint would be configured with.
func NewProvider(t testing.TB, flavor string) *OpenAI {
	s := &OpenAI{core: newCore()}
	s.flavor = flavor
	s.start(t, s.serve)
	switch flavor {
	case FlavorAzure, FlavorDeepSeek:
		s.URL = s.srv.URL
	case FlavorQwen:
		s.URL = s.srv.URL + "/compatible-mode/v1"
	case FlavorOpenRouter:
		s.URL = s.srv.URL + "/api/v1"
	}
	return s
}

// record counts and keeps a request, and returns the key the simulator
// requires ("" for any).
func (s *core) record(r *http.Request, body []byte, key string) string {
	s.requests.Add(1)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.received = append(s.received, Received{Path: r.URL.Path, Authorization: key, Header: r.Header.Clone(), Body: body})
	return s.requireKey
}

// chatPath is where the flavor serves chat completions.
func (s *core) chatPath(r *http.Request) bool {
	switch s.flavor {
	case FlavorAzure:
		return strings.HasPrefix(r.URL.Path, "/openai/deployments/") && strings.HasSuffix(r.URL.Path, "/chat/completions") &&
			r.URL.Query().Get("api-version") != ""
	case FlavorDeepSeek:
		return r.URL.Path == "/chat/completions" || r.URL.Path == "/v1/chat/completions"
	case FlavorQwen:
		return r.URL.Path == "/compatible-mode/v1/chat/completions"
	case FlavorOpenRouter:
		return r.URL.Path == "/api/v1/chat/completions"
	}
	return r.URL.Path == "/v1/chat/completions"
}

// presentedKey reads the key where the flavor expects it.
func (s *core) presentedKey(r *http.Request) string {
	if s.flavor == FlavorAzure {
		return r.Header.Get("api-key")
	}
	return strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
}

func (s *core) writeError(w http.ResponseWriter, status int, typ, code, msg string) {
	if s.flavor == FlavorMistral {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]any{"object": "error", "message": msg, "type": typ, "param": nil, "code": code})
		return
	}
	writeOpenAIError(w, status, typ, code, msg)
}

func (s *core) start(t testing.TB, h http.HandlerFunc) {
	s.srv = httptest.NewServer(h)
	s.URL = s.srv.URL + "/v1"
	t.Cleanup(s.srv.Close)
}

// SetDefault sets the behaviour for requests past the script.
func (s *core) SetDefault(b Behaviour) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.def = b
}

// Script queues behaviours for the next requests, in order.
func (s *core) Script(bs ...Behaviour) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.script = append(s.script, bs...)
}

// RequireKey makes the simulator answer 401, as OpenAI does, to any request
// whose bearer key is not key ("" accepts any).
func (s *core) RequireKey(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requireKey = key
}

// Requests counts the chat completion requests received.
func (s *core) Requests() int { return int(s.requests.Load()) }

// Cancelled counts requests whose caller went away before the answer ended.
func (s *core) Cancelled() int { return int(s.cancelled.Load()) }

// Received returns copies of what the simulator saw, in arrival order.
func (s *core) Received() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Received(nil), s.received...)
}

// Usage the simulator reports for an answer of n content chunks.
func Usage(n int) (prompt, completion int) { return 17, n }

// ReplyChunks returns the content deltas a streamed reply is cut into.
func ReplyChunks(reply string) []string {
	var out []string
	for len(reply) > 0 {
		i := strings.IndexByte(reply, ' ')
		if i < 0 {
			out = append(out, reply)
			break
		}
		out = append(out, reply[:i+1])
		reply = reply[i+1:]
	}
	return out
}

func (s *core) next() Behaviour {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.script) > 0 {
		b := s.script[0]
		s.script = s.script[1:]
		return b
	}
	if s.chaos != nil {
		return s.chaos.pick()
	}
	return s.def
}

// Chaos makes the simulator fail at random: with these probabilities it
// answers 429, 500, 503, stalls before its header, or drops a stream; it
// answers normally otherwise. Deterministic for a seed.
type Chaos struct {
	Seed                            int64
	P429, P500, P503, PStall, PDrop float64
	Stall                           time.Duration
	rng                             *rand.Rand
}

func (c *Chaos) pick() Behaviour {
	x := c.rng.Float64()
	switch {
	case x < c.P429:
		return Behaviour{Status: 429, RetryAfter: "1"}
	case x < c.P429+c.P500:
		return Behaviour{Status: 500}
	case x < c.P429+c.P500+c.P503:
		return Behaviour{Status: 503}
	case x < c.P429+c.P500+c.P503+c.PStall:
		return Behaviour{Latency: c.Stall}
	case x < c.P429+c.P500+c.P503+c.PStall+c.PDrop:
		return Behaviour{DropAfterChunks: 2, Reply: "one two three four five six"}
	}
	return Behaviour{ChunkDelay: time.Millisecond}
}

// SetChaos turns random failures on.
func (s *core) SetChaos(c Chaos) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c.rng = rand.New(rand.NewSource(c.Seed))
	s.chaos = &c
}

func (s *OpenAI) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost && s.responsesPath(r) {
		s.serveResponses(w, r)
		return
	}
	if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/embeddings") {
		s.serveEmbeddings(w, r)
		return
	}
	if r.Method != http.MethodPost || !s.chatPath(r) {
		s.writeError(w, http.StatusNotFound, "invalid_request_error", "unknown_url",
			fmt.Sprintf("Invalid URL (%s %s)", r.Method, r.URL.Path))
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	if !s.admit(w, r, body) {
		return
	}
	b := s.next()
	for k, v := range b.Header {
		w.Header().Set(k, v)
	}
	if !s.waitLatency(r, b) || s.failAsScripted(w, b) {
		return
	}
	var req struct {
		Model         string `json:"model"`
		Stream        bool   `json:"stream"`
		StreamOptions *struct {
			IncludeUsage bool `json:"include_usage"`
		} `json:"stream_options"`
	}
	if err := json.Unmarshal(body, &req); err != nil || req.Model == "" {
		s.writeError(w, http.StatusBadRequest, "invalid_request_error", "", "We could not parse the JSON body of your request.")
		return
	}
	reply := s.reply(b)
	chunks := openAIChunks(reply, b.ChunkBytes)
	prompt, completion := Usage(len(chunks))
	a := openAIAnswer{
		id: fmt.Sprintf("chatcmpl-sim%d", s.requests.Load()), created: time.Now().Unix(), model: req.Model,
		usage: openAIUsage(prompt, completion),
	}
	if b.Cached > 0 || b.Reasoning > 0 {
		a.usage = openAIUsage(prompt, completion+b.Reasoning)
		a.usage["prompt_tokens_details"].(map[string]any)["cached_tokens"] = b.Cached
		a.usage["completion_tokens_details"].(map[string]any)["reasoning_tokens"] = b.Reasoning
	}
	if b.NoUsage {
		a.usage, req.StreamOptions = nil, nil
	}
	if !req.Stream {
		s.writeCompletion(w, b, reply, a)
		return
	}
	st := s.startStream(w, a, req.StreamOptions != nil && req.StreamOptions.IncludeUsage)
	if tc := b.ToolCall; tc != nil {
		st.toolCall(tc)
		return
	}
	s.streamText(r, b, st, chunks)
}

// admit records a chat request and answers 401, as OpenAI does, when the
// simulator requires a key and another was presented.
func (s *OpenAI) admit(w http.ResponseWriter, r *http.Request, body []byte) bool {
	want := s.record(r, body, r.Header.Get("Authorization"))
	if want == "" || s.presentedKey(r) == want {
		return true
	}
	got := s.presentedKey(r)
	masked := "****"
	if len(got) > 4 {
		masked = "****" + got[len(got)-4:]
	}
	s.writeError(w, http.StatusUnauthorized, "invalid_request_error", "invalid_api_key",
		"Incorrect API key provided: "+masked+". You can find your API key at https://platform.openai.com/account/api-keys.")
	return false
}

// waitLatency waits the behaviour's latency before the response header; it
// reports false, counting the request cancelled, when the caller went away.
func (s *core) waitLatency(r *http.Request, b Behaviour) bool {
	if b.Latency > 0 && !sleep(r, b.Latency) {
		s.cancelled.Add(1)
		return false
	}
	return true
}

// waitChunk waits the behaviour's delay before a stream chunk; it reports
// false, counting the request cancelled, when the caller went away.
func (s *core) waitChunk(r *http.Request, b Behaviour) bool {
	if (b.ChunkDelay > 0 && !sleep(r, b.ChunkDelay)) || (b.Gate != nil && !gated(r, b.Gate)) {
		s.cancelled.Add(1)
		return false
	}
	return true
}

// gated waits for the gate or until the caller goes away; it reports
// whether the gate let it through.
func gated(r *http.Request, gate <-chan struct{}) bool {
	select {
	case <-gate:
		return true
	case <-r.Context().Done():
		return false
	}
}

// reply is the answer text the behaviour scripts, or the default.
func (s *core) reply(b Behaviour) string {
	if b.Reply == "" {
		return s.defaultReply
	}
	return b.Reply
}

// failAsScripted answers with the behaviour's error status, in OpenAI's
// words for it; it reports whether it did.
func (s *OpenAI) failAsScripted(w http.ResponseWriter, b Behaviour) bool {
	switch b.Status {
	case 0, http.StatusOK:
		return false
	case http.StatusTooManyRequests:
		if b.RetryAfter != "" {
			w.Header().Set("Retry-After", b.RetryAfter)
		}
		s.writeError(w, b.Status, "requests", "rate_limit_exceeded",
			"Rate limit reached for requests. Please try again later.")
	case http.StatusInternalServerError:
		s.writeError(w, b.Status, "server_error", "",
			"The server had an error while processing your request. Sorry about that!")
	case http.StatusServiceUnavailable:
		s.writeError(w, b.Status, "server_error", "",
			"The engine is currently overloaded, please try again later.")
	default:
		s.writeError(w, b.Status, "invalid_request_error", "", "Simulated error.")
	}
	return true
}

// openAIChunks cuts a reply into content deltas: word by word, or in pieces
// of chunkBytes bytes when that is positive.
func openAIChunks(reply string, chunkBytes int) []string {
	if chunkBytes <= 0 {
		return ReplyChunks(reply)
	}
	var chunks []string
	for i := 0; i < len(reply); i += chunkBytes {
		chunks = append(chunks, reply[i:min(len(reply), i+chunkBytes)])
	}
	return chunks
}

// openAIUsage is the usage object OpenAI reports, details included.
func openAIUsage(prompt, completion int) map[string]any {
	return map[string]any{
		"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion,
		"prompt_tokens_details":     map[string]any{"cached_tokens": 0, "audio_tokens": 0},
		"completion_tokens_details": map[string]any{"reasoning_tokens": 0, "audio_tokens": 0, "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0},
	}
}

// openAIAnswer is what every form of one answer shares.
type openAIAnswer struct {
	id      string
	created int64
	model   string
	usage   map[string]any
}

// writeCompletion answers with one JSON chat completion: the reply, or the
// scripted tool call.
func (s *OpenAI) writeCompletion(w http.ResponseWriter, b Behaviour, reply string, a openAIAnswer) {
	msg := map[string]any{"role": "assistant", "content": reply, "refusal": nil, "annotations": []any{}}
	finish := "stop"
	if tc := b.ToolCall; tc != nil {
		msg["content"] = nil
		msg["tool_calls"] = []any{map[string]any{"id": tc.ID, "type": "function", "function": map[string]any{"name": tc.Name, "arguments": tc.Arguments}}}
		finish = "tool_calls"
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"id": a.id, "object": "chat.completion", "created": a.created, "model": a.model,
		"choices": []any{map[string]any{
			"index":         0,
			"message":       msg,
			"logprobs":      nil,
			"finish_reason": finish,
		}},
		"usage":              a.usage,
		"service_tier":       "default",
		"system_fingerprint": "fp_sim",
		"provider":           s.flavor,
	})
}

// openAIStream writes one streamed answer as server-sent events, in the
// flavor's variant.
type openAIStream struct {
	openAIAnswer
	w            http.ResponseWriter
	flusher      http.Flusher
	flavor       string
	includeUsage bool
}

// startStream sends the stream's header (and OpenRouter's keep-alive
// comment) and the first chunk, which names the assistant role.
func (s *OpenAI) startStream(w http.ResponseWriter, a openAIAnswer, includeUsage bool) *openAIStream {
	w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	st := &openAIStream{openAIAnswer: a, w: w, flusher: w.(http.Flusher), flavor: s.flavor, includeUsage: includeUsage}
	if s.flavor == FlavorOpenRouter {
		fmt.Fprint(w, ": OPENROUTER PROCESSING\n\n")
		st.flusher.Flush()
	}
	st.send(st.chunk(map[string]any{"role": "assistant", "content": "", "refusal": nil}, nil))
	return st
}

// send writes one data event: DeepSeek's deltas carry reasoning_content,
// and with include_usage every chunk carries a usage field.
func (st *openAIStream) send(v map[string]any) {
	if st.flavor == FlavorDeepSeek {
		if ch, ok := v["choices"].([]any); ok && len(ch) > 0 {
			if d, ok := ch[0].(map[string]any)["delta"].(map[string]any); ok {
				d["reasoning_content"] = nil
			}
		}
	}
	if st.includeUsage {
		if _, ok := v["usage"]; !ok {
			v["usage"] = nil
		}
	}
	data, _ := json.Marshal(v)
	fmt.Fprintf(st.w, "data: %s\n\n", data)
	st.flusher.Flush()
}

// chunk is one chat.completion.chunk with a single choice.
func (st *openAIStream) chunk(delta map[string]any, finish any) map[string]any {
	return map[string]any{
		"id": st.id, "object": "chat.completion.chunk", "created": st.created, "model": st.model,
		"service_tier": "default", "system_fingerprint": "fp_sim",
		"choices": []any{map[string]any{"index": 0, "delta": delta, "logprobs": nil, "finish_reason": finish}},
	}
}

// done ends the stream with [DONE].
func (st *openAIStream) done() {
	fmt.Fprint(st.w, "data: [DONE]\n\n")
	st.flusher.Flush()
}

// toolCall streams the scripted tool call, its arguments 8 bytes at a time,
// then the usage chunk when asked for.
func (st *openAIStream) toolCall(tc *ToolCall) {
	st.send(st.chunk(map[string]any{"tool_calls": []any{map[string]any{"index": 0, "id": tc.ID, "type": "function",
		"function": map[string]any{"name": tc.Name, "arguments": ""}}}}, nil))
	for i := 0; i < len(tc.Arguments); i += 8 {
		st.send(st.chunk(map[string]any{"tool_calls": []any{map[string]any{"index": 0,
			"function": map[string]any{"arguments": tc.Arguments[i:min(len(tc.Arguments), i+8)]}}}}, nil))
	}
	st.send(st.chunk(map[string]any{}, "tool_calls"))
	if st.includeUsage {
		st.send(map[string]any{"id": st.id, "object": "chat.completion.chunk", "created": st.created, "model": st.model, "choices": []any{}, "usage": st.usage})
	}
	st.done()
}

// streamText streams the reply's chunks, dropping the connection or waiting
// between chunks as the behaviour scripts, then the finish and usage chunks.
func (s *OpenAI) streamText(r *http.Request, b Behaviour, st *openAIStream, chunks []string) {
	for i, c := range chunks {
		if b.DropAfterChunks > 0 && i == b.DropAfterChunks {
			// Abort the connection mid-stream, as a crashed provider would.
			panic(http.ErrAbortHandler)
		}
		if !s.waitChunk(r, b) {
			return
		}
		st.send(st.chunk(map[string]any{"content": c}, nil))
	}
	st.send(st.chunk(map[string]any{}, "stop"))
	if st.includeUsage {
		st.send(map[string]any{
			"id": st.id, "object": "chat.completion.chunk", "created": st.created, "model": st.model,
			"service_tier": "default", "system_fingerprint": "fp_sim",
			"choices": []any{}, "usage": st.usage,
		})
	}
	st.done()
}

// sleep waits d or until the caller goes away; it reports whether d passed.
func sleep(r *http.Request, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	}
}

func writeOpenAIError(w http.ResponseWriter, status int, typ, code, msg string) {
	var c any
	if code != "" {
		c = code
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"error": map[string]any{"message": msg, "type": typ, "param": nil, "code": c},
	})
}

// serveEmbeddings answers /embeddings with deterministic vectors.
func (s *core) serveEmbeddings(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.record(r, body, r.Header.Get("Authorization"))
	if b := s.next(); b.Status != 0 && b.Status != http.StatusOK {
		s.writeError(w, b.Status, "server_error", "", "Simulated error.")
		return
	}
	var req struct {
		Model string          `json:"model"`
		Input json.RawMessage `json:"input"`
	}
	if json.Unmarshal(body, &req) != nil || req.Model == "" {
		s.writeError(w, http.StatusBadRequest, "invalid_request_error", "", "We could not parse the JSON body of your request.")
		return
	}
	var inputs []string
	var one string
	if json.Unmarshal(req.Input, &one) == nil {
		inputs = []string{one}
	} else if json.Unmarshal(req.Input, &inputs) != nil {
		s.writeError(w, http.StatusBadRequest, "invalid_request_error", "", "'input' must be a string or an array of strings.")
		return
	}
	data := make([]any, len(inputs))
	tokens := 0
	for i, in := range inputs {
		tokens += len(strings.Fields(in))
		data[i] = map[string]any{"object": "embedding", "index": i, "embedding": []float64{float64(len(in)), 0.5, -0.25}}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"object": "list", "data": data, "model": req.Model,
		"usage": map[string]any{"prompt_tokens": tokens, "total_tokens": tokens}})
}
