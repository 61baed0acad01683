package gateway_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"

	"github.com/custos-gateway/custos/audit"
	"github.com/custos-gateway/custos/gateway/providertest"
)

func byRequest(recs []audit.Record) map[string][]audit.Record {
	m := map[string][]audit.Record{}
	for _, r := range recs {
		m[r.RequestID] = append(m[r.RequestID], r)
	}
	return m
}

func TestEveryRequestIsAudited(t *testing.T) {
	h := startGateway(t, nil)
	h.Sim.Script(providertest.Behaviour{}, providertest.Behaviour{}, providertest.Behaviour{Status: 503})
	client := sdkClient(h, appKey)
	ctx := context.Background()
	msgs := []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")}

	ids := map[string]string{}
	do := func(name, key, body string) {
		resp := h.post(t, "/v1/chat/completions", "application/json", key, body)
		io.Copy(io.Discard, resp.Body)
		ids[name] = resp.Header.Get("x-custos-request-id")
	}
	do("plain", appKey, okBody)
	stream := client.Chat.Completions.NewStreaming(ctx, openai.ChatCompletionNewParams{Model: testModel, Messages: msgs})
	for stream.Next() {
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	do("upstream 503", appKey, okBody)
	do("denied", appKey, `{"model":"`+unlistedModel+`","messages":[{"role":"user","content":"hi"}]}`)
	do("bad json", appKey, `{"model":`)
	do("unknown key", "cst_nobody", okBody)

	recs := h.records(t)
	got := byRequest(recs)
	check := func(name string, kinds []string, status int, code string) []audit.Record {
		t.Helper()
		rs := got[ids[name]]
		var k []string
		for _, r := range rs {
			k = append(k, r.Kind)
		}
		if strings.Join(k, ",") != strings.Join(kinds, ",") {
			t.Fatalf("%s: record kinds %v, want %v", name, k, kinds)
		}
		out := rs[len(rs)-1]
		if out.Status != status || out.ErrorCode != code {
			t.Errorf("%s: outcome status %d code %q, want %d %q", name, out.Status, out.ErrorCode, status, code)
		}
		if len(rs) == 2 && out.IntentSeq != rs[0].Seq {
			t.Errorf("%s: outcome links intent %d, intent is %d", name, out.IntentSeq, rs[0].Seq)
		}
		return rs
	}
	plain := check("plain", []string{"intent", "outcome"}, 200, "")
	o := plain[1]
	if o.Tenant != "st-marys" || o.App != "clinical-assistant" || o.Purpose != "treatment" || o.Endpoint != "azure-openai-eu" ||
		o.Region != "eu-west" || o.ModelRequested != testModel || o.Instance != "test" || !strings.HasPrefix(o.PolicyRevision, "2026-11-27.1+sha256:") ||
		o.Decision == nil || !o.Decision.Allow || o.Tokens == nil || o.Tokens.Prompt != 17 || o.Tokens.Estimated || len(o.Attempts) != 1 || o.Attempts[0].Status != 200 {
		t.Errorf("outcome record incomplete: %+v", o)
	}
	if plain[0].Tokens == nil || !plain[0].Tokens.Estimated {
		t.Errorf("intent should carry an estimated prompt size: %+v", plain[0].Tokens)
	}
	check("upstream 503", []string{"intent", "outcome"}, 502, "upstream_error")
	denied := check("denied", []string{"outcome"}, 403, "model_not_allowed")
	if d := denied[0].Decision; d == nil || d.Allow || len(d.Codes) != 1 || d.Codes[0] != "model_not_allowed" {
		t.Errorf("denied decision recorded as %+v", d)
	}
	check("bad json", []string{"outcome"}, 400, "invalid_json")
	// A failed authentication is recorded in aggregate: one record per
	// source and minute, with a count and the codes (never per request).
	if rs := got[ids["unknown key"]]; len(rs) != 0 {
		t.Errorf("unknown key: %d records of its own, want none (aggregated)", len(rs))
	}
	unauth := 0
	for _, r := range recs {
		if r.Kind == audit.KindUnauthenticated {
			if r.Unauthenticated == nil || r.Unauthenticated.Count != 1 || r.Unauthenticated.Codes["invalid_api_key"] != 1 ||
				!strings.HasPrefix(r.Unauthenticated.Source, "h:") {
				t.Errorf("aggregate record %+v", r.Unauthenticated)
			}
			unauth++
		}
	}
	if unauth != 1 {
		t.Errorf("%d aggregate records of failed authentications, want 1", unauth)
	}

	streamed := 0
	for _, rs := range got {
		if len(rs) == 2 && rs[1].Stream {
			streamed++
			if rs[1].Tokens == nil || rs[1].Tokens.Completion == 0 || rs[1].Status != 200 {
				t.Errorf("streamed outcome lacks usage: %+v", rs[1])
			}
		}
	}
	if streamed != 1 {
		t.Errorf("%d streamed requests recorded, want 1", streamed)
	}
}

// The audit file must never hold what was said.
func TestAuditFileHoldsNoContent(t *testing.T) {
	h := startGateway(t, nil)
	h.Sim.SetDefault(providertest.Behaviour{Reply: "Reply mentioning " + canaryText})
	msg := `{"role":"user","content":"Patient ` + canaryName + ` (hildegard@example.org, MRN 8812-4471) says ` + canaryText + `"}`
	for _, body := range []string{
		`{"model":"gpt-4o-mini","messages":[` + msg + `]}`,
		`{"model":"gpt-4o-mini","stream":true,"messages":[` + msg + `]}`,
		`{"model":"` + canaryModel + `","messages":[` + msg + `]}`,
		`{"model":"gpt-4o-mini","user":"` + canaryName + `","messages":[` + msg + `]}`,
		`{"model":"gpt-4o-mini","messages":[` + msg,
	} {
		resp := h.post(t, "/v1/chat/completions", "application/json", appKey, body)
		io.Copy(io.Discard, resp.Body)
	}
	if n := len(h.records(t)); n < 5 {
		t.Fatalf("only %d records", n)
	}
	raw, err := os.ReadFile(h.AuditPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, canary := range []string{canaryText, canaryName, canaryModel, "hildegard@example.org", "8812-4471", "Patient", "Reply mentioning", appKey} {
		if bytes.Contains(raw, []byte(canary)) {
			t.Errorf("the audit file contains %q", canary)
		}
	}
}

func TestAuditorExport(t *testing.T) {
	h := startGateway(t, nil)
	resp := h.post(t, "/v1/chat/completions", "application/json", appKey, okBody)
	io.Copy(io.Discard, resp.Body)

	get := func(key, query string) *http.Response {
		req, _ := http.NewRequest(http.MethodGet, strings.TrimSuffix(h.URL, "/v1")+"/admin/audit/export"+query, nil)
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	if resp := get(appKey, ""); resp.StatusCode != 403 {
		t.Errorf("app key exported: %d", resp.StatusCode)
	} else if _, code := openAIError(t, resp); code != "wrong_key_role" {
		t.Errorf("code %s", code)
	}
	if resp := h.post(t, "/v1/chat/completions", "application/json", auditorKey, okBody); resp.StatusCode != 403 {
		t.Errorf("auditor key called a model: %d", resp.StatusCode)
	}
	if resp := get(auditorKey, "?from=yesterday"); resp.StatusCode != 400 {
		t.Errorf("bad from: %d", resp.StatusCode)
	}

	resp = get(auditorKey, "?tenant=st-marys&format=jsonl")
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/x-ndjson" {
		t.Fatalf("export: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	// The chat request's intent and outcome, and the app key's refused export attempt.
	if n := strings.Count(string(body), "\n"); n != 3 || !strings.Contains(string(body), `"kind":"intent"`) ||
		!strings.Contains(string(body), `"route":"/admin/audit/export","status":403,"error_code":"wrong_key_role"`) {
		t.Errorf("tenant export = %d lines:\n%s", n, body)
	}

	// Filter text that is no tenant is not stored as typed.
	get(auditorKey, "?tenant=Maria%20Garcia&format=jsonl")

	resp = get(auditorKey, "?format=csv&from=2026-01-01")
	rows, err := csv.NewReader(resp.Body).ReadAll()
	if err != nil || resp.StatusCode != 200 || rows[0][0] != "seq" || len(rows) < 4 {
		t.Fatalf("csv export: %d rows, %v", len(rows), err)
	}

	// Every export is itself on the record.
	exports := 0
	tenants := map[string]int{}
	for _, r := range h.records(t) {
		if r.Kind == audit.KindExport {
			exports++
			if r.Export == nil || r.Export.Auditor != "external-auditor" || r.KeyID != "k_auditor" {
				t.Errorf("export record %+v", r)
			}
			tenants[r.Export.Tenant]++
		}
	}
	if exports != 3 || tenants["st-marys"] != 1 || tenants["(not a tenant)"] != 1 {
		t.Errorf("%d export records, tenants %v; want 3, one st-marys, one (not a tenant)", exports, tenants)
	}
}
