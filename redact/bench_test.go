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
				for b.Loop() {
					sc.Scan(text)
				}
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
					for b.Loop() {
						sc.Scan(text)
					}
				})
			}
		}
	}
}
