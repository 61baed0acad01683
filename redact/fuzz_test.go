package redact_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/custos-gateway/custos/redact"
)

var fuzzSeeds = []string{
	"Patient John Smith (DOB 03/14/1962, MRN 00412345) called from +1 415-555-0132 about card 4111 1111 1111 1111.",
	"IBAN DE89 3704 0044 0532 0130 00, SSN 123-45-6788, mail a.b@example.com, key sk-proj-abcdefghijklmnopqrstuvwxyz0123456789ABCD",
	"Herr Müller, Hauptstraße 12, 10115 Berlin; 12 rue de la Paix; [PERSON_1] [EMAIL_2",
	"-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----",
	"", "[", "]]][[[", "\xff\xfe 4111 1111 1111 1111 \x00",
	"see https:// www.x.se/", "PHONE:WWW.GREENSCRAPBOOKING.DK/", // a www. URL with a slash near its end
	"MSH|^~\\&|A|Good Hospital|||20250101||ADT^A01|1|P|2.5\rPID|1||00412345^^^H^MR~536-22-8726^^^S^SS||DOE^JANE^Q||19620314|F|||1 Elm St^^Ayr^^KA7 1AA||^PRN^PH^^^01292^555010",
	"MSH|#$%*|x\nPID|1||7#1$2||a#b%c*d", "PID|", "OBX|1|NM|8480-6^Systolic BP^LN||120|mm[Hg]|90-140|N|||F", "x PID|1||^^^^^^^^^^^^^^^^^^^^^^~~~&&&|",
}

// FuzzScan: no panic, findings in bounds and ordered, and the redacted text
// never holds a detected value.
func FuzzScan(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		fs := scanner.Scan(text)
		last := 0
		for _, x := range fs {
			if x.Start < last || x.End > len(text) || x.Start >= x.End {
				t.Fatalf("finding out of bounds or overlapping: %+v (text %d bytes)", x, len(text))
			}
			last = x.End
		}
		out, err := redact.NewSession(nil).Apply(text, fs, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range fs {
			v := text[x.Start:x.End]
			if len(v) >= 6 && strings.Contains(out, v) && !strings.Contains(removeAll(text, fs), v) {
				t.Fatalf("redacted text still holds detected value %q", v)
			}
		}
	})
}

// removeAll is the text without its findings: a value that also appears in
// the undetected rest may legitimately remain.
func removeAll(text string, fs []redact.Finding) string {
	var b strings.Builder
	last := 0
	for _, x := range fs {
		b.WriteString(text[last:x.Start])
		b.WriteByte(0)
		last = x.End
	}
	b.WriteString(text[last:])
	return b.String()
}

// FuzzPseudonymizeRestore: pseudonymize then restore gives back the text.
func FuzzPseudonymizeRestore(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		if strings.Contains(text, "[") {
			// Placeholder-shaped text in the input is restored too; keep the
			// property exact by excluding it.
			return
		}
		sess := redact.NewSession(nil)
		red, err := sess.Apply(text, scanner.Scan(text), nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := sess.NewRestorer().Restore(red); got != text {
			t.Fatalf("restore(pseudonymize(x)) != x\n x = %q\n r = %q\n got %q", text, red, got)
		}
	})
}

// FuzzRestorerChunking: every chunking of a stream restores to the same text.
func FuzzRestorerChunking(f *testing.F) {
	f.Add("Ann Lee wrote from ann.lee@example.com about 4111 1111 1111 1111", "Dear [PERSON_1], re [CREDIT_CARD_1] and [EMAIL_1].", uint8(3))
	f.Add("Maria Garcia", "[PERSON_1][PERSON_1][PERS", uint8(1))
	f.Fuzz(func(t *testing.T, prompt, answer string, step uint8) {
		sess := redact.NewSession(nil)
		if _, err := sess.Apply(prompt, scanner.Scan(prompt), nil); err != nil {
			t.Fatal(err)
		}
		whole := sess.NewRestorer()
		want := whole.Write(answer) + whole.Flush()
		n := int(step%16) + 1
		r := sess.NewRestorer()
		var b strings.Builder
		for i := 0; i < len(answer); i += n {
			b.WriteString(r.Write(answer[i:min(len(answer), i+n)]))
		}
		b.WriteString(r.Flush())
		if b.String() != want {
			t.Fatalf("chunking %d changed the result:\n whole %q\n chunked %q", n, want, b.String())
		}
	})
}

// fuzzCached and fuzzBounded (a bound of 3 findings, with and without a
// cache) are FuzzInspect's other scanners.
var (
	fuzzCached        = redact.NewScanner(redact.Options{CacheEntries: 4096})
	fuzzBounded       = redact.NewScanner(redact.Options{MaxFindings: 3})
	fuzzBoundedCached = redact.NewScanner(redact.Options{MaxFindings: 3, CacheEntries: 4096})
)

// FuzzInspect: no panic; every finding lies inside its own field, in order;
// applying them leaves no detected value behind; a scanner with a cache
// finds the same, cold and warm.
func FuzzInspect(f *testing.F) {
	f.Add("card 4111 1111", " 1111 1111", "ssn", "Dr. Swackhamer")
	f.Add("ann&#64;exa", "mple.com", "", "\u200b")
	f.Add("Patient Maria Garcia (MRN 00412345) was seen by Dr. John Smith on 2026-11-30 at 12 Baker Street.",
		"Her phone is +44 20 7946 0958 and her e-mail maria.garcia@example.org, card 4111 1111 1111 1111.", "note",
		"Maria Garcia asked whether the results of 14 March 1961 could be sent to ann@example.org instead.")
	f.Fuzz(func(t *testing.T, a, b, key, c string) {
		fields := []redact.Field{{Text: a, Group: 1}, {Text: b, Group: 1}, {Text: c, Key: key}, {Text: key, IsKey: true}}
		res, err := scanner.Inspect(fields)
		if err != nil {
			t.Fatal(err)
		}
		_, bounded := fuzzBounded.Inspect(fields)
		for pass := range 2 { // cold, then from the cache: what a scan finds
			got, err := fuzzCached.InspectIn(fields, "fuzz")
			if err != nil || !reflect.DeepEqual(norm(got), norm(res)) {
				t.Fatalf("cached pass %d: %v %+v, want %+v", pass, err, got, res)
			}
			if _, err := fuzzBoundedCached.InspectIn(fields, "fuzz"); (err == nil) != (bounded == nil) {
				t.Fatalf("bounded, cached pass %d: %v, a scan: %v", pass, err, bounded)
			}
		}
		if len(res) != len(fields) {
			t.Fatalf("%d results for %d fields", len(res), len(fields))
		}
		for i, fs := range res {
			last := 0
			for _, x := range fs {
				if x.Start < last || x.End > len(fields[i].Text) || x.Start >= x.End {
					t.Fatalf("field %d: finding out of bounds or overlapping: %+v (%d bytes)", i, x, len(fields[i].Text))
				}
				last = x.End
			}
			if _, err := redact.NewSession(nil).Apply(fields[i].Text, fs, nil); err != nil {
				t.Fatal(err)
			}
		}
	})
}
