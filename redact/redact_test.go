package redact_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/custos-gateway/custos/redact"
)

var scanner = redact.NewScanner(redact.Options{})

func TestOperators(t *testing.T) {
	text := "Ann Lee (ann.lee@example.com) paid with 4111 1111 1111 1111; Ann Lee again."
	fs := scanner.Scan(text)
	cases := []struct {
		name    string
		actions map[redact.Type]redact.Action
		want    string
		err     error
	}{
		{"pseudonymize", map[redact.Type]redact.Action{redact.Person: redact.Pseudonymize, redact.Email: redact.Pseudonymize, redact.CreditCard: redact.Pseudonymize},
			"[PERSON_1] ([EMAIL_1]) paid with [CREDIT_CARD_1]; [PERSON_1] again.", nil},
		{"mask", map[redact.Type]redact.Action{redact.Person: redact.Allow, redact.Email: redact.Mask, redact.CreditCard: redact.Mask},
			"Ann Lee (*******@example.com) paid with **** **** **** 1111; Ann Lee again.", nil},
		{"block", map[redact.Type]redact.Action{redact.CreditCard: redact.Block}, "", redact.ErrBlocked},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := redact.NewSession(nil).Apply(text, fs, tc.actions)
			if !errors.Is(err, tc.err) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if got != tc.want {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
			if err != nil && strings.Contains(err.Error(), "4111") {
				t.Errorf("block error names the value: %v", err)
			}
		})
	}
	// hash: stable for the same key, different for another key, no value inside
	h1, _ := redact.NewSession([]byte("k1")).Apply(text, fs, map[redact.Type]redact.Action{redact.Email: redact.Hash})
	h2, _ := redact.NewSession([]byte("k1")).Apply(text, fs, map[redact.Type]redact.Action{redact.Email: redact.Hash})
	h3, _ := redact.NewSession([]byte("k2")).Apply(text, fs, map[redact.Type]redact.Action{redact.Email: redact.Hash})
	if h1 != h2 || h1 == h3 || strings.Contains(h1, "ann.lee") || !strings.Contains(h1, "[EMAIL:") {
		t.Errorf("hash: %q %q %q", h1, h2, h3)
	}
}

func TestRestorerAcrossChunks(t *testing.T) {
	sess := redact.NewSession(nil)
	text := "Ann Lee wrote from ann.lee@example.com"
	red, _ := sess.Apply(text, scanner.Scan(text), nil)
	answer := "Dear " + red + ". [NOT_A_PLACEHOLDER] and [PERSON_9] stay; brackets [ alone too ["
	want := "Dear " + text + ". [NOT_A_PLACEHOLDER] and [PERSON_9] stay; brackets [ alone too ["
	for size := 1; size <= len(answer); size++ {
		r := sess.NewRestorer()
		var b strings.Builder
		for i := 0; i < len(answer); i += size {
			b.WriteString(r.Write(answer[i:min(len(answer), i+size)]))
		}
		b.WriteString(r.Flush())
		if b.String() != want {
			t.Fatalf("chunk size %d: %q", size, b.String())
		}
	}
	// No delay before the first token: text without '[' passes straight through.
	if got := sess.NewRestorer().Write("Hello"); got != "Hello" {
		t.Errorf("held back %q", got)
	}
}

func TestInspectChat(t *testing.T) {
	msgs := `[
	 {"role":"system","content":"You are a clinical assistant."},
	 {"role":"user","name":"Ann Lee","content":[{"type":"text","text":"My email is ann.lee@example.com"},{"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA"}}]},
	 {"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"lookup","arguments":"{\"patient\":\"Ann Lee\",\"mrn\":\"MRN 00412345\",\"n\":3}"}}]},
	 {"role":"tool","tool_call_id":"c1","content":"Found Ann Lee, phone +1 415-555-0132"},
	 {"role":"user","content":"card 4111 1111 1111 1111","x_custom":"?"}
	]`
	plan, err := scanner.InspectChat([]byte(msgs))
	if err != nil {
		t.Fatal(err)
	}
	c := plan.Counts()
	if c[redact.Person] != 3 || c[redact.Email] != 1 || c[redact.Phone] != 1 || c[redact.CreditCard] != 1 || c[redact.MedicalRecord] != 1 {
		t.Errorf("counts = %v", c)
	}
	if plan.Uninspectable != 2 { // the image part and the unknown field
		t.Errorf("uninspectable = %d, want 2", plan.Uninspectable)
	}
	sess := redact.NewSession(nil)
	if _, err := plan.Apply(sess, map[redact.Type]redact.Action{redact.CreditCard: redact.Block}); !errors.Is(err, redact.ErrBlocked) {
		t.Fatalf("block: %v", err)
	}
	plan, _ = scanner.InspectChat([]byte(msgs))
	out, err := plan.Apply(redact.NewSession(nil), map[redact.Type]redact.Action{})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"Ann Lee", "ann.lee@example.com", "415-555-0132", "4111 1111", "00412345"} {
		if strings.Contains(string(out), v) {
			t.Errorf("rewritten messages still hold %q:\n%s", v, out)
		}
	}
	var back []map[string]any
	if err := json.Unmarshal(out, &back); err != nil || len(back) != 5 {
		t.Fatalf("rewritten messages are not the same JSON shape: %v", err)
	}
	args := back[2]["tool_calls"].([]any)[0].(map[string]any)["function"].(map[string]any)["arguments"].(string)
	var inner map[string]any
	if err := json.Unmarshal([]byte(args), &inner); err != nil || inner["patient"] != "[PERSON_1]" || inner["n"] != float64(3) {
		t.Errorf("tool arguments not redacted as JSON: %s (%v)", args, err)
	}
	if back[1]["name"] != "[PERSON_1]" || back[3]["content"] != "Found [PERSON_1], phone [PHONE_1]" {
		t.Errorf("same value, same placeholder across fields: %v / %v", back[1]["name"], back[3]["content"])
	}
}

func TestInvalidUTF8IsForwardedAsScanned(t *testing.T) {
	msgs := []byte("[{\"role\":\"user\",\"content\":\"card 4111\xff1111 1111 1111\"}]")
	plan, err := scanner.InspectChat(msgs)
	if err != nil {
		t.Fatal(err)
	}
	if !plan.Changed(nil) {
		t.Fatal("invalid UTF-8 must force the scanned form to be forwarded")
	}
	out, _ := plan.Apply(redact.NewSession(nil), nil)
	if strings.Contains(string(out), "\xff") {
		t.Errorf("forwarded bytes differ from the scanned text: %q", out)
	}
}
