package redact

import (
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// longText strings sentences of a clinical note, with identifiers, into a
// text of at least n bytes.
func longText(n int, seed uint64) string {
	parts := []string{
		"Patient Jane Smith, MRN 00412345, seen 2026-11-30 by Dr Swackhamer.",
		"Call 415-555-0134 or write to ann.lee@example.com about the results.",
		"Lives at 12 Elm Street, Springfield, IL 62704; card 4111 1111 1111 1111.",
		"Stable overnight, obs normal, BP 120/80, plan reviewed with the family.",
		"SSN 536-22-8725 on file; IBAN DE89 3704 0044 0532 0130 00 for refunds.",
		"-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gunVTLw\n-----END RSA PRIVATE KEY-----",
		"\n", "Mr Okonkwo was born on 14-Mar-1962 in Lagos.", "x",
	}
	r := rand.New(rand.NewPCG(seed, 1))
	var b strings.Builder
	for b.Len() < n {
		b.WriteString(parts[r.IntN(len(parts))])
		b.WriteString(" ")
	}
	return b.String()
}

// TestWindowsFindWhatTheWholeTextHolds compares the windowed scan of long
// texts with one scan of the whole: the same findings, windows or not.
func TestWindowsFindWhatTheWholeTextHolds(t *testing.T) {
	sc := NewScanner(Options{})
	for seed := range uint64(3) {
		text := longText(3*segWindow+segWindow/3, seed)
		n, whole := sc.detectNorm(text, 0)
		whole = mapBack(n, whole)
		wn, got, err := sc.detectText(text, &limit{})
		if err != nil || wn.s != text || len(wn.edits) != 0 {
			t.Fatalf("windowed scan: err %v, normalized form not the text itself", err)
		}
		if len(whole) < 1000 {
			t.Fatalf("seed %d: only %d findings in the whole text", seed, len(whole))
		}
		if !slices.Equal(got, whole) {
			for i := range min(len(got), len(whole)) {
				if got[i] != whole[i] {
					t.Fatalf("seed %d: %d vs %d findings; first difference at %d: %+v vs %+v (%q)",
						seed, len(got), len(whole), i, got[i], whole[i], text[whole[i].Start:whole[i].End])
				}
			}
			t.Fatalf("seed %d: %d windowed findings vs %d whole", seed, len(got), len(whole))
		}
	}
}

// TestMaxFindingsStopsTheScan checks that a request over the bound is
// refused, that one at the bound is not, and that the joined and
// propagated findings count too.
func TestMaxFindingsStopsTheScan(t *testing.T) {
	text := longText(2*segWindow, 7)
	all, err := NewScanner(Options{}).Inspect([]Field{{Text: text}})
	if err != nil {
		t.Fatal(err)
	}
	n := len(all[0])
	for _, tc := range []struct {
		max     int
		refused bool
	}{{0, false}, {n, false}, {n - 1, true}, {10, true}} {
		_, err := NewScanner(Options{MaxFindings: tc.max}).Inspect([]Field{{Text: text}})
		if got := errors.Is(err, ErrTooManyFindings); got != tc.refused {
			t.Errorf("max %d with %d findings: refused %v, want %v (%v)", tc.max, n, got, tc.refused, err)
		}
	}
	// One name with a cue, then the bare surname many times: what
	// propagation adds counts.
	prop := "Seen by Dr. Swackhamer. " + strings.Repeat("Swackhamer agreed. ", 200)
	if _, err := NewScanner(Options{MaxFindings: 50}).Inspect([]Field{{Text: prop}}); !errors.Is(err, ErrTooManyFindings) {
		t.Errorf("propagated findings not counted: %v", err)
	}
	// Parts of one message scanned joined: what the join adds counts once.
	parts := []Field{{Text: "card 4111 1111", Group: 1}, {Text: " 1111 1111", Group: 1}}
	if _, err := NewScanner(Options{MaxFindings: 2}).Inspect(parts); err != nil {
		t.Errorf("a split card in two parts refused at a bound of 2: %v", err)
	}
}

// TestLongRunsOfPartsAreJoinedInWindows splits a card across two parts of a
// message made of thousands, at every kind of place: inside the first
// window, across a window boundary, at the end.
func TestLongRunsOfPartsAreJoinedInWindows(t *testing.T) {
	filler := strings.Repeat("Stable overnight, obs normal. ", 6)
	sc := NewScanner(Options{MaxFindings: 1000})
	for _, at := range []int{3, 1500, 4000, 5998} {
		fields := make([]Field, 6000)
		for k := range fields {
			fields[k] = Field{Text: filler, Group: 1}
		}
		fields[at].Text = filler + "card 4111 1111"
		fields[at+1].Text = " 1111 1111 thanks " + filler
		res, err := sc.Inspect(fields)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range []int{at, at + 1} {
			if len(res[k]) != 1 || res[k][0].Type != CreditCard {
				t.Errorf("card split at part %d: part %d has %+v", at, k, res[k])
			}
		}
	}
}
