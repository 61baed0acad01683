package gateway_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/custos-gateway/custos/audit"
	"github.com/custos-gateway/custos/audit/ledger"
	"github.com/custos-gateway/custos/gateway/config"
	"github.com/custos-gateway/custos/gateway/providertest"
	"github.com/custos-gateway/custos/policies"
	"github.com/custos-gateway/custos/policy"
	"github.com/custos-gateway/custos/policy/pricing"
)

// testClock is a clock tests move by hand.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func newTestClock(t time.Time) *testClock { return &testClock{t: t} }

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func (c *testClock) Add(d time.Duration) { c.Set(c.Now().Add(d)) }

const hospital = "st-marys"

// prepaid bills the harness's hospital tenant from prepaid credit.
func prepaid(c *config.Config) { c.Tenants[0].Billing = "prepaid" }

// topUp credits account with micros of USD through the ledger.
func topUp(t testing.TB, h *harness, account string, micros int64) {
	t.Helper()
	if _, err := h.Ledger.Credit(context.Background(), audit.Credit{Op: audit.CreditTopUp, Account: account, Micros: micros,
		Currency: "USD", Reference: "test-topup", Actor: "test"}); err != nil {
		t.Fatal(err)
	}
}

// shippedPrices is the price table the shipped policy set serves.
func shippedPrices(t testing.TB) *pricing.Table {
	t.Helper()
	e, err := policy.New(context.Background(), policy.FromFS(policies.FS, "policies"), policy.Options{})
	if err != nil {
		t.Fatal(err)
	}
	table, _ := e.Prices()
	return table
}

// call sends a model request with the app key and reads the whole answer.
func call(t testing.TB, h *harness, path, body string, header map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, strings.TrimSuffix(h.URL, "/v1")+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+appKey)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Error(err)
		return &http.Response{}, ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// outcomes are the outcome records of model requests, by request id.
func outcomes(recs []audit.Record) map[string]audit.Record {
	out := map[string]audit.Record{}
	for _, r := range recs {
		if r.Kind == audit.KindOutcome && r.ModelRequested != "" {
			out[r.RequestID] = r
		}
	}
	return out
}

// reconcile checks that the journal, the audit costs and the balance agree
// to the micro-unit for account, and returns what was charged.
func reconcile(t testing.TB, path, account string, recs []audit.Record) int64 {
	t.Helper()
	rep, err := ledger.VerifyFiles([]string{path})
	if err != nil || !rep.OK() {
		t.Fatalf("journal does not verify: %+v %v", rep.Problem, err)
	}
	var costs int64
	for _, r := range recs {
		if r.Cost != nil && r.Cost.Account == account {
			costs += r.Cost.Micros
		}
	}
	for _, a := range rep.Accounts {
		if a.Account != account {
			continue
		}
		if a.Charges != costs || a.AuditCosts != costs || a.Credits-a.Balance != costs {
			t.Errorf("%s: journal charges %d, audit costs %d (records say %d), credits %d − balance %d = %d",
				account, a.Charges, a.AuditCosts, costs, a.Credits, a.Balance, a.Credits-a.Balance)
		}
		return costs
	}
	t.Fatalf("no account %s in the journal", account)
	return 0
}

type stormRequest struct {
	path, model, body string
	header            map[string]string
	stream, anthropic bool
}

func stormRequests() []stormRequest {
	msg := `[{"role":"user","content":"Summarise the handover for bed 7 in two lines."}]`
	anth := map[string]string{"anthropic-version": "2023-06-01"}
	return []stormRequest{
		{path: "/v1/chat/completions", model: "gpt-4o-mini", body: `{"model":"gpt-4o-mini","max_tokens":256,"messages":` + msg + `}`},
		{path: "/v1/chat/completions", model: "gpt-4o", stream: true, body: `{"model":"gpt-4o","max_tokens":256,"stream":true,"messages":` + msg + `}`},
		{path: "/v1/messages", model: "gpt-4o-mini", anthropic: true, header: anth, body: `{"model":"gpt-4o-mini","max_tokens":256,"messages":` + msg + `}`},
		{path: "/v1/messages", model: "gpt-4o", anthropic: true, stream: true, header: anth, body: `{"model":"gpt-4o","max_tokens":256,"stream":true,"messages":` + msg + `}`},
	}
}

// refusedForCredit reports a 402 in the request's dialect.
func refusedForCredit(r stormRequest, status int, body string) bool {
	if status != http.StatusPaymentRequired {
		return false
	}
	if r.anthropic {
		var e struct {
			Type  string                `json:"type"`
			Error struct{ Type string } `json:"error"`
		}
		return json.Unmarshal([]byte(body), &e) == nil && e.Type == "error" && e.Error.Type == "billing_error"
	}
	var e struct{ Error struct{ Code string } }
	return json.Unmarshal([]byte(body), &e) == nil && e.Error.Code == "insufficient_credit"
}

// 400 concurrent requests, streamed and plain, two models, two dialects,
// against credit for about 100 of them: holds never exceed the balance,
// the rest are refused with 402 before any provider call, and the journal,
// the audit costs and the balance agree to the micro-unit.
func TestPrepaidStormNeverOverdraws(t *testing.T) {
	h := startGateway(t, func(c *config.Config) {
		prepaid(c)
		c.Endpoints[0].Models = append(c.Endpoints[0].Models, "gpt-4o")
	})
	// Slow answers: most holds are taken while the first are still open.
	h.Sim.SetDefault(providertest.Behaviour{Latency: 300 * time.Millisecond})
	reqs := stormRequests()
	table := shippedPrices(t)
	var credit int64 // the maxima of 100 requests of the mix, each body taken as its prompt bound
	for _, r := range reqs {
		c, err := table.MaxCost(pricing.Request{PromptTokens: int64(len(r.body)), MaxTokens: 256}, r.model, "azure-openai-eu", time.Now())
		if err != nil {
			t.Fatal(err)
		}
		credit += 100 / int64(len(reqs)) * c.Amount
	}
	topUp(t, h, hospital, credit)

	var overdrawn atomic.Int64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() { // the balance less the holds, watched throughout
		defer close(sampled)
		for {
			select {
			case <-stop:
				return
			default:
			}
			if a, err := h.Ledger.Account(context.Background(), hospital); err == nil && a.Available < 0 {
				overdrawn.Add(1)
			}
			time.Sleep(100 * time.Microsecond)
		}
	}()
	const n = 400
	var served, refused atomic.Int64
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		r := reqs[i%len(reqs)]
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			resp, body := call(t, h, r.path, r.body, r.header)
			switch {
			case resp.StatusCode == http.StatusOK:
				served.Add(1)
			case refusedForCredit(r, resp.StatusCode, body):
				refused.Add(1)
			default:
				t.Errorf("%s stream=%v: %d %s", r.path, r.stream, resp.StatusCode, body)
			}
		}()
	}
	close(start)
	wg.Wait()
	close(stop)
	<-sampled
	if overdrawn.Load() > 0 {
		t.Errorf("holds exceeded the balance %d times", overdrawn.Load())
	}
	if served.Load() < 80 || served.Load() > 200 || refused.Load() == 0 {
		t.Errorf("served %d, refused %d: want about 100 served and the rest refused", served.Load(), refused.Load())
	}
	if got := h.Sim.Requests(); int64(got) != served.Load() {
		t.Errorf("the provider saw %d requests, %d were served: a refused request reached it", got, served.Load())
	}
	t.Logf("400 requests: %d served, %d refused with 402, credit for the maxima of 100", served.Load(), refused.Load())

	recs := h.records(t)
	outs := outcomes(recs)
	intents := 0
	for _, r := range recs {
		if r.Kind == audit.KindIntent {
			intents++
		}
	}
	if intents != int(served.Load()) || len(outs) != n {
		t.Errorf("%d intents for %d served, %d outcomes for %d requests", intents, served.Load(), len(outs), n)
	}
	for id, r := range outs {
		switch {
		case r.Status == http.StatusOK && (r.Cost == nil || r.Cost.Micros <= 0 || r.Cost.Account != hospital || r.Cost.Estimated):
			t.Errorf("%s served without a cost from usage: %+v", id, r.Cost)
		case r.Status == http.StatusPaymentRequired && (r.Cost != nil || r.ErrorCode != "insufficient_credit" || r.IntentSeq != 0):
			t.Errorf("%s refused but %+v", id, r)
		}
	}
	charged := reconcile(t, h.AuditPath, hospital, recs)
	if charged <= 0 || charged > credit {
		t.Errorf("charged %d of %d", charged, credit)
	}
}

// A stream cut short is charged for what the provider produced: a
// provider that fails after the first byte, and a client that goes away.
func TestStreamCutShortIsChargedForWhatWasProduced(t *testing.T) {
	h := startGateway(t, prepaid)
	topUp(t, h, hospital, 10_000_000)
	long := strings.Repeat("The ward round found nothing new overnight. ", 40)
	stream := `{"model":"gpt-4o-mini","max_tokens":800,"stream":true,"messages":[{"role":"user","content":"Report on the night."}]}`

	h.Sim.Script(providertest.Behaviour{Reply: long, DropAfterChunks: 30})
	resp, body := call(t, h, "/v1/chat/completions", stream, nil)
	if resp.StatusCode != 200 || !strings.Contains(body, "upstream_interrupted") {
		t.Fatalf("provider cut: %d %s", resp.StatusCode, body)
	}

	h.Sim.Script(providertest.Behaviour{Reply: long, ChunkDelay: 5 * time.Millisecond})
	req, _ := http.NewRequest(http.MethodPost, strings.TrimSuffix(h.URL, "/v1")+"/v1/chat/completions", strings.NewReader(stream))
	req.Header.Set("Authorization", "Bearer "+appKey)
	req.Header.Set("Content-Type", "application/json")
	cresp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 2048)
	got := 0
	for got < 1500 { // a few chunks, then the client goes away
		n, err := cresp.Body.Read(buf)
		got += n
		if err != nil {
			break
		}
	}
	cresp.Body.Close()
	h.waitForRequestLogs(t, 2)

	recs := h.records(t)
	codes := map[string]int{}
	for _, r := range outcomes(recs) {
		codes[r.ErrorCode]++
		if r.Cost == nil || !r.Cost.Estimated || r.Cost.Micros <= 0 || r.Tokens == nil || !r.Tokens.Estimated || r.Tokens.Completion <= 0 {
			t.Errorf("%s (%d %s): cost %+v tokens %+v, want an estimated charge for the text relayed", r.RequestID, r.Status, r.ErrorCode, r.Cost, r.Tokens)
		}
		if r.Tokens != nil && r.Tokens.Completion >= 400 { // the whole reply is about 360 tokens
			t.Errorf("%s charged for %d completion tokens: more than was produced", r.RequestID, r.Tokens.Completion)
		}
	}
	if codes["upstream_interrupted"] != 1 || codes["client_closed"] != 1 || len(codes) != 2 {
		t.Errorf("outcomes %v, want one provider cut and one client gone", codes)
	}
	if a := reconcile(t, h.AuditPath, hospital, recs); a <= 0 {
		t.Errorf("charged %d", a)
	}
}

// Streams from every provider kind are costed from the provider's usage;
// a stream without usage is costed from the tokenizer, marked estimated,
// and never at zero.
func TestStreamsOfEveryProviderKindAreCosted(t *testing.T) {
	table := shippedPrices(t)
	kinds := []string{"openai", "azure", "mistral", "deepseek", "qwen", "openrouter", "anthropic", "gemini"}
	stream := `{"model":"gpt-4o-mini","max_tokens":100,"stream":true,"messages":[{"role":"user","content":"Status of bed 4?"}]}`
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			url, script := simulatorOf(t, kind)
			h := startGateway(t, func(c *config.Config) {
				prepaid(c)
				c.Endpoints[0].Kind, c.Endpoints[0].Provider, c.Endpoints[0].BaseURL = kind, kind, url
				if kind == "azure" {
					c.Endpoints[0].Deployments = map[string]string{testModel: "prod-4o-mini"}
				}
			})
			topUp(t, h, hospital, 10_000_000)
			reply := "Stable overnight, observations normal, no pain reported."
			// With usage; then without (an OpenAI-wire provider ignoring
			// include_usage, or a stream cut before its usage arrives).
			script(providertest.Behaviour{Reply: reply},
				providertest.Behaviour{Reply: reply, NoUsage: true, DropAfterChunks: dropFor(kind)})
			for range 2 {
				if resp, body := call(t, h, "/v1/chat/completions", stream, nil); resp.StatusCode != 200 {
					t.Fatalf("%d %s", resp.StatusCode, body)
				}
			}
			h.waitForRequestLogs(t, 2)
			recs := h.records(t)
			var fromUsage, estimated int
			for _, r := range outcomes(recs) {
				if r.Cost == nil || r.Cost.Micros <= 0 || r.Tokens == nil {
					t.Fatalf("not costed: %+v", r)
				}
				if r.Cost.Estimated {
					estimated++
					continue
				}
				fromUsage++
				want, err := table.Cost(pricing.Usage{Input: r.Tokens.Prompt - r.Tokens.Cached, CachedInput: r.Tokens.Cached,
					Output: r.Tokens.Completion}, testModel, "azure-openai-eu", time.Now())
				if err != nil || want.Amount != r.Cost.Micros || r.Tokens.Prompt != 17 {
					t.Errorf("cost %d for %+v, want %d (%v)", r.Cost.Micros, r.Tokens, want.Amount, err)
				}
			}
			if fromUsage != 1 || estimated != 1 {
				t.Errorf("%d costed from usage, %d estimated; want one each", fromUsage, estimated)
			}
			reconcile(t, h.AuditPath, hospital, recs)
		})
	}
}

// simulatorOf starts the simulator of a provider kind and returns its base
// URL and how to script it.
func simulatorOf(t *testing.T, kind string) (string, func(...providertest.Behaviour)) {
	switch kind {
	case "anthropic":
		s := providertest.NewAnthropic(t)
		return s.URL, s.Script
	case "gemini":
		s := providertest.NewGemini(t)
		return s.URL, s.Script
	case "openai":
		s := providertest.NewOpenAI(t)
		return s.URL, s.Script
	}
	s := providertest.NewProvider(t, kind)
	return s.URL, s.Script
}

// dropFor: the Anthropic and Gemini simulators always report usage, so
// their usage-less stream is one the provider cuts short.
func dropFor(kind string) int {
	if kind == "anthropic" || kind == "gemini" {
		return 3
	}
	return 0
}
