package gateway_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"

	"github.com/custos-gateway/custos/gateway/config"
	"github.com/custos-gateway/custos/gateway/providertest"
	"github.com/custos-gateway/custos/gateway/upstream"
	"github.com/custos-gateway/custos/policies"
	"github.com/custos-gateway/custos/policy"
)

// A model outside the tenant's allowlist is refused by the shipped policy
// with the rule's code and reasons, and never forwarded.
func TestPolicyDenyIsNeverForwarded(t *testing.T) {
	h := startGateway(t, nil)
	resp := h.post(t, "/v1/chat/completions", "application/json", appKey,
		`{"model":"`+unlistedModel+`","messages":[{"role":"user","content":"hi"}]}`)
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("status = %d, want 403", resp.StatusCode)
	}
	var body struct {
		Error struct {
			Type    string `json:"type"`
			Code    string `json:"code"`
			Message string `json:"message"`
			Reasons []struct{ Code, Control, Message string }
		} `json:"error"`
	}
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, &body); err != nil {
		t.Fatal(err)
	}
	if body.Error.Code != "model_not_allowed" || body.Error.Type != "permission_error" {
		t.Errorf("error = %s/%s, want permission_error/model_not_allowed", body.Error.Type, body.Error.Code)
	}
	if len(body.Error.Reasons) != 1 || body.Error.Reasons[0].Control == "" || body.Error.Reasons[0].Message == "" {
		t.Errorf("reasons = %+v, want the rule's code, control and message", body.Error.Reasons)
	}
	if h.Sim.Requests() != 0 {
		t.Errorf("simulator saw %d requests; a denied request must never be forwarded", h.Sim.Requests())
	}

	// The official SDK surfaces the same refusal.
	client := sdkClient(h, appKey)
	_, err := client.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{
		Model:    unlistedModel,
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")},
	})
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 403 || apiErr.Code != "model_not_allowed" {
		t.Errorf("SDK error = %v, want 403 model_not_allowed", err)
	}
	if h.Sim.Requests() != 0 {
		t.Errorf("simulator saw %d requests", h.Sim.Requests())
	}
	logs := h.waitForRequestLogs(t, 2)
	if !strings.Contains(logs, `"policy_revision":"`+"2026-11-27.1+sha256:") {
		t.Errorf("log lines do not name the policy revision:\n%s", logs)
	}
}

func TestModelsListsOnlyWhatThePolicyAllows(t *testing.T) {
	h := startGateway(t, nil)
	client := sdkClient(h, appKey)
	page, err := client.Models.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, m := range page.Data {
		ids = append(ids, m.ID)
	}
	if len(ids) != 1 || ids[0] != testModel {
		t.Errorf("models = %v, want only %s (%s is served but not allowed)", ids, testModel, unlistedModel)
	}
}

// A tenant in dry-run has its deny recorded, and the request proceeds.
func TestDryRunTenantProceedsAndIsRecorded(t *testing.T) {
	h := startGateway(t, nil)
	resp := h.post(t, "/v1/chat/completions", "application/json", pilotKey,
		`{"model":"`+unlistedModel+`","messages":[{"role":"user","content":"hi"}]}`)
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("status = %d (%s), want 200: dry-run does not enforce", resp.StatusCode, b)
	}
	if h.Sim.Requests() != 1 {
		t.Errorf("simulator saw %d requests, want 1", h.Sim.Requests())
	}
	logs := h.waitForRequestLogs(t, 1)
	if !strings.Contains(logs, `"dry_run_deny":["model_not_allowed"]`) || !strings.Contains(logs, `"dry_run":true`) {
		t.Errorf("dry-run deny not recorded:\n%s", logs)
	}
}

// A policy that cannot decide refuses the request (503, stable code) and
// nothing is forwarded.
func TestUndecidablePolicyFailsClosed(t *testing.T) {
	dir := t.TempDir()
	if err := os.CopyFS(dir, policies.FS); err != nil {
		t.Fatal(err)
	}
	overlay, err := os.ReadFile("../policy/testdata/overlays/undefined_decision.rego")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "custos.rego"), overlay, 0o644); err != nil {
		t.Fatal(err)
	}
	h := startGatewayWithPolicy(t, nil, policy.FromDir(dir))
	resp := h.post(t, "/v1/chat/completions", "application/json", appKey, okBody)
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("status = %d, want 503", resp.StatusCode)
	}
	if _, code := openAIError(t, resp); code != "policy_undefined" {
		t.Errorf("code = %s, want policy_undefined", code)
	}
	if h.Sim.Requests() != 0 {
		t.Errorf("simulator saw %d requests", h.Sim.Requests())
	}
}

// Dry-run relaxes access rules, never residency or data blocks: a dry-run
// tenant's denied request goes only to endpoints in its jurisdictions, is
// refused when none serves, and a blocked data class is refused.
func TestDryRunKeepsResidencyAndBlocks(t *testing.T) {
	us := providertest.NewOpenAI(t)
	h := startGateway(t, func(c *config.Config) {
		c.Endpoints = append([]config.Endpoint{{Name: "openai-us", Kind: upstream.KindOpenAI, Provider: "openai", BaseURL: us.URL,
			Region: "us-east", Models: []string{testModel, unlistedModel, "gpt-4.1"}, Keyless: true, Priority: -1}}, c.Endpoints...)
	})
	// Not on the allowlist (a relaxed rule): served, by the EU endpoint only.
	resp := h.post(t, "/v1/chat/completions", "application/json", pilotKey,
		`{"model":"`+unlistedModel+`","messages":[{"role":"user","content":"Patient Maria Garcia, MRN 00412345"}]}`)
	if resp.StatusCode != 200 || resp.Header.Get("x-custos-region") != "eu-west" {
		t.Errorf("dry-run deny: %d via %s, want 200 via eu-west", resp.StatusCode, resp.Header.Get("x-custos-region"))
	}
	// Served only in the US: refused, dry-run or not.
	resp = h.post(t, "/v1/chat/completions", "application/json", pilotKey,
		`{"model":"gpt-4.1","messages":[{"role":"user","content":"hi"}]}`)
	if _, code := openAIError(t, resp); resp.StatusCode != 403 || code != "no_compliant_endpoint" {
		t.Errorf("dry-run, US-only model: %d %s, want 403 no_compliant_endpoint", resp.StatusCode, code)
	}
	// A blocked class: refused in dry-run too.
	resp = h.post(t, "/v1/chat/completions", "application/json", pilotKey,
		`{"model":"`+testModel+`","messages":[{"role":"user","content":"card 4111 1111 1111 1111"}]}`)
	if _, code := openAIError(t, resp); resp.StatusCode != 403 || code != "pii_blocked" {
		t.Errorf("dry-run, card number: %d %s, want 403 pii_blocked", resp.StatusCode, code)
	}
	if n := us.Requests(); n != 0 {
		t.Errorf("the US endpoint saw %d requests", n)
	}
}
