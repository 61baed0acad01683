package openai

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/custos-gateway/custos/gateway/jsondoc"
)

// Usage objects as providers send them: the quick reader must take these.
var usageShapes = []string{
	`{"prompt_tokens":260,"completion_tokens":16,"total_tokens":276}`,
	`{"prompt_tokens": 19, "completion_tokens": 10, "total_tokens": 29, "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0}, "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0, "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}}`,
	"{\n  \"prompt_tokens\": 1200,\n  \"completion_tokens\": 300,\n  \"total_tokens\": 1500,\n  \"prompt_cache_hit_tokens\": 1024,\n  \"prompt_cache_miss_tokens\": 176\n}",
	`{"prompt_tokens":5,"completion_tokens":7,"total_tokens":12,"prompt_tokens_details":{"cached_tokens":3,"cache_write_tokens":2}}`,
	`{}`,
	`{"completion_tokens_details":{}}`,
	`{"total_tokens":999999999999999999}`,
}

// Usage objects the quick reader must leave to encoding/json: what
// encoding/json reads differently (a key in other letter case, twice, with
// an escape; a negative or fractional number), refuses, or reads as more
// than numbers.
var usageLeft = []string{
	`{"Prompt_Tokens":5}`,
	`{"prompt_tokens":5,"prompt_tokens":6}`,
	`{"prompt_tokens_details":{"cached_tokens":1},"prompt_tokens_details":{"cache_write_tokens":2}}`,
	`{"prompt_tokens_details":{"cached_tokens":1,"cached_tokens":2}}`,
	`{"prompt\u005ftokens":5}`,
	`{"prompt_tokens":-5}`,
	`{"prompt_tokens":5.0}`,
	`{"prompt_tokens":5e2}`,
	`{"prompt_tokens":05}`,
	`{"prompt_tokens":1234567890123456789}`,
	`{"prompt_tokens":null}`,
	`{"prompt_tokens":"5"}`,
	`{"prompt_tokens_details":null}`,
	`{"prompt_tokens_details":{"cached_tokens":{"x":1}}}`,
	`{"prompt_tokens_details":[1]}`,
	`{"other":"text"}`,
	`{"":1}`,
	`{"prompt_tokens":5,}`,
	`{"prompt_tokens":5} x`,
	`{"prompt_tokens":5`,
	`{"prompt_tokens" 5}`,
	`{"prompt_tokens_details":{"a}":1}}`,
	`[1]`,
	``,
}

func TestQuickUsage(t *testing.T) {
	for _, s := range usageShapes {
		u, ok := quickUsage([]byte(s))
		if !ok {
			t.Errorf("not taken: %s", s)
			continue
		}
		var want Usage
		if err := json.Unmarshal([]byte(s), &want); err != nil || !reflect.DeepEqual(*u, want) {
			t.Errorf("%s: got %+v, encoding/json %+v (%v)", s, *u, want, err)
		}
	}
	for _, s := range usageLeft {
		if u, ok := quickUsage([]byte(s)); ok {
			t.Errorf("taken, as %+v: %s", *u, s)
		}
	}
}

// FuzzQuickUsage: whatever the quick reader takes, encoding/json reads
// into the same Usage.
func FuzzQuickUsage(f *testing.F) {
	for _, s := range append(usageShapes, usageLeft...) {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		u, ok := quickUsage(b)
		if !ok {
			return
		}
		var want Usage
		if err := json.Unmarshal(b, &want); err != nil {
			t.Fatalf("taken %q, which encoding/json refuses: %v", b, err)
		}
		if !reflect.DeepEqual(*u, want) {
			t.Fatalf("%q: got %+v, encoding/json %+v", b, *u, want)
		}
	})
}

// BenchmarkReadUsage: an answer's usage read as the relay does, against
// the previous form (the member found, then encoding/json).
func BenchmarkReadUsage(b *testing.B) {
	body := []byte(`{"id":"chatcmpl-1","object":"chat.completion","created":1764800000,"model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"A short answer of some sixteen tokens, as the stub gives."},"finish_reason":"stop"}],"usage":` + usageShapes[1] + `}`)
	b.Run("quick", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if ReadUsage(body) == nil {
				b.Fatal("no usage")
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) { // the previous form
		b.ReportAllocs()
		for b.Loop() {
			start, end, found, err := jsondoc.Find(body, "usage")
			var u Usage
			if err != nil || !found || json.Unmarshal(body[start:end], &u) != nil {
				b.Fatal("no usage")
			}
		}
	})
}
