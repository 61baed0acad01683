package bench

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
)

// Profile describes a synthetic workload. Its text is generated here: plain
// clinical and office prose, with invented personal data (names from a short
// built-in list, e-mail addresses at example.org, telephone numbers from
// ranges reserved for fiction, test card numbers) mixed in at PIIPerKB.
type Profile struct {
	PromptMin, PromptMax int            // prompt text size in bytes, uniform in [min, max]
	StreamShare          float64        // share of chat, messages and responses requests streamed, 0..1
	PIIPerKB             float64        // personal data values per KB of prompt text
	Models               []string       // chosen in turn
	Routes               map[string]int // route → weight; empty means chat only
	MaxTokens            int            // max_tokens asked for (default 256)
	Variants             int            // distinct requests generated and cycled (default 256)
	Seed                 uint64
}

// DefaultProfile is a 1 KB non-streamed chat completion prompt without
// personal data, to one model.
func DefaultProfile() Profile {
	return Profile{PromptMin: 1000, PromptMax: 1000, Models: []string{"gpt-4o-mini"}, Seed: 1}
}

func (p Profile) validate() error {
	switch {
	case p.PromptMin <= 0 || p.PromptMax < p.PromptMin:
		return fmt.Errorf("%w: prompt size range %d-%d", ErrWorkload, p.PromptMin, p.PromptMax)
	case p.PromptMax > 8<<20:
		return fmt.Errorf("%w: prompt size over 8 MB", ErrWorkload)
	case p.StreamShare < 0 || p.StreamShare > 1:
		return fmt.Errorf("%w: stream share %v is not between 0 and 1", ErrWorkload, p.StreamShare)
	case p.PIIPerKB < 0 || p.PIIPerKB > 100:
		return fmt.Errorf("%w: PII density %v per KB is not between 0 and 100", ErrWorkload, p.PIIPerKB)
	case len(p.Models) == 0 || slices.Contains(p.Models, ""):
		return fmt.Errorf("%w: at least one model is needed", ErrWorkload)
	}
	for r, w := range p.Routes {
		if !slices.Contains(knownRoutes, r) || w < 0 {
			return fmt.Errorf("%w: route %q (weight %d)", ErrWorkload, r, w)
		}
	}
	return nil
}

// Generate builds the profile's requests, deterministically for its seed.
func (p Profile) Generate() (*Workload, error) {
	if err := p.validate(); err != nil {
		return nil, err
	}
	n := p.Variants
	if n <= 0 {
		n = 256
	}
	if p.MaxTokens <= 0 {
		p.MaxTokens = 256
	}
	rng := rand.New(rand.NewPCG(p.Seed, 0x6375_7374_6f73))
	routes := p.routeTable()
	w := &Workload{Source: p.String()}
	for i := range n {
		path := routes[rng.IntN(len(routes))]
		size := p.PromptMin + rng.IntN(p.PromptMax-p.PromptMin+1)
		stream := path != RouteEmbeddings && rng.Float64() < p.StreamShare
		model := p.Models[i%len(p.Models)]
		text := synthText(rng, size, p.PIIPerKB)
		w.Requests = append(w.Requests, Request{ID: fmt.Sprintf("synthetic-%d", i), Path: path,
			Body: requestBody(path, model, text, stream, p.MaxTokens), Stream: stream, Model: model})
	}
	return w, nil
}

// routeTable repeats each route by its weight.
func (p Profile) routeTable() []string {
	var out []string
	for _, r := range knownRoutes {
		for range p.Routes[r] {
			out = append(out, r)
		}
	}
	if len(out) == 0 {
		out = []string{RouteChat}
	}
	return out
}

// String describes the profile in one line.
func (p Profile) String() string {
	size := fmt.Sprint(p.PromptMin)
	if p.PromptMax != p.PromptMin {
		size = fmt.Sprintf("%d-%d", p.PromptMin, p.PromptMax)
	}
	var routes []string
	for _, r := range knownRoutes {
		if w := p.Routes[r]; w > 0 {
			routes = append(routes, fmt.Sprintf("%s=%d", strings.TrimPrefix(r, "/v1/"), w))
		}
	}
	if len(routes) == 0 {
		routes = []string{"chat/completions"}
	}
	return fmt.Sprintf("synthetic: %s-byte prompts, %.0f%% streamed, %.1f PII/KB, models %s, routes %s",
		size, p.StreamShare*100, p.PIIPerKB, strings.Join(p.Models, ","), strings.Join(routes, ","))
}

func requestBody(path, model, text string, stream bool, maxTokens int) []byte {
	var v any
	switch path {
	case RouteMessages:
		v = map[string]any{"model": model, "max_tokens": maxTokens, "stream": stream,
			"messages": []any{map[string]any{"role": "user", "content": text}}}
	case RouteResponses:
		v = map[string]any{"model": model, "input": text, "stream": stream, "max_output_tokens": maxTokens}
	case RouteEmbeddings:
		v = map[string]any{"model": model, "input": text}
	default:
		v = map[string]any{"model": model, "max_tokens": maxTokens, "stream": stream, "messages": []any{
			map[string]any{"role": "system", "content": "You are a careful assistant. Answer briefly."},
			map[string]any{"role": "user", "content": text}}}
	}
	b, _ := json.Marshal(v) // maps of strings, numbers and bools always marshal
	return b
}
