package bench

import (
	"bytes"
	"encoding/json"
	"errors"
	"regexp"
	"testing"
)

var piiMarker = regexp.MustCompile(`Patient: |@example\.org|020 7946 |Date of birth |4111 1111|Dr\. `)

func promptOf(t *testing.T, r Request) string {
	t.Helper()
	var v struct {
		Messages []struct{ Content string } `json:"messages"`
		Input    string                     `json:"input"`
	}
	if err := json.Unmarshal(r.Body, &v); err != nil {
		t.Fatalf("body is not JSON: %v", err)
	}
	if len(v.Messages) > 0 {
		return v.Messages[len(v.Messages)-1].Content
	}
	return v.Input
}

func TestProfileGenerate(t *testing.T) {
	for _, tc := range []struct {
		name     string
		p        Profile
		piiPerKB float64
	}{
		{"default", DefaultProfile(), 0},
		{"range and PII", Profile{PromptMin: 200, PromptMax: 4000, PIIPerKB: 4, StreamShare: 0.5,
			Models: []string{"a", "b"}, Seed: 3}, 4},
		{"every route", Profile{PromptMin: 500, PromptMax: 500, PIIPerKB: 10, StreamShare: 1, Models: []string{"m"},
			Routes: map[string]int{RouteChat: 1, RouteMessages: 1, RouteResponses: 1, RouteEmbeddings: 1}}, 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, err := tc.p.Generate()
			if err != nil {
				t.Fatal(err)
			}
			again, _ := tc.p.Generate()
			var bytesTotal, pii, streamed, streamable int
			for i, r := range w.Requests {
				if !bytes.Equal(r.Body, again.Requests[i].Body) {
					t.Fatalf("request %d differs between two generations with the same seed", i)
				}
				text := promptOf(t, r)
				if len(text) > tc.p.PromptMax || len(text) < tc.p.PromptMin-40 {
					t.Errorf("request %d: prompt %d bytes, want %d-%d", i, len(text), tc.p.PromptMin, tc.p.PromptMax)
				}
				bytesTotal += len(text)
				pii += len(piiMarker.FindAllString(text, -1))
				if r.Path != RouteEmbeddings {
					streamable++
					if r.Stream {
						streamed++
					}
				} else if r.Stream {
					t.Errorf("request %d: streamed embeddings", i)
				}
			}
			perKB := float64(pii) / (float64(bytesTotal) / 1024)
			if perKB < tc.piiPerKB*0.8 || perKB > tc.piiPerKB*1.2+0.01 {
				t.Errorf("PII density %.2f per KB, want about %v", perKB, tc.piiPerKB)
			}
			share := float64(streamed) / float64(streamable)
			if d := share - tc.p.StreamShare; d > 0.1 || d < -0.1 {
				t.Errorf("stream share %.2f, want about %v", share, tc.p.StreamShare)
			}
		})
	}
}

func TestProfileRejects(t *testing.T) {
	for _, p := range []Profile{
		{PromptMin: 0, PromptMax: 10, Models: []string{"m"}},
		{PromptMin: 10, PromptMax: 5, Models: []string{"m"}},
		{PromptMin: 10, PromptMax: 10, StreamShare: 1.5, Models: []string{"m"}},
		{PromptMin: 10, PromptMax: 10, PIIPerKB: -1, Models: []string{"m"}},
		{PromptMin: 10, PromptMax: 10},
		{PromptMin: 10, PromptMax: 10, Models: []string{"m"}, Routes: map[string]int{"/v1/completions": 1}},
	} {
		if _, err := p.Generate(); !errors.Is(err, ErrWorkload) {
			t.Errorf("%+v: err = %v, want ErrWorkload", p, err)
		}
	}
}
