package tokens

import (
	"encoding/json"
	"os"
	"testing"
)

// The cookbook's example conversation counts to the prompt_tokens the API
// reported for it.
func TestPromptMatchesTheCookbook(t *testing.T) {
	b, err := os.ReadFile("testdata/cookbook.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Messages     []struct{ Role, Name, Content string }
		PromptTokens map[string]int64 `json:"prompt_tokens"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	var p Prompt
	for _, m := range doc.Messages {
		p.Messages = append(p.Messages, Message{Role: m.Role, Name: m.Name, Texts: []string{m.Content}})
	}
	c := counter(t)
	for model, want := range doc.PromptTokens {
		got := c.Prompt(model, p)
		if got.Tokens != want || !got.Estimated || got.Sampled || got.Basis != Native {
			t.Errorf("%s: %+v, want %d tokens", model, got, want)
		}
	}
}

func TestPromptParts(t *testing.T) {
	c := counter(t)
	text := func(s string) int64 { return c.Text("gpt-4o", s).Tokens }
	for _, tc := range []struct {
		name string
		p    Prompt
		want int64
	}{
		{"empty", Prompt{}, 0},
		{"one message", Prompt{Messages: []Message{{Role: "user", Texts: []string{"Hello there"}}}}, 3 + text("user") + text("Hello there") + 3},
		{"parts and a name", Prompt{Messages: []Message{{Role: "user", Name: "ann", Texts: []string{"a", "b c"}}}},
			3 + text("user") + 1 + text("ann") + text("a") + text("b c") + 3},
		{"tools", Prompt{Messages: []Message{{Role: "user"}}, Tools: []string{`{"name":"f"}`, `{"name":"g"}`}},
			3 + text("user") + 3 + 7 + text(`{"name":"f"}`) + 7 + text(`{"name":"g"}`) + 12},
		{"embedding inputs", Prompt{Texts: []string{"one", "two three"}}, text("one") + text("two three")},
	} {
		if got := c.Prompt("gpt-4o", tc.p); got.Tokens != tc.want || got.Encoding != O200kBase {
			t.Errorf("%s: %+v, want %d", tc.name, got, tc.want)
		}
	}
}

func TestEncodingFor(t *testing.T) {
	for _, tc := range []struct {
		model string
		enc   Encoding
		basis Basis
	}{
		{"gpt-4o", O200kBase, Native}, {"gpt-4o-mini", O200kBase, Native}, {"GPT-4o-2024-11-20", O200kBase, Native},
		{"gpt-4.1", O200kBase, Native}, {"gpt-4.1-nano", O200kBase, Native}, {"gpt-5", O200kBase, Native},
		{"o1", O200kBase, Native}, {"o3-mini", O200kBase, Native}, {"o4-mini", O200kBase, Native},
		{"openai/gpt-4o", O200kBase, Native}, {"ft:gpt-4o-mini:org::id", O200kBase, Native},
		{"gpt-4", Cl100kBase, Native}, {"gpt-4-turbo", Cl100kBase, Native}, {"gpt-3.5-turbo", Cl100kBase, Native},
		{"gpt-35-turbo", Cl100kBase, Native}, {"text-embedding-3-small", Cl100kBase, Native},
		{"claude-sonnet-4-5", O200kBase, Proxy}, {"gemini-2.5-flash", O200kBase, Proxy}, {"mistral-large", O200kBase, Proxy},
		{"deepseek-chat", O200kBase, Proxy}, {"qwen-plus", O200kBase, Proxy}, {"llama-3.1-70b", O200kBase, Proxy},
		{"echo", O200kBase, Proxy}, {"o1x", O200kBase, Proxy}, {"", O200kBase, Proxy},
	} {
		if enc, basis := EncodingFor(tc.model); enc != tc.enc || basis != tc.basis {
			t.Errorf("%q: %s %s, want %s %s", tc.model, enc, basis, tc.enc, tc.basis)
		}
	}
}
