package gateway_test

import (
	"context"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"
)

// Embeddings get the same inspection, policy, redaction, routing and audit as
// chat: the provider never sees what the policy hides.
func TestEmbeddings(t *testing.T) {
	h := startGateway(t, nil)
	client := sdkClient(h, appKey)
	resp, err := client.Embeddings.New(context.Background(), openai.EmbeddingNewParams{
		Model: openai.EmbeddingModel(testModel),
		Input: openai.EmbeddingNewParamsInputUnion{OfArrayOfStrings: []string{"chest pain, Maria Garcia", "no findings"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Data) != 2 || resp.Usage.PromptTokens == 0 {
		t.Errorf("embeddings: %+v", resp)
	}
	got := h.Sim.Received()
	if len(got) != 1 || !strings.Contains(got[0].Path, "/embeddings") || strings.Contains(string(got[0].Body), "Maria Garcia") ||
		!strings.Contains(string(got[0].Body), `"input":["chest pain, [PERSON_1]","no findings"]`) {
		t.Errorf("provider received %s at %s", got[0].Body, got[0].Path)
	}
	// A card number is refused here too; token ids cannot be inspected.
	for _, body := range []string{
		`{"model":"gpt-4o-mini","input":"card 4111 1111 1111 1111"}`,
		`{"model":"gpt-4o-mini","input":[[1,2,3]]}`,
	} {
		resp := h.post(t, "/v1/embeddings", "application/json", appKey, body)
		if resp.StatusCode != 403 {
			t.Errorf("%s: %d, want 403", body, resp.StatusCode)
		}
	}
	if n := h.Sim.Requests(); n != 1 {
		t.Errorf("the provider saw %d requests, want 1", n)
	}
	outcomes := 0
	for _, r := range h.records(t) {
		if r.Kind == "outcome" && r.Route == "/v1/embeddings" {
			outcomes++
		}
	}
	if outcomes != 3 {
		t.Errorf("%d embeddings outcomes audited, want 3", outcomes)
	}
}
