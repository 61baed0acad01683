package clienttest_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/custos-gateway/custos/gateway/providertest"
)

// feature is a gateway capability some scenarios need that main may not
// have yet.
type feature string

const (
	featResponses            feature = "POST /v1/responses"
	featCountTokens          feature = "POST /v1/messages/count_tokens"
	featModelRetrieve        feature = "GET /v1/models/{id}"
	featAnthropicModels      feature = "the Anthropic models-list shape (anthropic-version)"
	featRequestIDHeaders     feature = "x-request-id and request-id response headers"
	featAnthropicStreamUsage feature = "usage in Anthropic-dialect streams"
	featDevEmbeddings        feature = "echo embeddings in serve --dev"
)

// pending lists the scenarios that wait on features not yet on main. While
// a feature's probe finds it absent, the scenario does not run and the suite
// reports it as not run; once the probe finds every feature it needs, it
// runs and must pass. Delete an entry when its features have landed.
var pending = map[string][]feature{}

// check is one assertion every scenario makes.
type check string

const checkSDKRequestID check = "the request id the library exposes is Custos's"

// pendingChecks are assertions every scenario makes that wait on a feature;
// while it is absent the rest of each scenario still runs, and the suite
// reports the check as not run. Delete an entry when its feature has landed.
var pendingChecks = map[check]feature{}

// features records which features the gateway has, as probed.
type features struct {
	present map[feature]bool
	saw     map[feature]string // what the probe saw, for the report
}

// missing returns the features of need the gateway lacks.
func (f *features) missing(need []feature) []feature {
	var out []feature
	for _, n := range need {
		if !f.present[n] {
			out = append(out, n)
		}
	}
	return out
}

// probe asks one gateway (and one dev gateway) what it serves. A probe
// finds a feature present as soon as the gateway's answer differs from
// what main answers without it; whether the feature works is the
// scenarios' to judge, so a half-built feature fails them rather than
// leaving them unrun.
type probe func(t *testing.T, g *custos, dev *devCustos) (bool, string)

var probes = map[feature]probe{
	featResponses:     routeProbe(http.MethodPost, "/v1/responses", ""),
	featCountTokens:   routeProbe(http.MethodPost, "/v1/messages/count_tokens", ""),
	featModelRetrieve: routeProbe(http.MethodGet, "/v1/models/"+gptModel, appKey),
	featAnthropicModels: func(t *testing.T, g *custos, _ *devCustos) (bool, string) {
		resp := call(t, http.MethodGet, g.URL+"/models", appKey, map[string]string{"anthropic-version": "2023-06-01"}, "")
		var list struct {
			Data    []modelInfo     `json:"data"`
			HasMore json.RawMessage `json:"has_more"`
		}
		err := json.NewDecoder(resp.Body).Decode(&list)
		f := first(list.Data)
		ok := err != nil || list.HasMore != nil || f.Type != "" || f.DisplayName != "" || f.CreatedAt != ""
		return ok, fmt.Sprintf("GET /v1/models with anthropic-version answered %d, first entry %+v", resp.StatusCode, f)
	},
	featRequestIDHeaders: func(t *testing.T, g *custos, _ *devCustos) (bool, string) {
		resp := call(t, http.MethodGet, g.URL+"/models", appKey, nil, "")
		id, x, r := resp.Header.Get("x-custos-request-id"), resp.Header.Get("x-request-id"), resp.Header.Get("request-id")
		return x != "" || r != "", fmt.Sprintf("x-custos-request-id %q, x-request-id %q, request-id %q", id, x, r)
	},
	featAnthropicStreamUsage: anthropicStreamUsageProbe,
	featDevEmbeddings: func(t *testing.T, _ *custos, dev *devCustos) (bool, string) {
		resp := call(t, http.MethodPost, dev.URL+"/embeddings", devKey, nil, `{"model":"echo","input":"hello"}`)
		body, _ := io.ReadAll(resp.Body)
		// Without the feature the echo provider refuses: it wants messages.
		ok := !strings.Contains(string(body), "messages parameter")
		return ok, fmt.Sprintf("serve --dev POST /v1/embeddings answered %d", resp.StatusCode)
	},
}

func first(ms []modelInfo) modelInfo {
	if len(ms) == 0 {
		return modelInfo{}
	}
	return ms[0]
}

// routeProbe: a route main does not serve is answered 404 unknown_route
// (before any key check); any other answer means the route is there.
func routeProbe(method, path, key string) probe {
	return func(t *testing.T, g *custos, _ *devCustos) (bool, string) {
		req, err := http.NewRequest(method, strings.TrimSuffix(g.URL, "/v1")+path, strings.NewReader("{}"))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		if key != "" {
			req.Header.Set("Authorization", "Bearer "+key)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		unknown := resp.StatusCode == http.StatusNotFound && strings.Contains(string(body), "unknown_route")
		return !unknown, fmt.Sprintf("%s %s answered %d", method, path, resp.StatusCode)
	}
}

// anthropicStreamUsageProbe streams one message and reads the output
// tokens of its message_delta event.
func anthropicStreamUsageProbe(t *testing.T, g *custos, _ *devCustos) (bool, string) {
	g.Anthropic.Script(providertest.Behaviour{Reply: "Probe answer."})
	resp := call(t, http.MethodPost, g.URL+"/messages", appKey, map[string]string{"anthropic-version": "2023-06-01"},
		`{"model":"`+claudeModel+`","max_tokens":16,"stream":true,"messages":[{"role":"user","content":"probe"}]}`)
	output := -1
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		data, ok := strings.CutPrefix(sc.Text(), "data: ")
		var ev struct {
			Type  string `json:"type"`
			Usage struct {
				OutputTokens int `json:"output_tokens"`
			} `json:"usage"`
		}
		if ok && json.Unmarshal([]byte(data), &ev) == nil && ev.Type == "message_delta" {
			output = ev.Usage.OutputTokens
		}
	}
	return output > 0, fmt.Sprintf("streamed /v1/messages answered %d, message_delta output_tokens %d", resp.StatusCode, output)
}

// call sends one request with key.
func call(t *testing.T, method, url, key string, header map[string]string, body string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

var (
	probeOnce sync.Once
	probed    *features
)

// probeFeatures probes every feature once per test binary run.
func probeFeatures(t *testing.T) *features {
	t.Helper()
	probeOnce.Do(func() {
		g, dev := startCustos(t), startDev(t)
		f := &features{present: map[feature]bool{}, saw: map[feature]string{}}
		for feat, p := range probes {
			f.present[feat], f.saw[feat] = p(t, g, dev)
		}
		probed = f
	})
	if probed == nil {
		t.Fatal("probing the gateway's features failed")
	}
	return probed
}
