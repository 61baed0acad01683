package bench

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// StubOptions shape the stub upstream's answers. All delays default to 0.
type StubOptions struct {
	Latency time.Duration // before the response header
	TTFT    time.Duration // streams: after the header, before the first token; plain answers wait it too
	ITL     time.Duration // between tokens (plain answers wait Tokens × ITL)
	Tokens  int           // completion tokens per answer (default 16)
}

// stub is a lean OpenAI- and Anthropic-compatible upstream for load: chat
// completions (plain and streamed, with usage), messages, responses and
// embeddings. It keeps no record of requests and builds answers by
// appending to pooled buffers, so it costs little CPU per request.
type stub struct {
	o       StubOptions
	created []byte
	tokens  []string // JSON-safe text pieces
	text    string   // the pieces joined
	bufs    sync.Pool
}

var stubWords = []string{"This", " is", " a", " stub", " answer", " from", " the", " benchmark", " upstream", "."}

// NewStubHandler returns the stub upstream as a handler.
func NewStubHandler(o StubOptions) http.Handler {
	if o.Tokens <= 0 {
		o.Tokens = 16
	}
	s := &stub{o: o, created: strconv.AppendInt(nil, time.Now().Unix(), 10)}
	for i := range o.Tokens {
		s.tokens = append(s.tokens, stubWords[i%len(stubWords)])
		s.text += s.tokens[i]
	}
	s.bufs.New = func() any { b := make([]byte, 0, 8<<10); return &b }
	return s
}

type stubRequest struct {
	Model         string `json:"model"`
	Stream        bool   `json:"stream"`
	StreamOptions *struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
}

const stubMaxBody = 32 << 20

func (s *stub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/healthz" {
		w.WriteHeader(http.StatusOK)
		return
	}
	route := r.URL.Path
	switch route {
	case RouteChat, RouteMessages, RouteResponses, RouteEmbeddings:
	default:
		stubError(w, http.StatusNotFound, "unknown_url")
		return
	}
	if r.Method != http.MethodPost {
		stubError(w, http.StatusMethodNotAllowed, "method_not_allowed")
		return
	}
	bp := s.bufs.Get().(*[]byte)
	defer s.bufs.Put(bp)
	body, err := readAllInto((*bp)[:0], io.LimitReader(r.Body, stubMaxBody))
	*bp = body[:0]
	var req stubRequest
	if err != nil || json.Unmarshal(body, &req) != nil || req.Model == "" {
		stubError(w, http.StatusBadRequest, "invalid_request")
		return
	}
	prompt := max(1, len(body)/4)
	if !wait(r, s.o.Latency) {
		return
	}
	switch {
	case route == RouteEmbeddings:
		*bp = s.embeddings(w, req, prompt, body[:0])[:0]
	case !req.Stream:
		if wait(r, s.o.TTFT+time.Duration(s.o.Tokens)*s.o.ITL) {
			*bp = s.plain(w, route, req, prompt, body[:0])[:0]
		}
	default:
		*bp = s.stream(w, r, route, req, prompt, body[:0])[:0]
	}
}

func readAllInto(b []byte, r io.Reader) ([]byte, error) {
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
	}
}

// wait sleeps d unless the caller goes away first; it reports whether d passed.
func wait(r *http.Request, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	}
}

func stubError(w http.ResponseWriter, status int, code string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, `{"error":{"message":"stub upstream: `+code+`","type":"invalid_request_error","param":null,"code":"`+code+`"}}`)
}

// appendJSONString appends s as a JSON string.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= 0x80 {
			q, _ := json.Marshal(s)
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
