package gateway_test

import (
	"strings"
	"testing"

	"github.com/custos-gateway/custos/gateway/providertest"
)

// Canary values: distinctive strings that must never reach a log line.
const (
	canaryText  = "CANARY-PROMPT-zq7x"
	canaryName  = "Hildegard Quixotesmith"
	canaryModel = "model-CANARY-m0d3l"
)

func TestLogsCarryNoContent(t *testing.T) {
	h := startGateway(t, nil)
	h.Sim.Script(
		providertest.Behaviour{Reply: "answer " + canaryText},
		providertest.Behaviour{Reply: "streamed " + canaryText},
		providertest.Behaviour{Status: 400},
		providertest.Behaviour{Reply: canaryText + " a b c", DropAfterChunks: 2},
	)
	msg := `{"role":"user","content":"Patient ` + canaryName + ` says ` + canaryText + `"}`
	requests := []struct{ key, contentType, body string }{
		{appKey, "application/json", `{"model":"gpt-4o-mini","messages":[` + msg + `]}`},
		{appKey, "application/json", `{"model":"gpt-4o-mini","stream":true,"messages":[` + msg + `]}`},
		{appKey, "application/json", `{"model":"gpt-4o-mini","messages":[` + msg + `]}`},
		{appKey, "application/json", `{"model":"gpt-4o-mini","stream":true,"messages":[` + msg + `]}`},
		{appKey, "application/json", `{"model":"` + canaryModel + `","messages":[` + msg + `]}`},
		{appKey, "application/json", `{"model":"gpt-4o-mini","messages":[` + msg},
		{appKey, "text/plain", canaryText},
		{canaryText, "application/json", `{"model":"gpt-4o-mini","messages":[` + msg + `]}`},
		{revokedKey, "application/json", `{"model":"gpt-4o-mini","messages":[` + msg + `]}`},
	}
	for _, r := range requests {
		resp := h.post(t, "/v1/chat/completions", r.contentType, r.key, r.body)
		_, _ = resp.Body.Read(make([]byte, 1<<16))
	}
	logs := h.waitForRequestLogs(t, len(requests))
	for _, canary := range []string{canaryText, canaryName, canaryModel, appKey, revokedKey, "Patient"} {
		if strings.Contains(logs, canary) {
			t.Errorf("log output contains %q", canary)
		}
	}
}
