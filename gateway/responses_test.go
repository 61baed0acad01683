package gateway_test

import (
	"io"
	"strings"
	"testing"

	"github.com/custos-gateway/custos/policies"
	"github.com/custos-gateway/custos/policy"
)

// Provider-side state is a privacy decision: without the policy's leave a
// request is forwarded with store false and one that refers to stored state
// is refused; with it, both pass as sent.
func TestResponsesProviderStateFollowsThePolicy(t *testing.T) {
	for _, allowed := range []bool{false, true} {
		src := policy.FromFS(policies.FS, "policies")
		if allowed {
			src = shippedPolicyWith(t, func(stMarys map[string]any) { stMarys["provider_storage"] = true })
		}
		h := startGatewayWithPolicy(t, nil, src)
		resp := h.post(t, "/v1/responses", "application/json", appKey, `{"model":"gpt-4o-mini","input":"hello","store":true}`)
		io.Copy(io.Discard, resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("allowed=%v: store request: %d", allowed, resp.StatusCode)
		}
		got := h.Sim.Received()
		sentStore := strings.Contains(string(got[0].Body), `"store":true`)
		if sentStore != allowed || (!allowed && !strings.Contains(string(got[0].Body), `"store":false`)) {
			t.Errorf("allowed=%v: the provider got %s", allowed, got[0].Body)
		}
		resp = h.post(t, "/v1/responses", "application/json", appKey, `{"model":"gpt-4o-mini","input":"and then?","previous_response_id":"resp_abc"}`)
		body, _ := io.ReadAll(resp.Body)
		switch {
		case !allowed && (resp.StatusCode != 400 || !strings.Contains(string(body), "provider_state_not_allowed")):
			t.Errorf("previous_response_id without the policy's leave: %d %s", resp.StatusCode, body)
		case allowed && resp.StatusCode == 400 && strings.Contains(string(body), "provider_state_not_allowed"):
			t.Errorf("previous_response_id with the policy's leave was refused: %s", body)
		}
		if n := len(h.Sim.Received()); !allowed && n != 1 {
			t.Errorf("allowed=%v: the provider saw %d requests", allowed, n)
		}
	}
}
