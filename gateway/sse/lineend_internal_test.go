package sse

import (
	"bytes"
	"testing"
)

func TestLineEnd(t *testing.T) {
	for _, s := range []string{"", "data: x", "data: x\n", "a\r\nb", "a\nb\r", "\r", "\n", "\n\r", "abc\rdef\n", "no end at all"} {
		if got, want := lineEnd([]byte(s)), bytes.IndexAny([]byte(s), "\r\n"); got != want {
			t.Errorf("lineEnd(%q) = %d, want %d", s, got, want)
		}
	}
}

// FuzzLineEnd: lineEnd is bytes.IndexAny(b, "\r\n").
func FuzzLineEnd(f *testing.F) {
	f.Add([]byte("data: {\"a\":1}\r\n\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := lineEnd(b), bytes.IndexAny(b, "\r\n"); got != want {
			t.Fatalf("lineEnd(%q) = %d, want %d", b, got, want)
		}
	})
}
