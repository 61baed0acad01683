package ledger

import (
	"fmt"
	"math"
	"testing"
)

// formatAmountSprintf is FormatAmount as fmt writes it: what it must equal.
func formatAmountSprintf(micros int64) string {
	sign, u := "", uint64(micros)
	if micros < 0 {
		sign, u = "-", uint64(-micros)
	}
	return fmt.Sprintf("%s%d.%06d", sign, u/MicrosPerUnit, u%MicrosPerUnit)
}

func FuzzFormatAmount(f *testing.F) {
	for _, v := range []int64{0, 1, -1, 999_999, 1_000_000, -1_000_001, 54, math.MaxInt64, math.MinInt64, 123_456_789_012} {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, v int64) {
		if got, want := FormatAmount(v), formatAmountSprintf(v); got != want {
			t.Fatalf("FormatAmount(%d) = %s, want %s", v, got, want)
		}
		if n, err := ParseAmount(FormatAmount(v)); err == nil && n != v {
			t.Fatalf("ParseAmount(FormatAmount(%d)) = %d", v, n)
		}
	})
}
