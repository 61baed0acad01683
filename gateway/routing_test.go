package gateway_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"

	"github.com/custos-gateway/custos/gateway/config"
	"github.com/custos-gateway/custos/gateway/providertest"
)

// A request carrying health data (an MRN): the hospital's policy keeps it in
// the EU, on endpoints with a signed BAA.
const healthBody = `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Summarise the chart for MRN 00412345"}]}`

type fleet struct {
	h                *harness
	euA, euB, uk, us *providertest.OpenAI
}

// startFleet runs two regions × several providers: two EU endpoints with a
// BAA, one UK and one US endpoint. The US one has the best priority, so only
// the policy keeps traffic away from it.
func startFleet(t *testing.T, edit func(*config.Config, *fleet)) *fleet {
	t.Helper()
	f := &fleet{euB: providertest.NewOpenAI(t), uk: providertest.NewOpenAI(t), us: providertest.NewOpenAI(t)}
	f.h = startGateway(t, func(c *config.Config) {
		harnessSim := c.Endpoints[0].BaseURL // the harness's own simulator serves the first EU endpoint
		c.Endpoints = []config.Endpoint{
			{Name: "openai-us", Kind: "openai", Provider: "openai", BaseURL: f.us.URL, Region: "us-east", Models: []string{testModel}, Priority: 0, Keyless: true},
			{Name: "azure-openai-eu", Kind: "openai", Provider: "azure", BaseURL: harnessSim, Region: "eu-west", Models: []string{testModel}, Priority: 1, Keyless: true},
			{Name: "local-llm", Kind: "openai", Provider: "vllm", BaseURL: f.euB.URL, Region: "eu-central", Models: []string{testModel}, Priority: 2, Keyless: true},
			{Name: "azure-openai-uk", Kind: "openai", Provider: "azure", BaseURL: f.uk.URL, Region: "uk-south", Models: []string{testModel}, Priority: 3, Keyless: true},
		}
		if edit != nil {
			edit(c, f)
		}
	})
	f.euA = f.h.Sim
	return f
}

func (f *fleet) post(t *testing.T, body string) (*http.Response, string) {
	resp := f.h.post(t, "/v1/chat/completions", "application/json", appKey, body)
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func fleetWith(t *testing.T, euAURL string) *fleet {
	t.Helper()
	return startFleet(t, func(c *config.Config, f *fleet) {
		c.Endpoints[1].BaseURL = euAURL
	})
}

func TestEUOnlyDataNeverLeavesTheEU(t *testing.T) {
	f := startFleet(t, nil)
	for _, sim := range []*providertest.OpenAI{f.euA, f.euB} {
		sim.SetDefault(providertest.Behaviour{Status: 503})
	}
	resp, body := f.post(t, healthBody)
	if resp.StatusCode != 502 || !strings.Contains(body, "upstream_error") {
		t.Errorf("every EU endpoint failing: %d %s, want 502 upstream_error", resp.StatusCode, body)
	}
	if f.euA.Requests() != 1 || f.euB.Requests() != 1 {
		t.Errorf("EU attempts = %d + %d, want one each", f.euA.Requests(), f.euB.Requests())
	}
	if n := f.us.Requests() + f.uk.Requests(); n != 0 {
		t.Fatalf("%d requests left the EU", n)
	}
	// Plain requests may use the UK; never the US.
	f.euA.SetDefault(providertest.Behaviour{})
	f.euB.SetDefault(providertest.Behaviour{})
	for range 3 {
		resp, _ := f.post(t, okBody)
		if r := resp.Header.Get("x-custos-region"); r == "us-east" || r == "" {
			t.Errorf("served from region %q", r)
		}
	}
	if f.us.Requests() != 0 {
		t.Errorf("the US endpoint saw %d requests", f.us.Requests())
	}
	recs := f.h.records(t)
	var attempts int
	for _, r := range recs {
		if r.Kind == "outcome" && r.Status == 502 {
			attempts = len(r.Attempts)
			for _, a := range r.Attempts {
				if a.Endpoint != "azure-openai-eu" && a.Endpoint != "local-llm" {
					t.Errorf("attempt recorded at %s", a.Endpoint)
				}
			}
		}
	}
	if attempts != 2 {
		t.Errorf("the refused request records %d attempts, want 2", attempts)
	}
}

func TestFailoverWithinTheAllowedSet(t *testing.T) {
	cases := []struct {
		name  string
		setup func(*fleet)
	}{
		{"429", func(f *fleet) { f.euA.Script(providertest.Behaviour{Status: 429, RetryAfter: "30"}) }},
		{"500", func(f *fleet) { f.euA.Script(providertest.Behaviour{Status: 500}) }},
		{"503", func(f *fleet) { f.euA.Script(providertest.Behaviour{Status: 503}) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := startFleet(t, nil)
			tc.setup(f)
			resp, body := f.post(t, healthBody)
			if resp.StatusCode != 200 || resp.Header.Get("x-custos-endpoint") != "local-llm" {
				t.Fatalf("%d %s via %s, want 200 from local-llm", resp.StatusCode, body, resp.Header.Get("x-custos-endpoint"))
			}
			if f.us.Requests()+f.uk.Requests() != 0 {
				t.Errorf("failover left the allowed set")
			}
		})
	}
	t.Run("connection refused", func(t *testing.T) {
		f := fleetWith(t, "http://127.0.0.1:1/v1")
		resp, body := f.post(t, healthBody)
		if resp.StatusCode != 200 || resp.Header.Get("x-custos-endpoint") != "local-llm" {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
	})
	t.Run("timeout before the first byte", func(t *testing.T) {
		f := startFleet(t, func(c *config.Config, _ *fleet) {
			c.Upstream.ResponseHeaderTimeout = config.Duration(200 * time.Millisecond)
		})
		f.euA.Script(providertest.Behaviour{Latency: 2 * time.Second})
		resp, body := f.post(t, healthBody)
		if resp.StatusCode != 200 || resp.Header.Get("x-custos-endpoint") != "local-llm" {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
	})
}

func TestRetryAfterIsHonoured(t *testing.T) {
	f := startFleet(t, nil)
	f.euA.Script(providertest.Behaviour{Status: 429, RetryAfter: "30"})
	for i := range 3 {
		resp, body := f.post(t, healthBody)
		if resp.StatusCode != 200 {
			t.Fatalf("request %d: %d %s", i, resp.StatusCode, body)
		}
	}
	if f.euA.Requests() != 1 {
		t.Errorf("the rate-limited endpoint was tried %d times within its Retry-After, want once", f.euA.Requests())
	}
	// When every compliant endpoint asks for a pause, the caller is told when to retry.
	f.euB.SetDefault(providertest.Behaviour{Status: 429, RetryAfter: "20"})
	f.post(t, healthBody)
	resp, body := f.post(t, healthBody)
	if resp.StatusCode != 503 || !strings.Contains(body, "no_endpoint_available") || resp.Header.Get("Retry-After") == "" {
		t.Errorf("all cooling: %d %s (Retry-After %q)", resp.StatusCode, body, resp.Header.Get("Retry-After"))
	}
	if f.us.Requests()+f.uk.Requests() != 0 {
		t.Errorf("rate limits pushed traffic out of the EU")
	}
}

func TestNoFailoverAfterTheFirstStreamedByte(t *testing.T) {
	f := startFleet(t, nil)
	f.euA.Script(providertest.Behaviour{Reply: "one two three four", DropAfterChunks: 2})
	client := sdkClient(f.h, appKey)
	stream := client.Chat.Completions.NewStreaming(context.Background(), openai.ChatCompletionNewParams{
		Model:    testModel,
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Summarise the chart for MRN 00412345")},
	})
	for stream.Next() {
	}
	if stream.Err() == nil {
		t.Fatal("a stream cut by the provider ended cleanly")
	}
	if f.euB.Requests() != 0 {
		t.Errorf("the stream was retried elsewhere after bytes reached the client (%d requests)", f.euB.Requests())
	}
}

// A model alias serves another model only where the policy allows that one.
func TestModelAliasesNeedThePolicy(t *testing.T) {
	f := startFleet(t, func(c *config.Config, _ *fleet) {
		for i := range c.Endpoints {
			c.Endpoints[i].Models = []string{"llama-3.1-70b"}
		}
		// The EU endpoint serves gpt-4o as gpt-4o-mini (allowed for the
		// hospital); the UK one serves it as gpt-3.5-turbo (not allowed).
		c.Endpoints[1].Aliases = map[string]string{"gpt-4o": "gpt-4o-mini"}
		c.Endpoints[3].Aliases = map[string]string{"gpt-4o": "gpt-3.5-turbo"}
	})
	resp, body := f.post(t, `{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}`)
	if resp.StatusCode != 200 || resp.Header.Get("x-custos-endpoint") != "azure-openai-eu" {
		t.Fatalf("%d %s via %s", resp.StatusCode, body, resp.Header.Get("x-custos-endpoint"))
	}
	if got := f.euA.Received(); len(got) != 1 || !strings.Contains(string(got[0].Body), `"model":"gpt-4o-mini"`) {
		t.Errorf("the endpoint was not asked for its served model: %s", got[0].Body)
	}
	// With the EU endpoint down, the UK alias is not a way out.
	f.euA.SetDefault(providertest.Behaviour{Status: 503})
	resp, _ = f.post(t, `{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}`)
	if resp.StatusCode == 200 || f.uk.Requests() != 0 {
		t.Errorf("status %d, UK requests %d: an alias to a model the policy does not allow was used", resp.StatusCode, f.uk.Requests())
	}
	for _, r := range f.h.records(t) {
		if r.Kind == "outcome" && r.Status == 200 && (r.ModelRequested != "gpt-4o" || r.ModelServed != "gpt-4o-mini") {
			t.Errorf("audit: requested %s served %s", r.ModelRequested, r.ModelServed)
		}
	}
}
