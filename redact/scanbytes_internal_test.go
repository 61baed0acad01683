package redact

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// scanBytesByByte is scanBytes one byte at a time: what it must equal.
func scanBytesByByte(text string) (high, escapes bool) {
	for i := 0; i < len(text); i++ {
		if c := text[i]; c >= utf8.RuneSelf {
			high = true
		} else if c == '%' || c == '&' {
			escapes = true
		}
	}
	return high, escapes
}

// TestScanBytes: every byte value at every offset of texts of 1 to 24
// bytes (each word position and the tail), alone and with a high byte or
// an escape elsewhere.
func TestScanBytes(t *testing.T) {
	for n := 1; n <= 24; n++ {
		for pos := range n {
			for c := range 256 {
				for _, other := range []byte{'a', 0xc3, '%', '&', 0x7f, 0x24, 0x27, 0x80} {
					b := []byte(strings.Repeat(string(other), n))
					b[pos] = byte(c)
					checkScanBytes(t, string(b))
				}
			}
		}
	}
}

func checkScanBytes(t *testing.T, s string) {
	t.Helper()
	h, e := scanBytes(s)
	wh, we := scanBytesByByte(s)
	if h != wh || e != we {
		t.Fatalf("%q: high %v escapes %v, want %v %v", s, h, e, wh, we)
	}
}

func FuzzScanBytes(f *testing.F) {
	f.Add("plain text of some length, with no escapes")
	f.Add("50% off & more: Müller")
	f.Fuzz(func(t *testing.T, s string) { checkScanBytes(t, s) })
}

func BenchmarkScanBytes(b *testing.B) {
	text := strings.Repeat("Please summarise the following discussion for the weekly report. ", 16)[:1000]
	b.SetBytes(int64(len(text)))
	b.Run("words", func(b *testing.B) {
		for b.Loop() {
			scanBytes(text)
		}
	})
	b.Run("bytes", func(b *testing.B) { // the baseline: one byte at a time
		for b.Loop() {
			scanBytesByByte(text)
		}
	})
}
