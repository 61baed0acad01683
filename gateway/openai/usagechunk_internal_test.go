package openai

import (
	"encoding/json"
	"testing"
)

// usageOnlyByReflection is UsageOnlyChunk's meaning: what encoding/json
// reads into a struct with a list of choices.
func usageOnlyByReflection(data []byte) bool {
	var v struct {
		Choices []struct{} `json:"choices"`
	}
	return json.Unmarshal(data, &v) == nil && len(v.Choices) == 0
}

var usageChunkCases = []struct {
	data      string
	want      bool
	reflected bool // left to encoding/json
}{
	{`{"id":"c","object":"chat.completion.chunk","choices":[],"usage":{"prompt_tokens":1}}`, true, false},
	{`{"choices":[ ],"usage":{}}`, true, false},
	{`{"choices":null,"usage":{}}`, true, false},
	{`{"usage":{"prompt_tokens":1}}`, true, false},
	{`{"choices":[{"delta":{"content":"hi"}}],"usage":{}}`, false, false},
	{`{"choices":[1],"usage":{}}`, false, false},
	{`{"choices":{},"usage":{}}`, false, false},
	{`{"choices":"","usage":{}}`, false, false},
	{`{"choices":[],"usage":{}`, false, false},
	{`{"choices":[],"Choices":[{"delta":{}}]}`, false, true},
	{`{"Choices":[{"delta":{}}]}`, false, true},
	{`{"CHOICES":[]}`, true, true},
	{`{"choices":[],"choices":[{}]}`, false, true},
	{`{"choices":[{}],"choices":[]}`, true, true},
	{`{"cho\u0069ces":[{}]}`, false, true},
	{"{\"choi\u017fes\":[]}", true, true},
	{"{\"choice\u017f\":[{}]}", false, true},
	{`null`, true, true},
	{`[]`, false, true},
	{`{"x":{"Choices":[{}]},"choices":[]}`, true, false},
}

func TestUsageOnlyChunk(t *testing.T) {
	for _, c := range usageChunkCases {
		if got := UsageOnlyChunk([]byte(c.data)); got != c.want || got != usageOnlyByReflection([]byte(c.data)) {
			t.Errorf("%s: %v, want %v (encoding/json: %v)", c.data, got, c.want, usageOnlyByReflection([]byte(c.data)))
		}
		if _, ok := choicesEmpty([]byte(c.data)); ok == c.reflected {
			t.Errorf("%s: answered without encoding/json %v, want %v", c.data, ok, !c.reflected)
		}
	}
	chunk := []byte(usageChunkCases[0].data)
	if n := testing.AllocsPerRun(100, func() { UsageOnlyChunk(chunk) }); n != 0 {
		t.Errorf("a provider's usage chunk: %v allocations, want 0", n)
	}
}

// FuzzUsageOnlyChunk: whatever the chunk, the answer is encoding/json's.
func FuzzUsageOnlyChunk(f *testing.F) {
	for _, c := range usageChunkCases {
		f.Add([]byte(c.data))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if got, want := UsageOnlyChunk(data), usageOnlyByReflection(data); got != want {
			t.Fatalf("%q: %v, encoding/json reads %v", data, got, want)
		}
	})
}
