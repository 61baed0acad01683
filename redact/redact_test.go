package redact_test

import (
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
