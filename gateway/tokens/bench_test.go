package tokens

import (
	"strings"
	"testing"
)

// benchText is clinical prose with numbers, punctuation and a code-ish tail,
// cut to n bytes at a rune boundary.
func benchText(n int) string {
	base := "Patient John Miller (MRN 4471203), 64, admitted 2025-03-04 with chest pain radiating to the left arm; " +
		"ECG showed ST elevation in II, III and aVF. Given aspirin 300 mg and heparin 5000 IU; troponin 2.3 ng/mL. " +
		"Plan: {\"cath_lab\": true, \"notify\": [\"cardiology\", \"ICU\"]}\n\n"
	s := strings.Repeat(base, n/len(base)+1)[:n]
	return validText(s)
}

func BenchmarkPrompt(b *testing.B) {
	c := counter(b)
	for _, size := range []struct {
		name string
		n    int
	}{{"1KB", 1 << 10}, {"100KB", 100 << 10}} {
		text := benchText(size.n)
		p := Prompt{Messages: []Message{{Role: "system", Texts: []string{"You are a clinical assistant."}}, {Role: "user", Texts: []string{text}}}}
		b.Run(size.name+"/custos", func(b *testing.B) {
			b.SetBytes(int64(len(text)))
			b.ReportAllocs()
			for b.Loop() {
				c.Prompt("gpt-4o", p)
			}
		})
		ref := reference(b, O200kBase)
		b.Run(size.name+"/tokenizer-module", func(b *testing.B) {
			b.SetBytes(int64(len(text)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ref.Count(text); err != nil {
					b.Fatal(err)
				}
			}
		})
		var sink int
		b.Run(size.name+"/baseline-len-div-4", func(b *testing.B) {
			b.SetBytes(int64(len(text)))
			b.ReportAllocs()
			for b.Loop() {
				for _, m := range p.Messages {
					for _, s := range m.Texts {
						sink += len(s) / 4
					}
				}
			}
		})
		_ = sink
	}
}

func BenchmarkStream(b *testing.B) {
	c := counter(b)
	text := benchText(16 << 10)
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		s := c.Stream("gpt-4o")
		for i := 0; i < len(text); i += 24 {
			s.Write(text[i:min(i+24, len(text))])
		}
		s.Close()
	}
}
