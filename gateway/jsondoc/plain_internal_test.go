package jsondoc

import (
	"strings"
	"testing"
)

// plainUntilByByte is plainUntil one byte at a time: what it must equal.
func plainUntilByByte(s string, i int) int {
	for ; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x80 || c == '"' || c == '\\' {
			return i
		}
	}
	return i
}

// TestPlainUntil: every byte value at every offset of texts of 1 to 20
// bytes, from every start, among plain bytes and among special ones.
func TestPlainUntil(t *testing.T) {
	for n := 1; n <= 20; n++ {
		for pos := range n {
			for c := range 256 {
				for _, fill := range []byte{'a', 0x7f, ' ', '!', '#', '[', ']', 0x1f, 0xc3} {
					b := []byte(strings.Repeat(string(fill), n))
					b[pos] = byte(c)
					for from := 0; from <= n; from += 3 {
						checkPlainUntil(t, string(b), from)
					}
				}
			}
		}
	}
}

func checkPlainUntil(t *testing.T, s string, from int) {
	t.Helper()
	if got, want := plainUntil(s, from), plainUntilByByte(s, from); got != want {
		t.Fatalf("%q from %d: %d, want %d", s, from, got, want)
	}
}

func FuzzPlainUntil(f *testing.F) {
	f.Add("a plain run of text \"then a quote", 0)
	f.Add("tab\there \\ back\u2028slash Müller", 3)
	f.Add("\xff\xfe\xc3 invalid bytes in a row", 0)
	f.Fuzz(func(t *testing.T, s string, from int) {
		if from < 0 || from > len(s) {
			return
		}
		checkPlainUntil(t, s, from)
		// Strings encode and decode as before: what the parser reads back
		// from the encoder is the string, invalid UTF-8 replaced.
		enc := AppendString(nil, s)
		v, err := Parse(enc, Limits{})
		if err != nil || v.Kind != String || v.Str != eachInvalidByteReplaced(s) {
			t.Fatalf("%q encoded as %s, read back %+v, %v", s, enc, v, err)
		}
	})
}

// eachInvalidByteReplaced is s with every byte of invalid UTF-8 replaced by
// U+FFFD, as the encoder replaces them.
func eachInvalidByteReplaced(s string) string {
	var b strings.Builder
	for _, r := range s { // an invalid byte ranges as one U+FFFD
		b.WriteRune(r)
	}
	return b.String()
}

func BenchmarkAppendString(b *testing.B) {
	text := strings.Repeat("Please summarise the following discussion for the weekly report. ", 16)[:1000]
	buf := make([]byte, 0, 2048)
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendString(buf[:0], text)
	}
}
