package gateway_test

import (
	"encoding/json"
	"strings"
	"testing"
)

// Every text of a chat request is inspected: content parts, names, tool call
// arguments (as the JSON inside them, numbers kept), tool results and
// unknown fields; one value gets one placeholder in every field.
func TestEveryFieldOfAChatRequestIsInspected(t *testing.T) {
	h := startGateway(t, nil)
	body := `{"model":"gpt-4o-mini","x_vendor":{"note":"for ann.lee@example.com"},"messages":[
	 {"role":"system","content":"You are a clinical assistant."},
	 {"role":"user","name":"Ann Lee","content":[{"type":"text","text":"My email is ann.lee@example.com"}]},
	 {"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"lookup","arguments":"{\"patient\":\"Ann Lee\",\"mrn\":\"MRN 00412345\",\"n\":3}"}}]},
	 {"role":"tool","tool_call_id":"c1","content":"Found Ann Lee, phone +1 415-555-0132"},
	 {"role":"user","content":"thanks","x_custom":"call Ann Lee back"}]}`
	if resp := h.post(t, "/v1/chat/completions", "application/json", appKey, body); resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	got := h.Sim.Received()
	if len(got) != 1 {
		t.Fatalf("the provider saw %d requests", len(got))
	}
	sent := string(got[0].Body)
	for _, v := range []string{"Ann Lee", "ann.lee@example.com", "415-555-0132", "00412345"} {
		if strings.Contains(sent, v) {
			t.Errorf("the provider saw %q:\n%s", v, sent)
		}
	}
	var back struct {
		XVendor  map[string]string `json:"x_vendor"`
		Messages []map[string]any  `json:"messages"`
	}
	if err := json.Unmarshal(got[0].Body, &back); err != nil || len(back.Messages) != 5 {
		t.Fatalf("forwarded body is not the same shape: %v", err)
	}
	args := back.Messages[2]["tool_calls"].([]any)[0].(map[string]any)["function"].(map[string]any)["arguments"].(string)
	var inner map[string]any
	if err := json.Unmarshal([]byte(args), &inner); err != nil || inner["patient"] != "[PERSON_1]" || inner["n"] != float64(3) {
		t.Errorf("tool arguments not redacted as JSON: %s (%v)", args, err)
	}
	if back.Messages[1]["name"] != "[PERSON_1]" || back.Messages[3]["content"] != "Found [PERSON_1], phone [PHONE_1]" ||
		back.Messages[4]["x_custom"] != "call [PERSON_1] back" {
		t.Errorf("same value, same placeholder across fields: %v / %v / %v", back.Messages[1]["name"], back.Messages[3]["content"], back.Messages[4]["x_custom"])
	}
	if !strings.Contains(back.XVendor["note"], "@example.com") || strings.Contains(back.XVendor["note"], "ann.lee") {
		t.Errorf("an unknown top-level field was not redacted: %q", back.XVendor["note"])
	}
}

// Invalid UTF-8 is forwarded as it was scanned (U+FFFD), never as the raw
// bytes: a card number split by a stray byte is found and refused.
func TestInvalidUTF8IsForwardedAsScanned(t *testing.T) {
	h := startGateway(t, nil)
	resp := h.post(t, "/v1/chat/completions", "application/json", appKey, "{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"hello \xff world\"}]}")
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if got := h.Sim.Received(); len(got) != 1 || strings.Contains(string(got[0].Body), "\xff") || !strings.Contains(string(got[0].Body), "\ufffd") {
		t.Errorf("forwarded bytes differ from the scanned text: %q", got[0].Body)
	}
}
