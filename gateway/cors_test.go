package gateway_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/custos-gateway/custos/gateway/config"
)

func TestCORS(t *testing.T) {
	const allowed = "https://clinic.example.org"
	h := startGateway(t, func(c *config.Config) { c.CORS.AllowedOrigins = []string{allowed} })
	base := strings.TrimSuffix(h.URL, "/v1")
	do := func(method, origin string, hdr map[string]string, body string) *http.Response {
		req, _ := http.NewRequest(method, base+"/v1/chat/completions", strings.NewReader(body))
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	preflight := map[string]string{"Access-Control-Request-Method": "POST",
		"Access-Control-Request-Headers": "authorization, content-type, x-stainless-os"}
	resp := do(http.MethodOptions, allowed, preflight, "")
	if resp.StatusCode != 204 || resp.Header.Get("Access-Control-Allow-Origin") != allowed ||
		!strings.Contains(resp.Header.Get("Access-Control-Allow-Headers"), "authorization") ||
		!strings.Contains(resp.Header.Get("Access-Control-Allow-Methods"), "POST") || resp.Header.Get("Access-Control-Max-Age") != "600" {
		t.Errorf("preflight from an allowed origin: %d %v", resp.StatusCode, resp.Header)
	}
	resp = do(http.MethodOptions, "https://evil.example", preflight, "")
	if resp.StatusCode == 204 || resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("preflight from another origin: %d %v", resp.StatusCode, resp.Header)
	}
	resp = do(http.MethodPost, allowed, map[string]string{"Authorization": "Bearer " + appKey, "Content-Type": "application/json"}, okBody)
	if resp.StatusCode != 200 || resp.Header.Get("Access-Control-Allow-Origin") != allowed ||
		!strings.Contains(resp.Header.Get("Access-Control-Expose-Headers"), "x-request-id") {
		t.Errorf("request from an allowed origin: %d %v", resp.StatusCode, resp.Header)
	}
	// Off by default: no origin is allowed.
	off := startGateway(t, nil)
	req, _ := http.NewRequest(http.MethodOptions, strings.TrimSuffix(off.URL, "/v1")+"/v1/chat/completions", nil)
	req.Header.Set("Origin", allowed)
	req.Header.Set("Access-Control-Request-Method", "POST")
	r2, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	r2.Body.Close()
	if r2.Header.Get("Access-Control-Allow-Origin") != "" || r2.StatusCode == 204 {
		t.Errorf("CORS off by default, got %d %v", r2.StatusCode, r2.Header)
	}
}

// SDKs read the request id from x-request-id (OpenAI) and request-id
// (Anthropic); a caller's own valid X-Request-Id is kept as a correlation id.
func TestRequestIDHeaders(t *testing.T) {
	h := startGateway(t, nil)
	for _, tc := range []struct {
		sent string
		kept bool
	}{{"trace-42:abc/def", true}, {"bad id with spaces", false}, {`"><script>`, false}, {strings.Repeat("a", 129), false}, {"", false}} {
		req, _ := http.NewRequest(http.MethodPost, h.URL+"/chat/completions", strings.NewReader(okBody))
		req.Header.Set("Authorization", "Bearer "+appKey)
		req.Header.Set("Content-Type", "application/json")
		if tc.sent != "" {
			req.Header.Set("X-Request-Id", tc.sent)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		id := resp.Header.Get("x-custos-request-id")
		if !strings.HasPrefix(id, "req_") || resp.Header.Get("x-request-id") != id || resp.Header.Get("request-id") != id {
			t.Errorf("request id headers: %v", resp.Header)
		}
	}
	recs := h.records(t)
	kept := 0
	for _, r := range recs {
		if r.CorrelationID == "trace-42:abc/def" {
			kept++
		} else if r.CorrelationID != "" {
			t.Errorf("correlation id %q recorded", r.CorrelationID)
		}
	}
	if kept != 2 { // its intent and its outcome
		t.Errorf("%d records carry the caller's id, want 2", kept)
	}
}
