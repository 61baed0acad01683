package redact_test

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/custos-gateway/custos/redact"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden files of testdata/hl7 from the scanner's output")

// render lists findings one a line: type, value, and "personal" for a date
// tied to the patient.
func render(text string, fs []redact.Finding) string {
	var b strings.Builder
	for _, f := range fs {
		fmt.Fprintf(&b, "%s\t%q", f.Type, text[f.Start:f.End])
		if f.Personal {
			b.WriteString("\tpersonal")
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// Messages written for these tests (an admission, a lab result, and
// segments without personal data) and what must be found in them.
func TestHL7Golden(t *testing.T) {
	paths, err := filepath.Glob("testdata/hl7/*.hl7")
	if err != nil || len(paths) < 3 {
		t.Fatalf("golden messages: %v (%d)", err, len(paths))
	}
	for _, p := range paths {
		t.Run(filepath.Base(p), func(t *testing.T) {
			msg, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			got := render(string(msg), scanner.Scan(string(msg)))
			golden := strings.TrimSuffix(p, ".hl7") + ".golden"
			if *updateGolden {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Errorf("findings differ from %s:\n got:\n%s\nwant:\n%s", golden, got, want)
			}
		})
	}
}

// What the gateway's plant test sends: an identifier whose type code comes
// after it, as HL7's CX data type writes it.
func TestHL7IdentifierTypedAfterValue(t *testing.T) {
	for _, c := range []struct {
		text, value string
		t           redact.Type
	}{
		{"PID|1||00412345^^^HOSP^MRN:||DOE^JANE", "00412345", redact.MedicalRecord},
		{"PID|1||1234567893^^^HOSP^NPI||DOE^JANE", "1234567893", redact.USNPI},
		{"PID|1||536-22-8726^^^HOSP^SSN||DOE^JANE", "536-22-8726", redact.USSSN},
		{"PID|1||943 476 5919^^^HOSP^NHS number||DOE^JANE", "943 476 5919", redact.UKNHS},
		{"PID|1||14/03/1962^^^HOSP^date of birth||DOE^JANE", "14/03/1962", redact.DateOfBirth},
		{"PID|1||X4471^^^HOSP^PPN||DOE^JANE", "X4471", redact.USPassport},
		{"PID|1||99120^^^HOSP||DOE^JANE", "99120", redact.MedicalRecord},
		{"IN1|1|A|B|Acme Health" + strings.Repeat("|", 45) + "W7781123^^^ACME", "W7781123", redact.HealthPlanID},
	} {
		fs := scanner.Scan(c.text)
		if !has(c.text, fs, c.t, c.value) || !has(c.text, fs, redact.Person, "DOE") && strings.Contains(c.text, "DOE") {
			t.Errorf("%q: want %s %q and PERSON DOE: %s", c.text, c.t, c.value, render(c.text, fs))
		}
	}
}

// A message is read wherever its segments stand: CR, LF or CRLF between
// them, a literal "\r" (a message escaped twice), a label in front of it,
// prose around it, or under an object key.
func TestHL7Framing(t *testing.T) {
	segs := []string{"MSH|^~\\&|APP|Lakeside Clinic|||20250101120000||ADT^A04|77|P|2.5",
		"PID|1||55012^^^LC^MR||Brannigan^Oisin||19790412|M|||9 Weir Lane^^Kilbride^^T34 K2X6",
		"NK1|1|Brannigan^Saoirse|MTH|||^PRN^PH^^^01^5550199"}
	want := render(strings.Join(segs, "\r"), scanner.Scan(strings.Join(segs, "\r")))
	if !strings.Contains(want, "PERSON\t\"Saoirse\"") || !strings.Contains(want, "POSTAL_CODE\t\"T34 K2X6\"") {
		t.Fatalf("base message:\n%s", want)
	}
	for _, sep := range []string{"\n", "\r\n", `\r`, `\n`, " "} {
		msg := strings.Join(segs, sep)
		if got := render(msg, scanner.Scan(msg)); got != want {
			t.Errorf("separator %q:\n%s\nwant\n%s", sep, got, want)
		}
	}
	for _, wrap := range []string{"hl7: %s", "Here is the feed:\n%s\nPlease summarize it.", "```\n%s\n```"} {
		msg := fmt.Sprintf(wrap, strings.Join(segs, "\n"))
		got := render(msg, scanner.Scan(msg))
		if !strings.Contains(got, want) {
			t.Errorf("wrapped %q:\n%s\nwant it to contain\n%s", wrap, got, want)
		}
	}
	text := strings.Join(segs, "\r")
	res, err := scanner.Inspect([]redact.Field{{Text: text, Key: "message"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := render(text, res[0]); got != want {
		t.Errorf("under a key:\n%s\nwant\n%s", got, want)
	}
}

// Redaction replaces values and keeps the message's structure.
func TestHL7RedactionKeepsStructure(t *testing.T) {
	msg, err := os.ReadFile("testdata/hl7/adt_a01.hl7")
	if err != nil {
		t.Fatal(err)
	}
	text := string(msg)
	out, err := redact.NewSession(nil).Apply(text, scanner.Scan(text), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, sep := range []string{"|", "^", "~", "&", "\r"} {
		if strings.Count(out, sep) != strings.Count(text, sep) {
			t.Errorf("%q: %d in the message, %d after redaction", sep, strings.Count(text, sep), strings.Count(out, sep))
		}
	}
	for _, v := range []string{"Thistlewood", "Marguerite", "00831427", "391-44-2058", "19470922", "Larkspur", "98801", "5550187", "EVM-4471-0098"} {
		if strings.Contains(out, v) {
			t.Errorf("%q left in the redacted message", v)
		}
	}
}

// Without names, identifiers and contact data in HL7 are still found.
func TestHL7WithoutNames(t *testing.T) {
	sc := redact.NewScanner(redact.Options{NoNames: true})
	text := "PID|1||00412345^^^HOSP^MR||DOE^JANE||19620314|F|||1 Elm St^^Ayr^^KA7 1AA||^PRN^PH^^^01292^555010"
	fs := sc.Scan(text)
	if !has(text, fs, redact.MedicalRecord, "00412345") || !has(text, fs, redact.DateOfBirth, "19620314") ||
		!has(text, fs, redact.PostalCode, "KA7 1AA") || has(text, fs, redact.Person, "DOE") {
		t.Errorf("no-names scan: %s", render(text, fs))
	}
}

// Pipes that are no HL7 are read as text: Markdown tables, logs, a
// segment id inside a word.
func TestHL7LookAlikes(t *testing.T) {
	for _, c := range []struct{ text, want string }{
		{"| PID | value |\n|---|---|\n| MRN | 00412345 |", "MEDICAL_RECORD_NUMBER\t\"00412345\"\n"},
		{"ERR|timeout|Harold Finch called", "PERSON\t\"Harold Finch\"\n"},
		{"XPID|1||00412345^^^HOSP^MR||19620314|F", ""},
	} {
		if got := render(c.text, scanner.Scan(c.text)); got != c.want {
			t.Errorf("%q:\n%s\nwant\n%s", c.text, got, c.want)
		}
	}
}
