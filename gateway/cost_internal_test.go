package gateway

import (
	"encoding/json"
	"testing"

	"github.com/custos-gateway/custos/policy/pricing"
)

// The cost goes into the answer's top-level usage object, replacing a
// provider's own; nothing else changes, and the answer stays valid JSON.
func TestWithCost(t *testing.T) {
	cases := []struct {
		name, body, want string
		estimated        bool
	}{
		{"inserted", `{"id":"x","usage":{"prompt_tokens":3}}`, `{"id":"x","usage":{"prompt_tokens":3,"cost":0.000123}}`, false},
		{"empty usage", `{"usage":{ }}`, `{"usage":{ "cost":0.000123}}`, false},
		{"provider's replaced", `{"usage":{"cost":0.5,"prompt_tokens":3}}`, `{"usage":{"cost":0.000123,"prompt_tokens":3}}`, false},
		{"estimated", `{"usage":{"prompt_tokens":3}}`, `{"usage":{"prompt_tokens":3,"cost":0.000123,"cost_estimated":true}}`, true},
		{"nested usage untouched", `{"choices":[{"usage":{}}]}`, `{"choices":[{"usage":{}}]}`, false},
		{"null usage", `{"usage":null}`, `{"usage":null}`, false},
		{"not JSON", `data: x`, `data: x`, false},
	}
	for _, c := range cases {
		ex := &exchange{acct: metering{cost: &pricing.Cost{Amount: 123, Currency: "USD"}, estimate: c.estimated}}
		got := string(ex.withCost([]byte(c.body)))
		if got != c.want || (json.Valid([]byte(c.body)) && !json.Valid([]byte(got))) {
			t.Errorf("%s: %s, want %s", c.name, got, c.want)
		}
	}
}
