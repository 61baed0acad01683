package gateway_test

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/custos-gateway/custos/audit"
	"github.com/custos-gateway/custos/gateway"
	"github.com/custos-gateway/custos/gateway/config"
	"github.com/custos-gateway/custos/gateway/providertest"
)

// TestStreamedEventsAreNotHeldBack: the relay writes events in batches when
// the provider sends them in a burst, so it must still flush each event the
// provider has sent before it waits for the next. The simulator sends its
// next content chunk only once the client has read the previous one: an
// event held back by the gateway stops the stream, and the test fails
// instead of waiting for ever. Chat completions and the Responses API (both
// relays).
func TestStreamedEventsAreNotHeldBack(t *testing.T) {
	words := []string{"one ", "two ", "three ", "four "}
	cases := []struct {
		name, path, body string
		content          func(line string) bool
	}{
		{"chat completions", "/v1/chat/completions",
			`{"model":"` + testModel + `","stream":true,"messages":[{"role":"user","content":"count"}]}`,
			func(l string) bool { return strings.Contains(l, `"content":"`) && !strings.Contains(l, `"content":""`) }},
		{"responses", "/v1/responses",
			`{"model":"` + testModel + `","stream":true,"input":"count"}`,
			func(l string) bool { return strings.Contains(l, `"type":"response.output_text.delta"`) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := startGateway(t, nil)
			gate := make(chan struct{})
			h.Sim.Script(providertest.Behaviour{Reply: strings.Join(words, ""), Gate: gate})
			ctx, cancel := context.WithCancel(context.Background())
			t.Cleanup(cancel) // a held-back stream leaves the provider waiting at its gate
			lines := make(chan string)
			go streamLines(ctx, h.URL+strings.TrimPrefix(c.path, "/v1"), c.body, lines)
			for i := range words {
				select {
				case gate <- struct{}{}:
				case <-time.After(10 * time.Second):
					t.Fatalf("the provider did not ask for chunk %d", i)
				}
				awaitContent(t, lines, c.content, i)
			}
			for range lines {
			}
		})
	}
}

// streamLines posts body to url and sends each line of the answer (after a
// first line with the status) to lines, closing it at the end.
func streamLines(ctx context.Context, url, body string, lines chan<- string) {
	defer close(lines)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		lines <- err.Error()
		return
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+appKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return
	}
	defer resp.Body.Close()
	send := func(l string) bool {
		select {
		case lines <- l:
			return true
		case <-ctx.Done():
			return false
		}
	}
	sc := bufio.NewScanner(resp.Body)
	for ok := send("status " + strconv.Itoa(resp.StatusCode)); ok && sc.Scan(); {
		ok = send(sc.Text())
	}
}

// awaitContent reads lines until one carries content; it fails when the
// stream ends first or none arrives within ten seconds (the gateway holds
// an event back).
func awaitContent(t *testing.T, lines <-chan string, content func(string) bool, i int) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("the stream ended before content chunk %d", i)
			}
			if strings.HasPrefix(l, "status ") && l != "status 200" {
				t.Fatalf("answer %s", l)
			}
			if content(l) {
				return
			}
		case <-deadline:
			t.Fatalf("content chunk %d was sent by the provider but did not reach the client", i)
		}
	}
}

// TestPlainAnswerIsSentWithItsLength: a complete answer is flushed as soon
// as it is written (before the log line and metrics), with its
// Content-Length, not chunked, and the connection stays reusable.
func TestPlainAnswerIsSentWithItsLength(t *testing.T) {
	h := startGateway(t, nil)
	for i := range 3 {
		resp := h.post(t, "/v1/chat/completions", "application/json", appKey, okBody)
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("request %d: %d %v", i, resp.StatusCode, err)
		}
		if resp.ContentLength != int64(len(body)) || len(resp.TransferEncoding) != 0 || len(body) == 0 {
			t.Fatalf("request %d: Content-Length %d, transfer encoding %v, body %d bytes", i, resp.ContentLength, resp.TransferEncoding, len(body))
		}
	}
}

// slowOutcomes holds every outcome record until released.
type slowOutcomes struct {
	gateway.AuditLog
	release <-chan struct{}
}

func (s slowOutcomes) AppendDeferred(r audit.Record) error {
	if r.Kind == audit.KindOutcome {
		<-s.release
	}
	return s.AuditLog.AppendDeferred(r)
}

// TestStreamContentNotHeldBehindTheOutcome: content that arrives in one
// read with the stream's end ([DONE]), or just before the provider cuts the
// stream, reaches the client while the outcome is being recorded (the end
// itself waits for the record).
func TestStreamContentNotHeldBehindTheOutcome(t *testing.T) {
	for _, done := range []bool{true, false} {
		t.Run(map[bool]string{true: "done", false: "cut"}[done], func(t *testing.T) {
			prov := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/event-stream")
				chunk := func(delta, finish string) string {
					return `data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"` + testModel +
						`","choices":[{"index":0,"delta":` + delta + `,"finish_reason":` + finish + `}]}` + "\n\n"
				}
				body := chunk(`{"role":"assistant","content":"hello world"}`, "null")
				if !done {
					_, _ = w.Write([]byte(body))
					return
				}
				_, _ = w.Write([]byte(body + chunk(`{}`, `"stop"`) + "data: [DONE]\n\n"))
				w.(http.Flusher).Flush()
				<-r.Context().Done()
			}))
			defer prov.Close()
			release := make(chan struct{})
			defer close(release)
			h := startGatewayOpts(t, harnessOptions{
				edit:      func(c *config.Config) { c.Endpoints[0].BaseURL = prov.URL },
				wrapAudit: func(a gateway.AuditLog) gateway.AuditLog { return slowOutcomes{a, release} },
			})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			lines := make(chan string)
			go streamLines(ctx, h.URL+"/chat/completions",
				`{"model":"`+testModel+`","stream":true,"messages":[{"role":"user","content":"hi"}]}`, lines)
			awaitContent(t, lines, func(l string) bool { return strings.Contains(l, "hello world") }, 0)
		})
	}
}

// TestAnswerOverTheLimit: a provider's answer over limits.max_response_bytes
// is refused whether it states its length (a small body, sent whole) or
// not (a large one, sent in chunks), and an answer within it is relayed.
func TestAnswerOverTheLimit(t *testing.T) {
	const limit = 1500
	cases := []struct {
		name   string
		reply  int // bytes of answer text
		status int
	}{
		{"within, length stated", 200, http.StatusOK},
		{"over, length stated", 1400, http.StatusBadGateway},
		{"over, sent in chunks", 8000, http.StatusBadGateway},
	}
	h := startGateway(t, func(c *config.Config) { c.Limits.MaxResponseBytes = limit })
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h.Sim.Script(providertest.Behaviour{Reply: strings.Repeat("word ", tc.reply/5)})
			resp := h.post(t, "/v1/chat/completions", "application/json", appKey, okBody)
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, body)
			}
			if tc.status != http.StatusOK && !strings.Contains(string(body), `"code":"upstream_answer_too_large"`) {
				t.Errorf("body %s", body)
			}
		})
	}
}
