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
