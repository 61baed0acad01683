package upstream

import (
	"strings"
	"testing"
	"time"
)

func TestSplitWordsKeepsEveryByte(t *testing.T) {
	for _, s := range []string{"", "a", "hello there world", "  lead", "trail  ", "a  b", "日本 語 テキスト", "x\ny z"} {
		if got := strings.Join(splitWords(s), ""); got != s {
			t.Errorf("splitWords(%q) joins to %q", s, got)
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	cases := []struct {
		in   string
		want time.Duration
	}{
		{"", 0}, {"7", 7 * time.Second}, {"0.5", 500 * time.Millisecond}, {"-3", 0}, {"soon", 0},
		{now.Add(30 * time.Second).Format("Mon, 02 Jan 2006 15:04:05 GMT"), 30 * time.Second},
		{now.Add(-30 * time.Second).Format("Mon, 02 Jan 2006 15:04:05 GMT"), 0},
	}
	for _, tc := range cases {
		if got := parseRetryAfter(tc.in, now); got != tc.want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}
