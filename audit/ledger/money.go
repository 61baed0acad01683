package ledger

import (
	"fmt"
	"strconv"
	"strings"
)

// MicrosPerUnit is how many micro-units make one unit of a currency.
const MicrosPerUnit = 1_000_000

// ParseAmount reads a decimal amount ("12", "12.5", "-0.000001") into
// micro-units exactly, without floating point; more than six decimals is
// an error, never a rounding.
func ParseAmount(s string) (int64, error) {
	neg := strings.HasPrefix(s, "-")
	whole, frac, _ := strings.Cut(strings.TrimPrefix(s, "-"), ".")
	if whole == "" && frac == "" || len(frac) > 6 || strings.ContainsAny(whole+frac, "+-") {
		return 0, fmt.Errorf("%w: amount %q (a decimal with at most six places)", ErrInvalid, s)
	}
	if whole == "" {
		whole = "0"
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || w > (1<<63-1)/MicrosPerUnit-1 {
		return 0, fmt.Errorf("%w: amount %q", ErrInvalid, s)
	}
	var f int64
	if frac != "" {
		if f, err = strconv.ParseInt(frac+strings.Repeat("0", 6-len(frac)), 10, 64); err != nil {
			return 0, fmt.Errorf("%w: amount %q", ErrInvalid, s)
		}
	}
	n := w*MicrosPerUnit + f
	if neg {
		n = -n
	}
	return n, nil
}

// FormatAmount writes micro-units as a decimal with six places.
func FormatAmount(micros int64) string {
	var b [24]byte
	return string(AppendAmount(b[:0], micros))
}

// AppendAmount appends FormatAmount's form of micros to b.
func AppendAmount(b []byte, micros int64) []byte {
	u := uint64(micros)
	if micros < 0 {
		b, u = append(b, '-'), uint64(-micros)
	}
	b = append(strconv.AppendUint(b, u/MicrosPerUnit, 10), '.')
	frac := u % MicrosPerUnit
	for d := uint64(MicrosPerUnit / 10); d > 0; d /= 10 {
		b = append(b, byte('0'+frac/d%10))
	}
	return b
}
