package bench

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
)

// Routes a workload may call, as they appear in the url of a batch line.
const (
	RouteChat       = "/v1/chat/completions"
	RouteMessages   = "/v1/messages"
	RouteResponses  = "/v1/responses"
	RouteEmbeddings = "/v1/embeddings"
)

var knownRoutes = []string{RouteChat, RouteMessages, RouteResponses, RouteEmbeddings}

// ErrWorkload reports a workload file or profile that cannot be used.
var ErrWorkload = errors.New("bench: invalid workload")

// Request is one request of a workload, sent as is.
type Request struct {
	ID     string // custom_id of the batch line (never sent)
	Path   string // one of the Route constants
	Body   []byte
	Stream bool   // the body asks for a streamed answer
	Model  string // the body's model, for the report
}

// Workload is the requests a run cycles through, in order.
type Workload struct {
	Source   string // the file, or a description of the profile
	Requests []Request
}

// maxWorkloadLine bounds one JSONL line (a request body and its envelope).
const maxWorkloadLine = 32 << 20

// ReadWorkloadFile reads a JSONL workload in the OpenAI batch-file shape.
func ReadWorkloadFile(path string) (*Workload, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrWorkload, err)
	}
	defer f.Close()
	w, err := ReadWorkload(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	w.Source = path
	return w, nil
}

// ReadWorkload reads JSONL lines {"custom_id","method","url","body"}: method
// POST, url one of the routes, body the JSON object to send. Blank lines are
// skipped; any other malformed line is an error naming its line number (and
// never its content).
func ReadWorkload(r io.Reader) (*Workload, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxWorkloadLine)
	w := &Workload{}
	for line := 1; sc.Scan(); line++ {
		text := bytes.TrimSpace(sc.Bytes())
		if len(text) == 0 {
			continue
		}
		req, err := parseBatchLine(text)
		if err != nil {
			return nil, fmt.Errorf("%w: line %d: %w", ErrWorkload, line, err)
		}
		w.Requests = append(w.Requests, req)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrWorkload, err)
	}
	if len(w.Requests) == 0 {
		return nil, fmt.Errorf("%w: no requests", ErrWorkload)
	}
	return w, nil
}

func parseBatchLine(text []byte) (Request, error) {
	var line struct {
		CustomID string          `json:"custom_id"`
		Method   string          `json:"method"`
		URL      string          `json:"url"`
		Body     json.RawMessage `json:"body"`
	}
	if err := json.Unmarshal(text, &line); err != nil {
		return Request{}, errors.New("not a JSON object with custom_id, method, url and body")
	}
	if line.Method != "" && line.Method != http.MethodPost {
		return Request{}, fmt.Errorf("method %q: only POST is replayed", line.Method)
	}
	if !slices.Contains(knownRoutes, line.URL) {
		return Request{}, fmt.Errorf("url %q is not one of %v", line.URL, knownRoutes)
	}
	var body struct {
		Model  string `json:"model"`
		Stream bool   `json:"stream"`
	}
	if len(line.Body) == 0 || line.Body[0] != '{' || json.Unmarshal(line.Body, &body) != nil {
		return Request{}, errors.New("body is not a JSON object")
	}
	if line.URL == RouteEmbeddings && body.Stream {
		return Request{}, errors.New("embeddings cannot be streamed")
	}
	return Request{ID: line.CustomID, Path: line.URL, Body: slices.Clone(line.Body),
		Stream: body.Stream, Model: body.Model}, nil
}

// Summary describes a workload by its shape, never its content.
type Summary struct {
	Requests  int            `json:"requests"`
	MeanBytes int            `json:"mean_body_bytes"`
	MaxBytes  int            `json:"max_body_bytes"`
	Streamed  float64        `json:"stream_share"`
	Routes    map[string]int `json:"routes"`
	Models    map[string]int `json:"models"`
}

// Summarize counts the workload's routes, models, sizes and stream share.
func (w *Workload) Summarize() Summary {
	s := Summary{Requests: len(w.Requests), Routes: map[string]int{}, Models: map[string]int{}}
	total, streamed := 0, 0
	for _, r := range w.Requests {
		total += len(r.Body)
		s.MaxBytes = max(s.MaxBytes, len(r.Body))
		if r.Stream {
			streamed++
		}
		s.Routes[r.Path]++
		s.Models[r.Model]++
	}
	if len(w.Requests) > 0 {
		s.MeanBytes = total / len(w.Requests)
		s.Streamed = float64(streamed) / float64(len(w.Requests))
	}
	return s
}
