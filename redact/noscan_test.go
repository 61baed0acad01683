package redact_test

import (
	"testing"

	"github.com/custos-gateway/custos/redact"
)

// TestNoScan: a NoScan field is not scanned for data of its own, but a
// value found elsewhere in the same request is found in it.
func TestNoScan(t *testing.T) {
	sc := redact.NewScanner(redact.Options{})
	for _, c := range []struct {
		name   string
		fields []redact.Field
		want   []int // findings per field
	}{
		{"alone", []redact.Field{{Key: "contact", Text: "ann.lee@example.com", NoScan: true}}, []int{0}},
		{"scanned, the same text", []redact.Field{{Key: "contact", Text: "ann.lee@example.com"}}, []int{1}},
		{"found elsewhere", []redact.Field{{Text: "My postcode is 8001."}, {Key: "seed", Text: "8001", NoScan: true}}, []int{1, 1}},
	} {
		found, err := sc.Inspect(c.fields)
		if err != nil {
			t.Fatal(err)
		}
		for i, fs := range found {
			if len(fs) != c.want[i] {
				t.Errorf("%s: field %d has %d findings %v, want %d", c.name, i, len(fs), fs, c.want[i])
			}
		}
	}
}
