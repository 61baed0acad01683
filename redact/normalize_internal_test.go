package redact

import (
	"strings"
	"testing"
)

// rebuild puts the original text back together from the normalized text and
// its edits: the bytes outside the edits must be the original's, in order.
func rebuild(n normalized, text string) string {
	var b strings.Builder
	prev := 0
	for _, e := range n.edits {
		b.WriteString(n.s[prev:e.n])
		b.WriteString(text[e.o : e.o+e.ol])
		prev = e.n + e.nl
	}
	b.WriteString(n.s[prev:])
	return b.String()
}

var normSeeds = []string{
	"card：４１１１ １１１１", "a\u200bb\u00adc\u202ad\u2066e", "ann&#64;example.com &amp; &bogus; &#x40;", "a%40b%2E%20c%zz%4",
	"\u0430nn \u0430\u0431\u0432", "٤١١١", "\xff\xfe", "", "ﬁ ① ™ \u3000", "&", "%", "e\u0301",
}

func TestNormalizeRoundTrip(t *testing.T) {
	for _, s := range normSeeds {
		checkNorm(t, s)
	}
	if n := normalize("plain ascii text 4111"); len(n.edits) != 0 || n.s != "plain ascii text 4111" {
		t.Errorf("clean text was rewritten: %+v", n)
	}
}

func FuzzNormalize(f *testing.F) {
	for _, s := range normSeeds {
		f.Add(s)
	}
	f.Fuzz(checkNorm)
}

func checkNorm(t *testing.T, text string) {
	n := normalize(text)
	if got := rebuild(n, text); got != text {
		t.Fatalf("normalize(%q) = %q does not map back: %q", text, n.s, got)
	}
	last := 0
	for p := 0; p <= len(n.s); p++ {
		s, e := n.origStart(p), n.origEnd(p)
		if s < 0 || e < 0 || s > len(text) || e > len(text) || s < last {
			t.Fatalf("offset %d maps to %d/%d (text %d bytes, previous %d)", p, s, e, len(text), last)
		}
		last = s
	}
	if len(n.edits) == 0 && n.s != text {
		t.Fatalf("no edits but a different text")
	}
}
