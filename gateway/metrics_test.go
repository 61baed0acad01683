package gateway_test

import (
	"context"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"

	"github.com/custos-gateway/custos/gateway/config"
	"github.com/custos-gateway/custos/gateway/providertest"
	"github.com/custos-gateway/custos/gateway/upstream"
)

// scrape returns the metrics text and a lookup of one sample's value.
func scrape(t *testing.T, h *harness) (string, func(name string, labels ...string) float64) {
	t.Helper()
	resp := h.get(t, "/metrics", "")
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("scrape: %d", resp.StatusCode)
	}
	text := string(body)
	value := func(name string, labels ...string) float64 {
		t.Helper()
		total, found := 0.0, false
		for _, line := range strings.Split(text, "\n") {
			if !strings.HasPrefix(line, name+"{") && !strings.HasPrefix(line, name+" ") {
				continue
			}
			match := true
			for _, l := range labels {
				match = match && strings.Contains(line, l)
			}
			if match {
				f := strings.Fields(line)
				v, err := strconv.ParseFloat(f[len(f)-1], 64)
				if err != nil {
					t.Fatalf("sample %q: %v", line, err)
				}
				total, found = total+v, true
			}
		}
		if !found {
			return -1
		}
		return total
	}
	return text, value
}

// settledScrape scrapes until the chat route counts n successful requests
// (a request is counted once its handler has finished, which may be just
// after its client has read the last byte), for at most five seconds.
func settledScrape(t *testing.T, h *harness, n float64) (string, func(string, ...string) float64) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		text, v := scrape(t, h)
		if v("custos_requests_total", `route="/v1/chat/completions"`, `status_class="2xx"`) >= n || time.Now().After(deadline) {
			return text, v
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// After plain, streamed, denied, failed-over and PII-carrying requests
// every family counts them, and no label carries request text.
func TestMetricsCountWhatHappened(t *testing.T) {
	second := providertest.NewOpenAI(t)
	h := startGateway(t, func(c *config.Config) {
		c.Endpoints = append(c.Endpoints, config.Endpoint{Name: "local-llm", Kind: upstream.KindOpenAI, Provider: "azure",
			BaseURL: second.URL, Region: "eu-west", Models: []string{testModel}, Keyless: true, Priority: 5})
		prepaid(c)
	})
	topUp(t, h, hospital, 1_000_000)
	const canary = "CANARY-7f3a"
	ctx := context.Background()
	client := sdkClient(h, appKey)
	msgs := []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Patient Maria Garcia, MRN 00412345. " + canary)}
	if _, err := client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{Model: testModel, Messages: msgs,
		User: openai.String(canary), Metadata: map[string]string{canary: canary}}); err != nil {
		t.Fatal(err)
	}
	stream := client.Chat.Completions.NewStreaming(ctx, openai.ChatCompletionNewParams{Model: testModel, Messages: msgs})
	for stream.Next() {
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	h.Sim.Script(providertest.Behaviour{Status: 503})
	if _, err := client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{Model: testModel, Messages: msgs}); err != nil {
		t.Fatalf("failover: %v", err)
	}
	h.post(t, "/v1/chat/completions", "application/json", appKey, `{"model":"`+unlistedModel+`","messages":[{"role":"user","content":"`+canary+`"}]}`)
	h.post(t, "/v1/chat/completions", "application/json", appKey, `{"model":"`+canary+`","messages":[{"role":"user","content":"hi"}]}`)
	h.post(t, "/v1/chat/completions", "application/json", "cst_"+canary, okBody)

	text, v := settledScrape(t, h, 3)
	if strings.Contains(text, canary) || strings.Contains(text, "Maria") || strings.Contains(text, "00412345") {
		t.Fatal("a scrape carries request text")
	}
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"custos_requests_total", []string{`route="/v1/chat/completions"`, `status_class="2xx"`, `tenant="st-marys"`, `model="gpt-4o-mini"`}, 3},
		{"custos_requests_total", []string{`status_class="4xx"`, `code="model_not_allowed"`}, 1},
		{"custos_requests_total", []string{`code="model_not_found"`, `model="(not in catalog)"`}, 1},
		{"custos_requests_total", []string{`code="invalid_api_key"`, `tenant=""`}, 1},
		{"custos_policy_decisions_total", []string{`outcome="allow"`}, 3},
		{"custos_policy_decisions_total", []string{`outcome="deny"`, `code="model_not_allowed"`}, 1},
		{"custos_pii_findings_total", []string{`class="PERSON"`, `action="pseudonymize"`}, 3},
		{"custos_pii_findings_total", []string{`class="MEDICAL_RECORD_NUMBER"`}, 3},
		{"custos_upstream_attempts_total", []string{`endpoint="azure-openai-eu"`, `result="503"`}, 1},
		{"custos_upstream_attempts_total", []string{`endpoint="local-llm"`, `result="ok"`}, 1},
		{"custos_upstream_failovers_total", []string{`from_endpoint="azure-openai-eu"`}, 1},
		{"gen_ai_client_token_usage_count", []string{`gen_ai_token_type="input"`, `gen_ai_provider_name="azure"`}, 3},
		{"gen_ai_server_time_to_first_token_seconds_count", []string{`gen_ai_operation_name="chat"`}, 3},
		{"custos_stage_duration_seconds_count", []string{`stage="inspect"`}, 4},
		{"custos_upstream_circuit_state", []string{`endpoint="azure-openai-eu"`, `state="closed"`}, 1},
		{"custos_requests_in_flight", nil, 0},
	} {
		if got := v(c.name, c.labels...); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	if v("custos_tokens_total", `direction="output"`) <= 0 || v("go_goroutines") <= 0 || v("custos_policy_revision_info") != 1 {
		t.Error("token totals, Go runtime or policy revision missing")
	}
	checkMoneyAndAuditMetrics(t, h)
}

// checkMoneyAndAuditMetrics: the cost counted equals what left the
// balance once the charges are committed, nothing stays reserved, and the
// audit log's families describe its commits.
func checkMoneyAndAuditMetrics(t *testing.T, h *harness) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, v := scrape(t, h)
		cost := v("custos_cost_micros_total", `tenant="st-marys"`, `currency="USD"`)
		balance := v("custos_credit_balance_micros", `account="st-marys"`, `billing="prepaid"`)
		reserved := v("custos_credit_reserved_micros", `account="st-marys"`)
		if cost > 0 && balance+cost == 1_000_000 && reserved == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("cost %v, balance %v, reserved %v: want the balance down by the cost, nothing reserved", cost, balance, reserved)
		}
		time.Sleep(10 * time.Millisecond)
	}
	_, v := scrape(t, h)
	commits := v("custos_audit_commits_total", `result="ok"`)
	if commits < 1 || v("custos_audit_commit_batch_size_count") != commits || v("custos_audit_commit_duration_seconds_count") < commits ||
		v("custos_audit_commit_batch_size_sum") != v("custos_audit_records_total") || v("custos_audit_records_total") < 9 { // a credit, 3 intents, 5 outcomes
		t.Errorf("audit commits %v, batches %v (sum %v), durations %v, records %v", commits, v("custos_audit_commit_batch_size_count"),
			v("custos_audit_commit_batch_size_sum"), v("custos_audit_commit_duration_seconds_count"), v("custos_audit_records_total"))
	}
	if v("custos_audit_healthy") != 1 || v("custos_audit_disk_free_bytes") <= 0 || v("custos_audit_commits_total", `result="error"`) != 0 {
		t.Errorf("audit healthy %v, free %v, failed commits %v", v("custos_audit_healthy"), v("custos_audit_disk_free_bytes"),
			v("custos_audit_commits_total", `result="error"`))
	}
}

// TestInspectionCacheCounted: a request sent twice has its texts found in
// the inspection cache the second time, and the scrape counts the hits;
// another app sending the same text misses.
func TestInspectionCacheCounted(t *testing.T) {
	h := startGateway(t, nil)
	body := `{"model":"` + testModel + `","messages":[{"role":"user","content":"Summarise the visit notes of Maria Garcia in three bullet points."}]}`
	send := func(key string) {
		resp := h.post(t, "/v1/chat/completions", "application/json", key, body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("status %d", resp.StatusCode)
		}
	}
	send(appKey)
	_, v := scrape(t, h)
	hits, misses := v("custos_inspection_cache_lookups_total", `result="hit"`), v("custos_inspection_cache_lookups_total", `result="miss"`)
	if misses < 1 {
		t.Fatalf("first request: %v hits, %v misses", hits, misses)
	}
	send(appKey)
	_, v = scrape(t, h)
	if got := v("custos_inspection_cache_lookups_total", `result="hit"`); got < hits+1 {
		t.Errorf("second request: hits %v → %v, want at least one more", hits, got)
	}
	if got := v("custos_inspection_cache_lookups_total", `result="miss"`); got != misses {
		t.Errorf("second request: misses %v → %v, want none more", misses, got)
	}
	send(pilotKey) // another tenant's app, the same text
	_, v = scrape(t, h)
	if got := v("custos_inspection_cache_lookups_total", `result="miss"`); got < misses+1 {
		t.Errorf("another app's request: misses %v → %v, want at least one more", misses, got)
	}
}
