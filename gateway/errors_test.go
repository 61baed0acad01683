package gateway_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"

	"github.com/custos-gateway/custos/gateway/config"
	"github.com/custos-gateway/custos/gateway/providertest"
)

const okBody = `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}`

// openAIError decodes and checks the OpenAI error shape.
func openAIError(t *testing.T, resp *http.Response) (typ, code string) {
	t.Helper()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("error Content-Type = %q, want application/json", ct)
	}
	body, _ := io.ReadAll(resp.Body)
	var e struct {
		Error *struct {
			Message *string `json:"message"`
			Type    *string `json:"type"`
			Code    *string `json:"code"`
			Param   any     `json:"param"`
		} `json:"error"`
	}
	if err := json.Unmarshal(body, &e); err != nil || e.Error == nil || e.Error.Message == nil || e.Error.Type == nil || e.Error.Code == nil {
		t.Fatalf("body is not an OpenAI error object: %s", body)
	}
	if *e.Error.Message == "" {
		t.Errorf("empty error message")
	}
	if resp.Header.Get("x-custos-request-id") == "" {
		t.Errorf("error response lacks x-custos-request-id")
	}
	return *e.Error.Type, *e.Error.Code
}

func TestBadInput(t *testing.T) {
	h := startGateway(t, func(c *config.Config) { c.Limits.MaxBodyBytes, c.Limits.MaxFindings = 4096, 5 })
	dense := `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"` + strings.Repeat("write to ann.lee@example.com; ", 6) + `"}]}`
	big := `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"` + strings.Repeat("a", 5000) + `"}]}`
	cases := []struct {
		name        string
		method      string
		path        string
		contentType string
		body        string
		status      int
		code        string
	}{
		{"malformed JSON", "POST", "/v1/chat/completions", "application/json", `{"model":"gpt-4o-mini","messages":[`, 400, "invalid_json"},
		{"not an object", "POST", "/v1/chat/completions", "application/json", `["model"]`, 400, "invalid_request"},
		{"empty body", "POST", "/v1/chat/completions", "application/json", ``, 400, "invalid_json"},
		{"wrong content type", "POST", "/v1/chat/completions", "text/plain", okBody, 415, "unsupported_media_type"},
		{"form content type", "POST", "/v1/chat/completions", "application/x-www-form-urlencoded", okBody, 415, "unsupported_media_type"},
		{"missing model", "POST", "/v1/chat/completions", "application/json", `{"messages":[{"role":"user","content":"hi"}]}`, 400, "missing_model"},
		{"model not a string", "POST", "/v1/chat/completions", "application/json", `{"model":42,"messages":[{"role":"user","content":"hi"}]}`, 400, "invalid_model"},
		{"missing messages", "POST", "/v1/chat/completions", "application/json", `{"model":"gpt-4o-mini"}`, 400, "missing_messages"},
		{"empty messages", "POST", "/v1/chat/completions", "application/json", `{"model":"gpt-4o-mini","messages":[]}`, 400, "invalid_messages"},
		{"message without role", "POST", "/v1/chat/completions", "application/json", `{"model":"gpt-4o-mini","messages":[{"content":"hi"}]}`, 400, "invalid_messages"},
		{"stream not a boolean", "POST", "/v1/chat/completions", "application/json", `{"model":"gpt-4o-mini","stream":"yes","messages":[{"role":"user","content":"hi"}]}`, 400, "invalid_request"},
		{"oversized body", "POST", "/v1/chat/completions", "application/json", big, 413, "request_too_large"},
		{"more findings than the bound", "POST", "/v1/chat/completions", "application/json", dense, 413, "too_many_findings"},
		{"allowed model no endpoint serves", "POST", "/v1/chat/completions", "application/json", `{"model":"claude-sonnet-4-5","messages":[{"role":"user","content":"hi"}]}`, 404, "model_not_found"},
		{"unknown model", "POST", "/v1/chat/completions", "application/json", `{"model":"gpt-unknown","messages":[{"role":"user","content":"hi"}]}`, 404, "model_not_found"},
		{"known model the policy denies", "POST", "/v1/chat/completions", "application/json", `{"model":"gpt-3.5-turbo","messages":[{"role":"user","content":"hi"}]}`, 403, "model_not_allowed"},
		{"unknown route", "POST", "/v1/completions/legacy", "application/json", okBody, 404, "unknown_route"},
		{"unknown root route", "GET", "/admin", "", "", 404, "unknown_route"},
		{"wrong method", "GET", "/v1/chat/completions", "", "", 405, "method_not_allowed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, strings.TrimSuffix(h.URL, "/v1")+tc.path, strings.NewReader(tc.body))
			if tc.contentType != "" {
				req.Header.Set("Content-Type", tc.contentType)
			}
			req.Header.Set("Authorization", "Bearer "+appKey)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != tc.status {
				t.Errorf("status = %d, want %d", resp.StatusCode, tc.status)
			}
			if _, code := openAIError(t, resp); code != tc.code {
				t.Errorf("code = %q, want %q", code, tc.code)
			}
		})
	}
	if n := h.Sim.Requests(); n != 0 {
		t.Errorf("simulator saw %d requests; bad input must never be forwarded", n)
	}
	// A typo is named back to the caller, with where to look; never in the log.
	resp := h.post(t, "/v1/chat/completions", "application/json", appKey, `{"model":"gpt-4o-mnii","messages":[{"role":"user","content":"hi"}]}`)
	body, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(body), "gpt-4o-mnii") || !strings.Contains(string(body), "GET /v1/models") {
		t.Errorf("unknown model answer does not name it: %s", body)
	}
	if logs := h.waitForRequestLogs(t, 1); strings.Contains(logs, "gpt-4o-mnii") {
		t.Errorf("the log names the caller's model text")
	}
}

func TestAuthFailures(t *testing.T) {
	h := startGateway(t, nil)
	cases := []struct {
		name   string
		header map[string]string
		status int
		code   string
	}{
		{"missing key", nil, 401, "missing_api_key"},
		{"unknown key", map[string]string{"Authorization": "Bearer cst_not_a_real_key"}, 401, "invalid_api_key"},
		// A revoked key is answered like an unknown one: the answer must not
		// tell an attacker which stolen keys were once real.
		{"revoked key", map[string]string{"Authorization": "Bearer " + revokedKey}, 401, "invalid_api_key"},
		{"basic scheme", map[string]string{"Authorization": "Basic " + appKey}, 401, "missing_api_key"},
		{"revoked via x-api-key", map[string]string{"x-api-key": revokedKey}, 401, "invalid_api_key"},
		{"valid via x-api-key", map[string]string{"x-api-key": appKey}, 200, ""},
		{"valid bearer", map[string]string{"Authorization": "Bearer " + appKey}, 200, ""},
	}
	for _, path := range []string{"/v1/chat/completions", "/v1/models"} {
		for _, tc := range cases {
			t.Run(path+"/"+tc.name, func(t *testing.T) {
				method, body := http.MethodPost, okBody
				if path == "/v1/models" {
					method, body = http.MethodGet, ""
				}
				req, _ := http.NewRequest(method, strings.TrimSuffix(h.URL, "/v1")+path, strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				for k, v := range tc.header {
					req.Header.Set(k, v)
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				if resp.StatusCode != tc.status {
					t.Fatalf("status = %d, want %d", resp.StatusCode, tc.status)
				}
				if tc.code != "" {
					if typ, code := openAIError(t, resp); code != tc.code || typ != "invalid_request_error" {
						t.Errorf("error = %s/%s, want invalid_request_error/%s", typ, code, tc.code)
					}
				}
			})
		}
	}
	// Only the two valid chat requests may have reached the provider.
	if n := h.Sim.Requests(); n != 2 {
		t.Errorf("simulator saw %d requests, want 2 (the authenticated ones)", n)
	}
	// The log and the audit log keep the difference (failed
	// authentications are recorded in aggregate, by code).
	var revoked int64
	for _, r := range h.records(t) {
		if r.Unauthenticated != nil {
			revoked += r.Unauthenticated.Codes["revoked_api_key"]
		}
	}
	if revoked != 4 || strings.Count(h.Logs.String(), `"code":"revoked_api_key"`) != 4 {
		t.Errorf("%d failed authentications recorded as a revoked key, want 4; log:\n%s", revoked, h.Logs.String())
	}
}

func TestUpstreamFailures(t *testing.T) {
	cases := []struct {
		name       string
		behaviour  providertest.Behaviour
		status     int
		code       string
		retryAfter string
	}{
		{"500", providertest.Behaviour{Status: 500}, 502, "upstream_error", ""},
		{"503", providertest.Behaviour{Status: 503}, 502, "upstream_error", ""},
		{"429 with Retry-After", providertest.Behaviour{Status: 429, RetryAfter: "7"}, 429, "upstream_rate_limited", "7"},
		{"provider refuses key", providertest.Behaviour{Status: 401}, 502, "upstream_auth_failed", ""},
		{"provider rejects request", providertest.Behaviour{Status: 400}, 400, "upstream_rejected", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// A fresh gateway each time: a 429 cools its endpoint down.
			h := startGateway(t, nil)
			h.Sim.Script(tc.behaviour)
			resp := h.post(t, "/v1/chat/completions", "application/json", appKey, okBody)
			if resp.StatusCode != tc.status {
				t.Errorf("status = %d, want %d", resp.StatusCode, tc.status)
			}
			if _, code := openAIError(t, resp); code != tc.code {
				t.Errorf("code = %q, want %q", code, tc.code)
			}
			if got := resp.Header.Get("Retry-After"); got != tc.retryAfter {
				t.Errorf("Retry-After = %q, want %q", got, tc.retryAfter)
			}
		})
	}
	t.Run("unreachable", func(t *testing.T) {
		h := startGateway(t, func(c *config.Config) { c.Endpoints[0].BaseURL = "http://127.0.0.1:1/v1" })
		resp := h.post(t, "/v1/chat/completions", "application/json", appKey, okBody)
		if resp.StatusCode != 502 {
			t.Errorf("status = %d, want 502", resp.StatusCode)
		}
		if _, code := openAIError(t, resp); code != "upstream_unreachable" {
			t.Errorf("code = %q, want upstream_unreachable", code)
		}
	})
	t.Run("header timeout", func(t *testing.T) {
		h := startGateway(t, func(c *config.Config) {
			c.Upstream.ResponseHeaderTimeout = config.Duration(200 * time.Millisecond)
		})
		h.Sim.Script(providertest.Behaviour{Latency: 2 * time.Second})
		resp := h.post(t, "/v1/chat/completions", "application/json", appKey, okBody)
		if resp.StatusCode != 504 {
			t.Errorf("status = %d, want 504", resp.StatusCode)
		}
		if _, code := openAIError(t, resp); code != "upstream_timeout" {
			t.Errorf("code = %q, want upstream_timeout", code)
		}
	})
}

func TestMidStreamDrop(t *testing.T) {
	h := startGateway(t, nil)
	h.Sim.Script(providertest.Behaviour{Reply: "one two three four five", DropAfterChunks: 2})
	client := sdkClient(h, appKey)
	stream := client.Chat.Completions.NewStreaming(context.Background(), openai.ChatCompletionNewParams{
		Model:    testModel,
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("count")},
	})
	var got []string
	for stream.Next() {
		if c := stream.Current(); len(c.Choices) > 0 && c.Choices[0].Delta.Content != "" {
			got = append(got, c.Choices[0].Delta.Content)
		}
	}
	err := stream.Err()
	if err == nil {
		t.Fatal("stream ended cleanly; the client must see the provider's drop as an error")
	}
	if !strings.Contains(err.Error(), "upstream_interrupted") {
		t.Errorf("stream error = %v, want the upstream_interrupted error event", err)
	}
	if strings.Join(got, "") != "one two " {
		t.Errorf("content before the drop = %q, want %q", strings.Join(got, ""), "one two ")
	}

	// The gateway keeps serving.
	resp, err := client.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{
		Model:    testModel,
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("again")},
	})
	if err != nil || len(resp.Choices) != 1 {
		t.Fatalf("request after the drop failed: %v", err)
	}
}

func TestClientCancellationReachesProvider(t *testing.T) {
	h := startGateway(t, nil)
	h.Sim.Script(providertest.Behaviour{Reply: "a b c d e f g h i j", ChunkDelay: 200 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	client := sdkClient(h, appKey)
	stream := client.Chat.Completions.NewStreaming(ctx, openai.ChatCompletionNewParams{
		Model:    testModel,
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("go slowly")},
	})
	if !stream.Next() {
		t.Fatalf("no first chunk: %v", stream.Err())
	}
	cancel()
	for stream.Next() {
	}
	if err := stream.Err(); !errors.Is(err, context.Canceled) {
		t.Errorf("stream error after cancel = %v, want context.Canceled", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for h.Sim.Cancelled() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the provider request was not cancelled after the client went away")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !strings.Contains(h.waitForRequestLogs(t, 1), `"status":499`) {
		t.Errorf("gateway did not record the client closing the request; logs:\n%s", h.Logs)
	}
}
