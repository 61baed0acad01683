package sse

import (
	"bytes"
	"strings"
	"testing"
)

func TestLineEnd(t *testing.T) {
	long := strings.Repeat("x", 3*lineWindow)
	cases := []string{"", "data: x", "data: x\n", "a\r\nb", "a\nb\r", "\r", "\n", "\n\r", "abc\rdef\n", "no end at all",
		long, long + "\r", long + "\n", long[:lineWindow-1] + "\r\n", long[:lineWindow] + "\n\r", long[:lineWindow+1] + "\r" + long + "\n"}
	for _, s := range cases {
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

// BenchmarkLineEndCROnly: lines ended by \r alone in a full buffer cost
// about their own length each, not the buffer's.
func BenchmarkLineEndCROnly(b *testing.B) {
	buf := []byte(strings.Repeat(strings.Repeat("d", 99)+"\r", 640)) // 64 KB
	for b.Loop() {
		for rest := buf; len(rest) > 0; {
			i := lineEnd(rest)
			if i < 0 {
				break
			}
			rest = rest[i+1:]
		}
	}
}
