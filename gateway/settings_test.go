package gateway_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/custos-gateway/custos/gateway/jsondoc"
	"github.com/custos-gateway/custos/gateway/openai"
	"github.com/custos-gateway/custos/gateway/responses"
	"github.com/custos-gateway/custos/redact"
)

// shortNumbers is every JSON number literal of at most
// jsondoc.SettingMaxLen bytes.
func shortNumbers(t *testing.T) []string {
	const alphabet = "0123456789-.eE+"
	var out []string
	var grow func(prefix string)
	grow = func(prefix string) {
		if prefix != "" {
			var n json.Number
			if json.Unmarshal([]byte(prefix), &n) == nil && json.Valid([]byte(prefix)) && !strings.ContainsAny(prefix[:1], "+.eE") {
				out = append(out, prefix)
			}
		}
		if len(prefix) == jsondoc.SettingMaxLen {
			return
		}
		for _, c := range alphabet {
			grow(prefix + string(c))
		}
	}
	grow("")
	if len(out) < 11_000 { // 0–9999, -0 to -999, and decimals and exponents
		t.Fatalf("only %d short number literals", len(out))
	}
	return out
}

// TestSettingsHoldNoData: what makes a short number at a setting's place
// structural (jsondoc.Rules.Settings: it is not scanned) is that a scan
// would find nothing there. Every literal of that length under every
// setting's key of every dialect is scanned here, as the gateway scans a
// labelled value, and must hold no finding: a detector that starts to find
// something in one fails this test, and the setting must then be scanned.
func TestSettingsHoldNoData(t *testing.T) {
	nums := shortNumbers(t)
	sc := redact.NewScanner(redact.Options{})
	for name, rules := range map[string]*jsondoc.Rules{"chat": &openai.ChatRules, "embeddings": &openai.EmbeddingsRules,
		"responses": &responses.Rules} {
		if len(rules.Settings) == 0 {
			t.Errorf("%s: no settings", name)
		}
		for _, p := range rules.Settings {
			key := p.String()
			if strings.ContainsAny(key, ".[]*") {
				t.Fatalf("%s: setting %q is not a top-level key: scan it under its own key here", name, key)
			}
			fields := make([]redact.Field, len(nums))
			for i, n := range nums {
				fields[i] = redact.Field{Key: key, Text: n}
			}
			found, err := sc.Inspect(fields)
			if err != nil {
				t.Fatal(err)
			}
			for i, fs := range found {
				if len(fs) > 0 {
					t.Errorf("%s: %s: %s is found as %s", name, key, nums[i], fs[0].Type)
				}
			}
		}
	}
}

// TestSettingTakesAValueFoundElsewhere: a setting's short number is not
// scanned for data of its own, but a value found elsewhere in the request
// is found there too, and does not reach the provider.
func TestSettingTakesAValueFoundElsewhere(t *testing.T) {
	h := startGateway(t, nil)
	for _, c := range []struct {
		body, value string
		left        bool // the value reaches the provider
	}{
		{`{"model":"gpt-4o-mini","seed":8001,"messages":[{"role":"user","content":"My postcode is 8001."}]}`, "8001", false},
		{`{"model":"gpt-4o-mini","max_tokens":3012,"messages":[{"role":"user","content":"Postal code: 3012"}]}`, "3012", false},
		{`{"model":"gpt-4o-mini","seed":8001,"messages":[{"role":"user","content":"Summarise the notes."}]}`, "8001", true},
	} {
		before := len(h.Sim.Received())
		if resp := h.post(t, "/v1/chat/completions", "application/json", appKey, c.body); resp.StatusCode != 200 {
			t.Fatalf("%s: status %d", c.body, resp.StatusCode)
		}
		got := h.Sim.Received()
		if len(got) != before+1 {
			t.Fatalf("%s: the provider saw %d requests", c.body, len(got)-before)
		}
		if sent := string(got[len(got)-1].Body); strings.Contains(sent, c.value) != c.left {
			t.Errorf("%s: the provider saw %q: %v, want %v:\n%s", c.body, c.value, !c.left, c.left, sent)
		}
	}
}
