package clienttest_test

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/custos-gateway/custos/audit"
	"github.com/custos-gateway/custos/gateway/providertest"
)

var custosRequestID = regexp.MustCompile(`^req_[0-9a-f]{24}$`)

// checkExchanges: the library made as many requests as the scenario needs,
// each answered 200 with a Custos request id. It reports whether the rest
// of the checks can read the exchanges.
func checkExchanges(t *testing.T, sc scenario, obs observation) bool {
	t.Helper()
	calls := max(1, sc.want.calls)
	if len(obs.Exchanges) != calls {
		t.Errorf("the library made %d requests, want %d: %+v", len(obs.Exchanges), calls, obs.Exchanges)
		return false
	}
	ok := true
	for i, ex := range obs.Exchanges {
		if ex.Status != 200 || !custosRequestID.MatchString(ex.CustosRequestID) {
			t.Errorf("request %d (%s %s): status %d, x-custos-request-id %q", i, ex.Method, ex.Path, ex.Status, ex.CustosRequestID)
			ok = false
		}
	}
	return ok
}

// simUsage is what the simulators report for a scripted reply.
func simUsage(b providertest.Behaviour) usage {
	in, out := providertest.Usage(len(providertest.ReplyChunks(b.Reply)))
	return usage{Input: in, Output: out}
}

// expectedUsage is the usage the client must read, for the rules that fix
// it to the simulator's numbers.
func expectedUsage(sc scenario) (usage, bool) {
	switch sc.want.usage {
	case usageLast:
		return simUsage(sc.replies[len(sc.replies)-1]), true
	case usageSum:
		var u usage
		for _, b := range sc.replies {
			s := simUsage(b)
			u.Input, u.Output = u.Input+s.Input, u.Output+s.Output
		}
		return u, true
	}
	return usage{}, false
}

// checkAnswer: content, usage, the tool call and stream events.
func checkAnswer(t *testing.T, sc scenario, obs observation) {
	t.Helper()
	w := sc.want
	if w.content != "" && obs.Content != w.content {
		t.Errorf("content = %q, want %q", obs.Content, w.content)
	}
	if u, fixed := expectedUsage(sc); fixed && (obs.Usage == nil || *obs.Usage != u) {
		t.Errorf("usage = %+v, want the simulator's %+v", obs.Usage, u)
	}
	if w.usage == usagePositive && (obs.Usage == nil || obs.Usage.Input <= 0 || obs.Usage.Output != 0) {
		t.Errorf("usage = %+v, want a positive input count", obs.Usage)
	}
	if w.tool != nil && (len(obs.ToolCalls) != 1 || obs.ToolCalls[0].Name != w.tool.Name || !sameJSON(obs.ToolCalls[0].Arguments, w.tool.Arguments)) {
		t.Errorf("tool calls = %+v, want one %+v", obs.ToolCalls, *w.tool)
	}
	if !subsequence(obs.Events, w.events) {
		t.Errorf("stream events %v, want %v among them in order", obs.Events, w.events)
	}
	checkModels(t, sc, obs)
}

// checkModels: models.list and models.retrieve, in the dialect's shape.
func checkModels(t *testing.T, sc scenario, obs observation) {
	t.Helper()
	w := sc.want
	if w.models != nil {
		got := slices.Sorted(slices.Values(obs.Models))
		if !slices.Equal(got, w.models) {
			t.Errorf("models.list = %v, want %v", obs.Models, w.models)
		}
		if w.shape == "anthropic" && len(obs.Listed) != len(w.models) {
			t.Errorf("models.list gave %d model objects", len(obs.Listed))
		}
		for _, m := range obs.Listed {
			checkShape(t, w.shape, m)
		}
	}
	if w.model != "" {
		if obs.Model == nil || obs.Model.ID != w.model {
			t.Fatalf("models.retrieve = %+v, want %s", obs.Model, w.model)
		}
		checkShape(t, w.shape, *obs.Model)
	}
}

func checkShape(t *testing.T, shape string, m modelInfo) {
	t.Helper()
	switch shape {
	case "anthropic":
		if _, err := time.Parse(time.RFC3339, m.CreatedAt); m.Type != "model" || m.DisplayName == "" || err != nil {
			t.Errorf("model %+v is not in the Anthropic shape (type model, display_name, created_at RFC 3339)", m)
		}
	case "openai":
		if m.Object != "" && m.Object != "model" {
			t.Errorf("model %+v is not in the OpenAI shape", m)
		}
	}
}

// subsequence reports whether want occurs in got in order.
func subsequence(got, want []string) bool {
	i := 0
	for _, g := range got {
		if i < len(want) && g == want[i] {
			i++
		}
	}
	return i == len(want)
}

func sameJSON(a, b string) bool {
	var x, y any
	if json.Unmarshal([]byte(a), &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return false
	}
	bx, _ := json.Marshal(x)
	by, _ := json.Marshal(y)
	return string(bx) == string(by)
}

// checkReceived: the model's simulator got the scenario's requests, with
// what they must carry, and neither simulator saw a planted value.
func checkReceived(t *testing.T, sc scenario, g *custos) {
	t.Helper()
	got := g.sim(sc.model).Received()
	if want := max(sc.want.simRequests, len(sc.replies)); sc.want.simRequests >= 0 && len(got) != want {
		t.Errorf("the %s simulator received %d requests, want %d", sc.model, len(got), want)
	}
	var all strings.Builder
	for _, r := range got {
		all.Write(r.Body)
	}
	for _, s := range sc.want.received {
		if !strings.Contains(all.String(), s) {
			t.Errorf("the simulator never received %q; it received:\n%s", s, all.String())
		}
	}
	for _, r := range append(g.OpenAI.Received(), g.Anthropic.Received()...) {
		for _, v := range planted {
			if strings.Contains(string(r.Body), v) {
				t.Errorf("a provider received the planted value %q (%s)", v, r.Path)
			}
		}
	}
}

// checkEmbeddings (dev): the echo provider's vectors are derived from what
// it was sent, so the two calls it saw alike (the e-mail pseudonymized) get
// one vector and the third another.
func checkEmbeddings(t *testing.T, obs observation) {
	t.Helper()
	e := obs.Embeddings
	if len(e) != 3 || len(e[0]) == 0 || len(e[1]) != len(e[0]) || len(e[2]) != len(e[0]) {
		t.Fatalf("embeddings: %d vectors, want 3 of one dimension: %v", len(e), e)
	}
	if !slices.Equal(e[0], e[1]) {
		t.Errorf("two inputs the provider saw alike got different vectors")
	}
	if slices.Equal(e[0], e[2]) {
		t.Errorf("two different inputs got one vector")
	}
}

// checkRecords: every request the library made has its outcome in the audit
// log under the id Custos answered with, and the tokens recorded are what
// the client read.
func checkRecords(t *testing.T, sc scenario, obs observation, records []audit.Record) {
	t.Helper()
	byID := map[string]audit.Record{}
	for _, r := range records {
		if r.Kind == audit.KindOutcome {
			byID[r.RequestID] = r
		}
	}
	var tokens usage
	for _, ex := range obs.Exchanges {
		r, ok := byID[ex.CustosRequestID]
		if !ok || r.Status != 200 {
			t.Errorf("request %s (%s): outcome record %+v, present %v", ex.CustosRequestID, ex.Path, r, ok)
			continue
		}
		if r.Tokens != nil {
			tokens.Input += int(r.Tokens.Prompt)
			tokens.Output += int(r.Tokens.Completion)
		}
	}
	if sc.want.usage == usageLast {
		last := byID[obs.Exchanges[len(obs.Exchanges)-1].CustosRequestID]
		tokens = usage{}
		if last.Tokens != nil {
			tokens = usage{Input: int(last.Tokens.Prompt), Output: int(last.Tokens.Completion)}
		}
	}
	if u, fixed := expectedUsage(sc); fixed && tokens != u {
		t.Errorf("the audit log recorded tokens %+v, want the simulator's %+v", tokens, u)
	}
}
