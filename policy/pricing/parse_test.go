package pricing_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/custos-gateway/custos/policy/pricing"
)

// Every malformed table in testdata/invalid is refused with exactly the
// problems in its .want file, each naming the field.
func TestInvalidTablesNameTheField(t *testing.T) {
	files, err := filepath.Glob("testdata/invalid/*.json")
	if err != nil || len(files) < 15 {
		t.Fatalf("golden cases: %d files, %v", len(files), err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		t.Run(name, func(t *testing.T) {
			data := mustRead(t, f)
			want := strings.TrimSpace(string(mustRead(t, strings.TrimSuffix(f, ".json")+".want")))
			tbl, err := pricing.Parse(data, pricing.File)
			if tbl != nil || !errors.Is(err, pricing.ErrInvalid) {
				t.Fatalf("Parse = %v, %v; want refusal", tbl, err)
			}
			var inv *pricing.InvalidError
			if !errors.As(err, &inv) {
				t.Fatalf("error %T is not an *InvalidError", err)
			}
			var got []string
			for _, p := range inv.Problems {
				got = append(got, p.String())
			}
			if strings.Join(got, "\n") != want {
				t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), want)
			}
			if !strings.HasPrefix(err.Error(), strings.SplitN(want, "\n", 2)[0]) {
				t.Errorf("Error() = %q does not start with the first problem", err.Error())
			}
		})
	}
}

func TestValidTableDefaults(t *testing.T) {
	tbl := load(t)
	if tbl.Version() != "t1" || tbl.Currency() != "USD" {
		t.Errorf("version %q currency %q", tbl.Version(), tbl.Currency())
	}
	if got := strings.Join(tbl.Models(), ","); got != "big,embed" {
		t.Errorf("Models() = %s (aliases must not be listed)", got)
	}
	p, err := tbl.Lookup("big", "", at("2025-01-15T00:00:00Z"))
	if err != nil {
		t.Fatal(err)
	}
	want := pricing.Rates{Input: 10000000, CachedInput: 10000000, CacheWrite: 10000000, Output: 40000000, Reasoning: 40000000}
	if p.Rates != want || p.RequestFee != 0 || p.LongContext != nil || p.MaxOutputTokens != 1000 {
		t.Errorf("defaults: %+v", *p)
	}
	p, _ = tbl.Lookup("big", "", at("2025-05-01T00:00:00Z"))
	if p.LongContext == nil || p.LongContext.Rates != (pricing.Rates{Input: 5000000, CachedInput: 1250000,
		CacheWrite: 3125000, Output: 15000000, Reasoning: 12000000}) {
		t.Errorf("tier rates must default to the row's: %+v", p.LongContext)
	}
	if !p.Until.Equal(at("2025-06-10T00:00:00Z")) {
		t.Errorf("a row without until must end at the next row's from, got %v", p.Until)
	}
}

func mustRead(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func load(t testing.TB) *pricing.Table {
	t.Helper()
	tbl, err := pricing.Parse(mustRead(t, "testdata/valid.json"), "testdata/valid.json")
	if err != nil {
		t.Fatal(err)
	}
	return tbl
}

func FuzzParse(f *testing.F) {
	f.Add(mustRead(f, "testdata/valid.json"))
	files, _ := filepath.Glob("testdata/invalid/*.json")
	for _, p := range files {
		f.Add(mustRead(f, p))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		tbl, err := pricing.Parse(data, pricing.File)
		if (tbl == nil) == (err == nil) {
			t.Fatalf("Parse returned %v and %v", tbl, err)
		}
		if err != nil {
			if !errors.Is(err, pricing.ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			return
		}
		for _, m := range tbl.Models() {
			for _, ts := range []string{"2000-01-01T00:00:00Z", "2025-06-10T00:00:00Z", "2100-01-01T00:00:00Z"} {
				c, err := tbl.Cost(pricing.Usage{Input: 12345, CachedInput: 7, Output: 999, Reasoning: 3}, m, "", at(ts))
				if err == nil && c.Amount < 0 {
					t.Fatalf("negative cost %d", c.Amount)
				}
			}
		}
	})
}
