package redact_test

import (
	"strings"
	"testing"

	"github.com/custos-gateway/custos/redact"
)

// has reports whether fs holds a finding of type t covering exactly want.
func has(text string, fs []redact.Finding, t redact.Type, want string) bool {
	for _, f := range fs {
		if (f.Type == t || f.Also == t) && text[f.Start:f.End] == want {
			return true
		}
	}
	return false
}

func TestEncodingsMapBackToOriginalBytes(t *testing.T) {
	cases := []struct {
		name, text string
		t          redact.Type
		want       string
	}{
		{"full-width digits", "card：４１１１ １１１１ １１１１ １１１１ ok", redact.CreditCard, "４１１１ １１１１ １１１１ １１１１"},
		{"zero-width spaces", "card 4111\u200b1111\u200b1111\u200b1111 ok", redact.CreditCard, "4111\u200b1111\u200b1111\u200b1111"},
		{"soft hyphens", "SSN 536\u00ad22\u00ad8725 on file", redact.USSSN, "536\u00ad22\u00ad8725"},
		{"bidi controls", "mail \u202aann.lee@example.com\u202c now", redact.Email, "ann.lee@example.com"},
		{"nbsp and thin space", "card 4111\u00a01111\u20091111\u202f1111.", redact.CreditCard, "4111\u00a01111\u20091111\u202f1111"},
		{"newlines between groups", "card 4111\n1111\n1111\n1111.", redact.CreditCard, "4111\n1111\n1111\n1111"},
		{"dots between groups", "card 4111.1111.1111.1111 please", redact.CreditCard, "4111.1111.1111.1111"},
		{"html entity at", "write to ann.lee&#64;example.com today", redact.Email, "ann.lee&#64;example.com"},
		{"named entity", "write to ann.lee&commat;example.com today", redact.Email, "ann.lee&commat;example.com"},
		{"percent-encoded at", "write to ann.lee%40example.com today", redact.Email, "ann.lee%40example.com"},
		{"cyrillic look-alikes", "mail \u0430nn.lee@ex\u0430mple.com", redact.Email, "\u0430nn.lee@ex\u0430mple.com"},
		{"arabic-indic digits", "card ٤١١١ ١١١١ ١١١١ ١١١١ ok", redact.CreditCard, "٤١١١ ١١١١ ١١١١ ١١١١"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fs := scanner.Scan(tc.text)
			if !has(tc.text, fs, tc.t, tc.want) {
				t.Fatalf("no %s %q in %q: %+v", tc.t, tc.want, tc.text, fs)
			}
			out, err := redact.NewSession(nil).Apply(tc.text, fs, nil)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(out, tc.want) {
				t.Errorf("redacted text still holds the original bytes: %q", out)
			}
		})
	}
}

func TestPunctuationBoundsIdentifiers(t *testing.T) {
	cases := []struct {
		name, text string
		t          redact.Type
		want       string
	}{
		{"csv", "id,card,email\n7,4111111111111111,ann@example.com\n", redact.CreditCard, "4111111111111111"},
		{"csv email", "id,card,email\n7,4111111111111111,ann@example.com\n", redact.Email, "ann@example.com"},
		{"hl7", "PID|1||MRN^^^H||DOE^JANE||19620314|F|||^^^^^^^^|(415)555-0132|", redact.Phone, "(415)555-0132"},
		{"key=value", "user=ann ssn=536228725 status=ok", redact.USSSN, "536228725"},
		{"label:value", "SSN:536-22-8725", redact.USSSN, "536-22-8725"},
		{"json", `{"card":"4111111111111111","ok":true}`, redact.CreditCard, "4111111111111111"},
		{"xml", "<ssn>536-22-8725</ssn>", redact.USSSN, "536-22-8725"},
		{"markdown table", "| name | card |\n|---|---|\n| x |4111 1111 1111 1111|", redact.CreditCard, "4111 1111 1111 1111"},
		{"semicolons", "a;ann@example.com;b", redact.Email, "ann@example.com"},
		{"brackets", "[4111111111111111]{ann@example.com}", redact.CreditCard, "4111111111111111"},
		{"ipv6 kept whole", "from fe80::1ff:fe23:4567:890a, fine", redact.IPAddress, "fe80::1ff:fe23:4567:890a"},
		{"iso timestamp kept whole", "at 2024-03-14T10:22:05Z it failed", redact.Date, "2024-03-14T10:22:05Z"},
		{"date and time before a comma", "On 2007-01-17 23:08:55, it began", redact.Date, "2007-01-17 23:08:55"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if fs := scanner.Scan(tc.text); !has(tc.text, fs, tc.t, tc.want) {
				t.Errorf("no %s %q in %q: %+v", tc.t, tc.want, tc.text, fs)
			}
		})
	}
}

func TestURLIsAContainer(t *testing.T) {
	text := "see https://portal.example.com/p/ann.lee%40example.com?ssn=536-22-8725&card=4111%201111%201111%201111#x and http://bob:s3cr3tpw@example.org/"
	fs := scanner.Scan(text)
	for _, want := range []struct {
		t redact.Type
		v string
	}{{redact.Email, "ann.lee%40example.com"}, {redact.USSSN, "536-22-8725"}, {redact.CreditCard, "4111%201111%201111%201111"}, {redact.Secret, "s3cr3tpw"}} {
		if !has(text, fs, want.t, want.v) {
			t.Errorf("no %s %q inside the URL: %+v", want.t, want.v, fs)
		}
	}
	out, err := redact.NewSession(nil).Apply(text, fs, map[redact.Type]redact.Action{redact.URL: redact.Allow})
	if err != nil {
		t.Fatal(err)
	}
	for _, leak := range []string{"ann.lee", "536-22-8725", "4111", "s3cr3tpw"} {
		if strings.Contains(out, leak) {
			t.Errorf("allowed URL carried %q out: %q", leak, out)
		}
	}
	if !strings.Contains(out, "https://portal.example.com/p/") {
		t.Errorf("the allowed URL itself was rewritten: %q", out)
	}
}

func TestInspectJoinsAdjacentParts(t *testing.T) {
	fields := []redact.Field{
		{Text: "my card is 4111 1111", Group: 1},
		{Text: " 1111 1111, thanks", Group: 1},
		{Text: "4111 1111", Group: 2},
		{Text: "unrelated", Group: 3},
	}
	res, err := redact.NewScanner(redact.Options{}).Inspect(fields)
	if err != nil {
		t.Fatal(err)
	}
	if !has(fields[0].Text, res[0], redact.CreditCard, "4111 1111") || !has(fields[1].Text, res[1], redact.CreditCard, " 1111 1111") {
		t.Errorf("split card not found in both parts: %+v", res)
	}
	if len(res[2]) != 0 || len(res[3]) != 0 {
		t.Errorf("parts of other groups got findings: %+v", res)
	}
}

func TestInspectKeysAndConsistency(t *testing.T) {
	fields := []redact.Field{
		{Key: "ssn", Text: "536228725"},
		{Key: "note", Text: "Seen by Dr. Swackhamer today."},
		{Text: "later SWACKHAMER phoned; the number 536228725 again"},
		{IsKey: true, Text: "ann.lee@example.com"},
	}
	res, err := redact.NewScanner(redact.Options{}).Inspect(fields)
	if err != nil {
		t.Fatal(err)
	}
	if !has(fields[0].Text, res[0], redact.USSSN, "536228725") {
		t.Errorf("key not read as a label: %+v", res[0])
	}
	if !has(fields[1].Text, res[1], redact.Person, "Swackhamer") {
		t.Errorf("titled name missed: %+v", res[1])
	}
	if !has(fields[2].Text, res[2], redact.Person, "SWACKHAMER") || !has(fields[2].Text, res[2], redact.USSSN, "536228725") {
		t.Errorf("value found with evidence not found again elsewhere: %+v", res[2])
	}
	if !has(fields[3].Text, res[3], redact.Email, "ann.lee@example.com") {
		t.Errorf("object key not scanned: %+v", res[3])
	}
}
