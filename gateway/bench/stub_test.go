package bench

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestStubAnswers checks every route's wire format, plain and streamed: the
// JSON parses, usage is reported, and streams end with their marker.
func TestStubAnswers(t *testing.T) {
	srv := httptest.NewServer(NewStubHandler(StubOptions{Tokens: 5}))
	defer srv.Close()
	for _, tc := range []struct {
		route, body string
		usage       string // a key that must appear in the usage
		end         string // the stream's last line
	}{
		{RouteChat, `{"model":"m","messages":[{"role":"user","content":"hi"}]%s}`, `"completion_tokens":5`, "data: [DONE]"},
		{RouteChat, `{"model":"m","stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]%s}`, `"completion_tokens":5`, "data: [DONE]"},
		{RouteMessages, `{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"hi"}]%s}`, `"output_tokens":5`, `data: {"type":"message_stop"}`},
		{RouteResponses, `{"model":"m","input":"hi"%s}`, `"output_tokens":5`, ""},
	} {
		for _, stream := range []bool{false, true} {
			extra := ""
			if stream {
				extra = `,"stream":true`
			}
			body := strings.Replace(tc.body, "%s", extra, 1)
			resp, err := http.Post(srv.URL+tc.route, "application/json", strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			name := tc.route + map[bool]string{false: " plain", true: " streamed"}[stream]
			if resp.StatusCode != 200 {
				t.Errorf("%s: status %d", name, resp.StatusCode)
				continue
			}
			if !stream {
				var v map[string]any
				if err := json.Unmarshal(got, &v); err != nil || !strings.Contains(string(got), tc.usage) {
					t.Errorf("%s: %v; body %s", name, err, got)
				}
				continue
			}
			checkStream(t, name, string(got), tc.end)
			wantUsage := tc.route != RouteChat || strings.Contains(body, "include_usage")
			if strings.Contains(string(got), tc.usage) != wantUsage {
				t.Errorf("%s: usage present = %v, want %v", name, !wantUsage, wantUsage)
			}
		}
	}
}

func checkStream(t *testing.T, name, got, end string) {
	t.Helper()
	sc := bufio.NewScanner(strings.NewReader(got))
	var last string
	deltas := 0
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			continue
		}
		last = line
		data, ok := strings.CutPrefix(line, "data: ")
		if !ok {
			if !strings.HasPrefix(line, "event: ") {
				t.Errorf("%s: unexpected line %q", name, line)
			}
			continue
		}
		if data == "[DONE]" {
			continue
		}
		if !json.Valid([]byte(data)) {
			t.Errorf("%s: data is not JSON: %s", name, data)
		}
		if strings.Contains(data, `"content":"`) && !strings.Contains(data, `"content":""`) ||
			strings.Contains(data, "text_delta") || strings.Contains(data, "output_text.delta") {
			deltas++
		}
	}
	if deltas != 5 {
		t.Errorf("%s: %d token events, want 5", name, deltas)
	}
	if end != "" && last != end {
		t.Errorf("%s: ends with %q, want %q", name, last, end)
	}
}

func TestStubEmbeddingsAndErrors(t *testing.T) {
	srv := httptest.NewServer(NewStubHandler(StubOptions{}))
	defer srv.Close()
	for _, tc := range []struct {
		method, path, body string
		status             int
		code               string
	}{
		{"POST", RouteEmbeddings, `{"model":"e","input":["a","b"]}`, 200, ""},
		{"POST", "/v1/completions", `{"model":"m"}`, 404, "unknown_url"},
		{"GET", RouteChat, "", 405, "method_not_allowed"},
		{"POST", RouteChat, `{"messages":[]}`, 400, "invalid_request"},
		{"POST", RouteChat, `not json`, 400, "invalid_request"},
	} {
		req, _ := http.NewRequest(tc.method, srv.URL+tc.path, strings.NewReader(tc.body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status {
			t.Errorf("%s %s: status %d, want %d", tc.method, tc.path, resp.StatusCode, tc.status)
		}
		if tc.code != "" && errorCode(got) != tc.code {
			t.Errorf("%s %s: code %q, want %q", tc.method, tc.path, errorCode(got), tc.code)
		}
		if tc.status == 200 && !strings.Contains(string(got), `"embedding":[`) {
			t.Errorf("embeddings: %s", got)
		}
	}
}

func TestErrorCode(t *testing.T) {
	for _, tc := range []struct{ body, want string }{
		{`{"error":{"message":"m","type":"requests","code":"rate_limit_exceeded"}}`, "rate_limit_exceeded"},
		{`{"error":{"message":"m","type":"server_error","code":null}}`, "server_error"},
		{`{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`, "overloaded_error"},
		{`{"object":"error","message":"m","type":"invalid_request_error","code":"1234"}`, "1234"},
		{`{"error":{"code":"has spaces and maybe a secret"}}`, "-"},
		{`<html>bad gateway</html>`, "-"},
		{``, "-"},
	} {
		if got := errorCode([]byte(tc.body)); got != tc.want {
			t.Errorf("errorCode(%s) = %q, want %q", tc.body, got, tc.want)
		}
	}
}
