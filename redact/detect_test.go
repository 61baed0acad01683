package redact_test

import (
	"testing"

	"github.com/custos-gateway/custos/redact"
)

// Each case names one shape of personal data and the span that must be
// found in it.
func TestDetectsShapes(t *testing.T) {
	cases := []struct {
		name, text string
		t          redact.Type
		want       string
	}{
		{"zip with label", "ZIP: 6280", redact.PostalCode, "6280"},
		{"spaced nino", "National Insurance EK 99 57 88 C.", redact.UKNINO, "EK 99 57 88 C"},
		{"zip sentence", "my zip code is 30310, thanks", redact.PostalCode, "30310"},
		{"cidr", "block 10.12.0.0/16 at the edge", redact.IPAddress, "10.12.0.0/16"},
		{"ipv4 with port", "connect to 192.168.4.20:8443 now", redact.IPAddress, "192.168.4.20:8443"},
		{"bracketed ipv6 with port", "listen on [2001:db8::7]:443", redact.IPAddress, "2001:db8::7"},
		{"phone extension", "Desk: (415)555-0132x12", redact.Phone, "(415)555-0132x12"},
		{"phone ext word", "call 415-555-0132 ext 204 today", redact.Phone, "415-555-0132 ext 204"},
		{"trunk prefix", "Fax: +44 (0)20 7946 0018", redact.Phone, "+44 (0)20 7946 0018"},
		{"international 00", "ring 0049 30 901820 please", redact.Phone, "0049 30 901820"},
		{"labeled phone any plan", "Phone: (61) 834-902", redact.Phone, "(61) 834-902"},
		{"card cue outside issuer ranges", "my card 9123456789012348 was declined", redact.CreditCard, "9123456789012348"},
		{"mrn weak label", "MR# 4471923 admitted", redact.MedicalRecord, "4471923"},
		{"relation cue", "I want to add my kid Selma to the plan", redact.Person, "Selma"},
		{"chat label", "User: Anna Kowalczyk here, about my claim", redact.Person, "Anna Kowalczyk"},
		{"all caps", "PATIENT: JOHN SMITH, admitted", redact.Person, "JOHN SMITH"},
		{"lower case", "spoke to john smith about his card", redact.Person, "john smith"},
		{"iso date", "seen on 1985-02-27", redact.Date, "1985-02-27"},
		{"lower-case weekday after on", "we fly out on friday morning", redact.Date, "friday"},
		{"year as a modifier", "it is a 1996 Scottish comedy", redact.Date, "1996"},
		{"desk phone", "Desk: +41 (0)44 668 18 00", redact.Phone, "+41 (0)44 668 18 00"},
		{"clinical date", "DOB 14-Mar-1962", redact.DateOfBirth, "14-Mar-1962"},
		{"ordinal words", "born on the ninth of February 1947", redact.DateOfBirth, "the ninth of February 1947"},
		{"era date", "昭和37年3月14日生まれ", redact.Date, "昭和37年3月14日"},
		{"korean date", "1962년 3월 14일", redact.Date, "1962년 3월 14일"},
		{"chinese name", "患者王小明今天来复诊。", redact.Person, "王小明"},
		{"japanese name", "佐藤太郎さんは元気です。", redact.Person, "佐藤太郎"},
		{"korean name", "김민수 씨가 왔습니다.", redact.Person, "김민수"},
		{"chinese address", "地址：北京市朝阳区建国路88号", redact.Address, "北京市朝阳区建国路88号"},
		{"korean address", "서울특별시 강남구 테헤란로 123에 있습니다", redact.Address, "서울특별시 강남구 테헤란로 123"},
		{"us address lines", "Ship to:\n221B Baker Street\nApt 4\nSpringfield, IL 62704\n\nThanks", redact.Address, "221B Baker Street\nApt 4\nSpringfield, IL 62704"},
		{"german address", "wohnhaft Kornblumenstraße 12, 04109 Leipzig.", redact.Address, "Kornblumenstraße 12, 04109 Leipzig"},
		{"french address", "au 12 rue des Tanneurs, 69002 Lyon.", redact.Address, "12 rue des Tanneurs, 69002 Lyon"},
		{"spanish address", "domicilio Calle del Almendro 7, 3º B, 28013 Madrid.", redact.Address, "Calle del Almendro 7, 3º B, 28013 Madrid"},
		{"po box", "P.O. Box 4471, Millbrook", redact.Address, "P.O. Box 4471, Millbrook"},
		{"military mail", "Send it to PSC 4410, Box 2201\nAPO AE 09012 please", redact.Address, "PSC 4410, Box 2201\nAPO AE 09012"},
		{"intersection", "meet at the corner of Quillfeather Road and Old Tannery Row today", redact.Address, "corner of Quillfeather Road and Old Tannery Row"},
		{"street without number", "She lives on Wexcombe Terrace near the park.", redact.Address, "Wexcombe Terrace"},
		{"typeless street with lines", "Please return to\n4413 Karnowa 27\nMillbrook\nCanada 30310\nThanks", redact.Address, "4413 Karnowa 27\nMillbrook\nCanada 30310"},
		{"saint in a street name", "at 77 St. Brendan Street, Ashcombe", redact.Address, "77 St. Brendan Street, Ashcombe"},
		{"location", "She moved to Hamburg last year.", redact.Location, "Hamburg"},
		{"organization", "He works at Brightwater Bank in the city.", redact.Organization, "Brightwater Bank"},
		{"age turned", "My aunt turned 71 on Saturday.", redact.Age, "71"},
		{"age of", "He retired at the age of 58.", redact.Age, "58"},
		{"age when was", "We moved away when she was 9.", redact.Age, "9"},
		{"honorific", "Please ask Ms. Okafor to call back.", redact.Title, "Ms."},
		{"occupation before a name", "Nurse Okafor checked the line.", redact.Title, "Nurse"},
		{"job line", "Regards,\nPriya Natarajan\nClaims adjuster\nBluehaven Mutual", redact.Title, "Claims adjuster"},
		{"appositive title", "Tomas Brandt, the site supervisor, approved it.", redact.Title, "site supervisor"},
		{"legal form", "The invoice from Harlow Beck Ltd. is attached.", redact.Organization, "Harlow Beck Ltd."},
		{"gmbh", "Die Rechnung von Auwald Technik GmbH ist bezahlt.", redact.Organization, "Auwald Technik GmbH"},
		{"ampersand firm", "The audit by Whitcombe, Farrant & Lowe found nothing.", redact.Organization, "Whitcombe, Farrant & Lowe"},
		{"head word", "She was referred to the Riverbend Family Clinic today.", redact.Organization, "Riverbend Family Clinic"},
		{"university of", "He studied at the University of Tartu for a year.", redact.Organization, "University of Tartu"},
		{"employer appositive", "My employer, TRAVELLO, pays for it.", redact.Organization, "TRAVELLO"},
		{"nrp lower case", "I am cambodian but I live abroad.", redact.NRP, "cambodian"},
		{"nrp plural", "We are proud Saudis.", redact.NRP, "Saudis"},
		{"nrp religion", "She is a devout Lutheran.", redact.NRP, "Lutheran"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if fs := scanner.Scan(tc.text); !has(tc.text, fs, tc.t, tc.want) {
				t.Errorf("no %s %q in %q: %+v", tc.t, tc.want, tc.text, fs)
			}
		})
	}
}

// Clinical numbers are measurements, not identifiers.
func TestClinicalNumbersAreNotIdentifiers(t *testing.T) {
	for _, text := range []string{
		"BP 120/80, HR 72, RR 16, SpO2 97% on room air.",
		"ABG 7.35/42/88 on 2 L nasal cannula.",
		"Ondansetron 4-8 mg IV q8h PRN; titrate to aPTT 60-80 s.",
		"Na 138 (135-145), K 4.1 (3.5-5.1), glucose 5.6-7.8 mmol/L.",
		"GCS 15, APGAR 8/9, pain 3/10, EF 55-60%.",
		"Take 10-12 mg daily for 5-7 days.",
	} {
		if fs := scanner.Scan(text); len(fs) != 0 {
			t.Errorf("%q: %+v", text, fs)
		}
	}
}

func TestDatesArePersonalByContext(t *testing.T) {
	text := "The policy changed on 3 March 2021. The patient was admitted on 5 March 2024."
	fs := scanner.Scan(text)
	var got []bool
	for _, f := range fs {
		if f.Type == redact.Date {
			got = append(got, f.Personal)
		}
	}
	if len(got) != 2 || got[0] || !got[1] {
		t.Errorf("personal flags %v, want [false true]: %+v", got, fs)
	}
}

func TestYearsAlone(t *testing.T) {
	for _, c := range []struct {
		text, want string
	}{
		{"the Civil Procedure Act of 1976 applies", "1976"},
		{"since 1998, the clinic has grown", "1998"},
		{"a total of 2000 mg was given", ""},
		{"in 2000 patients the rate fell", ""},
	} {
		fs := scanner.Scan(c.text)
		got := ""
		for _, f := range fs {
			if f.Type == redact.Date {
				got = c.text[f.Start:f.End]
			}
		}
		if got != c.want {
			t.Errorf("%q: date %q, want %q", c.text, got, c.want)
		}
	}
}

func TestPlacesOfSeveralWords(t *testing.T) {
	for _, c := range []struct{ text, want string }{
		{"I will be travelling to United States next week", "United States"},
		{"She flew to RYSSBY on a Sunday morning", "RYSSBY"},
	} {
		if fs := scanner.Scan(c.text); !has(c.text, fs, redact.Location, c.want) {
			t.Errorf("%q: no LOCATION %q: %+v", c.text, c.want, fs)
		}
	}
}

// Shapes that look like the types above and are not.
func TestLookAlikesOfAgesTitlesAndOrganizations(t *testing.T) {
	for _, c := range []struct {
		text string
		not  redact.Type
	}{
		{"Turn 180 degrees at the second light.", redact.Age},
		{"I'll turn 3 pages back.", redact.Address},
		{"Sometimes people call me Ana.", redact.Title},
		{"I am Ana and this is Tom.", redact.Title},
		{"She works as a nurse on nights.", redact.Title},
		{"The company's founders: Oduya, Krantz and Bellweather.", redact.Organization},
		{"The Emergency Department was busy overnight.", redact.Organization},
		{"Human Resources will send the Employee Handbook.", redact.Organization},
		{"The Czech film won a prize.", redact.NRP},
		{"Please translate this to German.", redact.NRP},
		{"Referral from Dr. Lewis, DEA MO5486421.", redact.Organization},
	} {
		for _, f := range scanner.Scan(c.text) {
			if f.Type == c.not {
				t.Errorf("%q: %s %q", c.text, f.Type, c.text[f.Start:f.End])
			}
		}
	}
}
