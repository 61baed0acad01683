package bench

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestReadWorkloadFile(t *testing.T) {
	w, err := ReadWorkloadFile("testdata/workload.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		id, path, model string
		stream          bool
	}{
		{"chat-1", RouteChat, "gpt-4o-mini", false},
		{"chat-2", RouteChat, "gpt-4o-mini", true},
		{"msg-1", RouteMessages, "claude-sonnet-4-5", true},
		{"resp-1", RouteResponses, "gpt-4o-mini", false},
		{"emb-1", RouteEmbeddings, "text-embedding-3-small", false},
	}
	if len(w.Requests) != len(want) {
		t.Fatalf("%d requests, want %d", len(w.Requests), len(want))
	}
	for i, r := range w.Requests {
		if r.ID != want[i].id || r.Path != want[i].path || r.Model != want[i].model || r.Stream != want[i].stream {
			t.Errorf("request %d = %+v, want %+v", i, r, want[i])
		}
		if !strings.HasPrefix(string(r.Body), `{"model"`) {
			t.Errorf("request %d: body not kept as sent: %.40s", i, r.Body)
		}
	}
	s := w.Summarize()
	if s.Requests != 5 || s.Routes[RouteChat] != 2 || s.Streamed != 0.4 {
		t.Errorf("summary %+v", s)
	}
}

func TestReadWorkloadRejects(t *testing.T) {
	for _, tc := range []struct {
		name, input, want string
	}{
		{"empty", "\n\n", "no requests"},
		{"not JSON", "hello\n", "line 1: not a JSON object"},
		{"GET", `{"custom_id":"a","method":"GET","url":"/v1/chat/completions","body":{"model":"m"}}`, `method "GET"`},
		{"unknown url", `{"custom_id":"a","method":"POST","url":"/v1/completions","body":{"model":"m"}}`, `url "/v1/completions"`},
		{"body not object", `{"custom_id":"a","method":"POST","url":"/v1/chat/completions","body":"secret text"}`, "body is not a JSON object"},
		{"streamed embeddings", `{"custom_id":"a","method":"POST","url":"/v1/embeddings","body":{"model":"m","stream":true}}`, "cannot be streamed"},
		{"second line bad", `{"custom_id":"a","method":"POST","url":"/v1/chat/completions","body":{"model":"m"}}` + "\n{", "line 2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadWorkload(strings.NewReader(tc.input))
			if !errors.Is(err, ErrWorkload) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want ErrWorkload mentioning %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "secret text") {
				t.Errorf("error message repeats request content: %v", err)
			}
		})
	}
}

// TestReplayWorkloadFile sends every route of the file to the stub, plain
// and streamed, and expects each to succeed.
func TestReplayWorkloadFile(t *testing.T) {
	w, err := ReadWorkloadFile("testdata/workload.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Run(context.Background(), Options{Stub: true, Workload: w, Load: Load{Connections: 2, Requests: 25}})
	if err != nil {
		t.Fatal(err)
	}
	r := rep.Loads[0].Results[0]
	if r.Requests != 25 || r.OK != 25 {
		t.Fatalf("requests %d ok %d errors %v, want 25 successes", r.Requests, r.OK, r.Errors)
	}
	if r.TTFT == nil || r.TTFT.P50 <= 0 {
		t.Errorf("no time to first token for the streamed requests: %+v", r.TTFT)
	}
}

func TestParseFlags(t *testing.T) {
	for _, tc := range []struct {
		in     string
		lo, hi int
		ok     bool
	}{{"1000", 1000, 1000, true}, {"200-4000", 200, 4000, true}, {" 5 - 9 ", 5, 9, true},
		{"0", 0, 0, false}, {"9-5", 0, 0, false}, {"big", 0, 0, false}, {"1-x", 0, 0, false}} {
		lo, hi, err := ParseRange(tc.in)
		if (err == nil) != tc.ok || lo != tc.lo || hi != tc.hi {
			t.Errorf("ParseRange(%q) = %d, %d, %v", tc.in, lo, hi, err)
		}
	}
	for _, tc := range []struct {
		in   string
		want map[string]int
	}{
		{"chat", map[string]int{RouteChat: 1}},
		{"chat=8, messages=2,embeddings", map[string]int{RouteChat: 8, RouteMessages: 2, RouteEmbeddings: 1}},
		{"responses=0,chat", map[string]int{RouteResponses: 0, RouteChat: 1}},
		{"completions", nil},
		{"chat=-1", nil},
	} {
		got, err := ParseRoutes(tc.in)
		if (err == nil) != (tc.want != nil) || len(got) != len(tc.want) {
			t.Errorf("ParseRoutes(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
			continue
		}
		for k, v := range tc.want {
			if got[k] != v {
				t.Errorf("ParseRoutes(%q)[%s] = %d, want %d", tc.in, k, got[k], v)
			}
		}
	}
	if got, err := ParseInts("1, 16,64"); err != nil || len(got) != 3 || got[2] != 64 {
		t.Errorf("ParseInts = %v, %v", got, err)
	}
	if _, err := ParseInts("1,0"); err == nil {
		t.Error("ParseInts accepted 0")
	}
}
