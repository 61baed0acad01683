package redact_test

import (
	"strings"
	"testing"

	"github.com/custos-gateway/custos/redact"
)

// benchText builds a text of about n bytes from corpus cases: hard negatives
// only (no PII), or every case (PII in most sentences).
func benchText(b *testing.B, n int, withPII bool) string {
	var sb strings.Builder
	corpus := loadCorpus(b)
	for sb.Len() < n {
		for _, c := range corpus {
			if c.HardNegative == withPII || c.Lang != "en" && c.Lang != "de" && c.Lang != "fr" && c.Lang != "es" {
				continue
			}
			sb.WriteString(c.Text)
			sb.WriteString(" ")
			if sb.Len() >= n {
				break
			}
		}
	}
	return sb.String()[:n]
}

// prose is ordinary prompt text with no PII: what most requests carry.
const prose = `Please summarise the following discussion for the weekly report. The team reviewed the onboarding
flow and agreed that the second step is confusing for new users, because the form asks for information that is
only needed later. Several people suggested moving the optional fields into a separate screen, and the design
group will prepare two variants for a short usability test next week. We also talked about the backlog: the
export feature is mostly done, but the error messages still need work, and the documentation should explain the
limits more clearly. Finally, we discussed how to measure success, and the proposal is to track completion rates
and the number of support questions over the next month, then decide whether further changes are worth it. `

func BenchmarkScanProse(b *testing.B) {
	for _, size := range []int{1 << 10, 100 << 10} {
		text := strings.Repeat(prose, size/len(prose)+1)[:size]
		for _, names := range []bool{true, false} {
			name := map[int]string{1 << 10: "1KB", 100 << 10: "100KB"}[size] + map[bool]string{true: "/names-on", false: "/names-off"}[names]
			b.Run(name, func(b *testing.B) {
				sc := redact.NewScanner(redact.Options{NoNames: !names})
				if fs := sc.Scan(text); len(fs) != 0 {
					b.Fatalf("prose has findings: %v", fs)
				}
				b.SetBytes(int64(len(text)))
				b.ReportAllocs()
				loopCPU(b, func() { sc.Scan(text) })
			})
		}
	}
}

func BenchmarkScan(b *testing.B) {
	for _, size := range []struct {
		name string
		n    int
	}{{"1KB", 1 << 10}, {"100KB", 100 << 10}} {
		for _, pii := range []bool{false, true} {
			for _, names := range []bool{true, false} {
				name := size.name
				if pii {
					name += "/pii"
				} else {
					name += "/no-pii"
				}
				if names {
					name += "/names-on"
				} else {
					name += "/names-off"
				}
				b.Run(name, func(b *testing.B) {
					text := benchText(b, size.n, pii)
					sc := redact.NewScanner(redact.Options{NoNames: !names})
					b.SetBytes(int64(len(text)))
					b.ReportAllocs()
					loopCPU(b, func() { sc.Scan(text) })
				})
			}
		}
	}
}

// Text shapes that stress the scanner: every one must stay under 1 ms per
// KB of CPU time (reported as cpu-ns/KB beside the time).
func BenchmarkScanShapes(b *testing.B) {
	shapes := []struct {
		name string
		text string
	}{
		{"digits-dense", strings.Repeat("4111 1111 1111 1112 555-0132 12/03/1984 ", 2600)},
		{"lookalikes", strings.Repeat("ORD-4411-2210 v2.4.1 10.0.0.300 BP 120/80 7.35/42/88 sk-notakey ", 1700)},
		{"capitalized", strings.Repeat("Meeting Notes Review Budget Plan Alpha Beta Gamma Delta Street Road ", 1500)},
		{"one-line-1MB", strings.Repeat("x", 1<<20)},
		{"punctuation", strings.Repeat("|^~;<>[]{}\"'=:,()", 6000)},
		{"unicode", strings.Repeat("ｆｕｌｌ\u200bwidth ４１１１ Ｍüller 王小明 &#64; %40 ", 2500)},
		{"names-dense", strings.Repeat("Dr. Anna Schmidt, Mr. John Smith and Maria Garcia met Selma. ", 1700)},
		{"addresses", strings.Repeat("221B Baker Street, Apt 4, Springfield, IL 62704\n", 2000)},
	}
	for _, sh := range shapes {
		b.Run(sh.name, func(b *testing.B) {
			sc := redact.NewScanner(redact.Options{})
			b.SetBytes(int64(len(sh.text)))
			cpu := loopCPU(b, func() { sc.Scan(sh.text) })
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N)/(float64(len(sh.text))/1024), "cpu-ns/KB")
		})
	}
}

// BenchmarkInspect: a request of many small fields, some grouped.
func BenchmarkInspect(b *testing.B) {
	var fields []redact.Field
	for i := 0; i < 200; i++ {
		fields = append(fields, redact.Field{Text: "part of a message about the weekly report ", Group: 1 + i/10},
			redact.Field{Key: "user_id", Text: "u-88213"})
	}
	sc := redact.NewScanner(redact.Options{})
	n := 0
	for _, f := range fields {
		n += len(f.Text)
	}
	b.SetBytes(int64(n))
	b.ReportAllocs()
	loopCPU(b, func() { _, _ = sc.Inspect(fields) })
}

// shortTexts are the short instructions most requests carry: a system
// prompt under cacheMinText bytes is scanned on every request.
var shortTexts = []string{
	"You are a careful assistant. Answer briefly.",
	"Summarize the note below.",
	"Translate to French.",
	"You are a helpful assistant for a hospital's clinicians.",
}

// BenchmarkScanShort: one op scans every text of shortTexts once.
func BenchmarkScanShort(b *testing.B) {
	sc := redact.NewScanner(redact.Options{})
	n := 0
	for _, t := range shortTexts {
		n += len(t)
	}
	b.SetBytes(int64(n))
	b.ReportAllocs()
	loopCPU(b, func() {
		for _, t := range shortTexts {
			sc.Scan(t)
		}
	})
}
