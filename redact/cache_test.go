package redact_test

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/custos-gateway/custos/redact"
)

// cachedScanner is a scanner with a findings cache.
func cachedScanner(entries, maxFindings int) *redact.Scanner {
	return redact.NewScanner(redact.Options{CacheEntries: entries, MaxFindings: maxFindings})
}

// corpusRequests groups the corpus's texts into requests of a few fields
// each: prose, labelled values, keys and adjacent parts of one message.
func corpusRequests(t *testing.T) [][]redact.Field {
	var out [][]redact.Field
	var cur []redact.Field
	for i, c := range loadCorpus(t) {
		f := redact.Field{Text: c.Text}
		switch i % 5 {
		case 1:
			f.Key = "note"
		case 2, 3:
			f.Group = 1
		case 4:
			f.Key, f.IsKey = c.Text, true
		}
		if cur = append(cur, f); len(cur) == 4 {
			out, cur = append(out, cur), nil
		}
	}
	return out
}

// TestCacheReturnsWhatAScanFinds: every request of the corpus inspected
// with the cache (first cold, then warm, then its fields in another order)
// gives exactly what Inspect without a cache gives, and the warm pass is
// served from the cache.
func TestCacheReturnsWhatAScanFinds(t *testing.T) {
	sc := cachedScanner(1<<16, 0)
	reqs := corpusRequests(t)
	for pass := range 3 {
		for i, fields := range reqs {
			if pass == 2 {
				fields = append([]redact.Field{fields[3]}, fields[:3]...)
			}
			want, err := scanner.Inspect(fields)
			if err != nil {
				t.Fatal(err)
			}
			got, err := sc.InspectIn(fields, "tenant\x00app")
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(norm(got), norm(want)) {
				t.Fatalf("pass %d request %d: cached %+v\nscanned %+v", pass, i, got, want)
			}
		}
		if pass == 0 {
			hits, misses, _ := sc.CacheStats()
			t.Logf("cold pass: %d hits, %d misses", hits, misses)
		}
	}
	hits, misses, _ := sc.CacheStats()
	if hits < misses || misses == 0 {
		t.Fatalf("warm passes were not served from the cache: %d hits, %d misses", hits, misses)
	}
}

// norm treats a nil and an empty result alike.
func norm(res [][]redact.Finding) [][]redact.Finding {
	out := make([][]redact.Finding, len(res))
	for i, fs := range res {
		if len(fs) > 0 {
			out[i] = fs
		}
	}
	return out
}

// TestCacheKeepsScopesApart: a text one scope sent is a miss for another
// (scopes that are prefixes of each other, or the same bytes cut into other
// parts, included), and a hit for itself.
func TestCacheKeepsScopesApart(t *testing.T) {
	sc := cachedScanner(1024, 0)
	fields := []redact.Field{{Text: "Patient Maria Garcia, DOB 1961-03-14, was seen on Monday by the ward nurse."}}
	step := func(wantHit bool, scope ...string) {
		t.Helper()
		h0, m0, _ := sc.CacheStats()
		if _, err := sc.InspectIn(fields, scope...); err != nil {
			t.Fatal(err)
		}
		h1, m1, _ := sc.CacheStats()
		if hit := h1 > h0 && m1 == m0; hit != wantHit {
			t.Fatalf("scope %q: hit %v, want %v (hits %d→%d, misses %d→%d)", scope, hit, wantHit, h0, h1, m0, m1)
		}
	}
	step(false, "a")
	step(true, "a")
	step(false, "b")
	step(false, "ab")
	step(false, "")
	step(true, "b")
	step(false, "a", "b")
	step(true, "a", "b")
	step(false, "a", "b", "")
	step(false)
}

// TestCacheHoldsNoText: after requests carrying canaries, every string the
// cache holds (walked by reflection) is a type name (or empty): no canary,
// no text.
func TestCacheHoldsNoText(t *testing.T) {
	sc := cachedScanner(1024, 0)
	canary := "Zebulon Quartermaine"
	for i := range 20 {
		fields := []redact.Field{{Text: fmt.Sprintf("Dr. %s saw the patient %s at 12 Baker Street on day %d.", canary, canary, i)}}
		if _, err := sc.InspectIn(fields, "t"); err != nil {
			t.Fatal(err)
		}
	}
	var strs []string
	walkStrings(reflect.ValueOf(redact.CacheOf(sc)), &strs)
	for _, s := range strs {
		if strings.Contains(s, "Zebulon") || strings.Contains(s, "Baker") || strings.Trim(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_") != "" {
			t.Fatalf("cache holds %q, which is no type name", s)
		}
	}
	if len(strs) == 0 {
		t.Fatal("walk found no findings at all: the walk reads nothing")
	}
}

// walkStrings appends every string reachable from v (unexported fields
// included) to out.
func walkStrings(v reflect.Value, out *[]string) {
	switch v.Kind() {
	case reflect.String:
		*out = append(*out, v.String())
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			walkStrings(v.Elem(), out)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			walkStrings(v.Field(i), out)
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			walkStrings(v.Index(i), out)
		}
	case reflect.Map:
		it := v.MapRange()
		for it.Next() {
			walkStrings(it.Key(), out)
			walkStrings(it.Value(), out)
		}
	}
}

// TestCacheKeepsTheFindingsBound: a request over MaxFindings is refused
// whether its texts are scanned or found in the cache.
func TestCacheKeepsTheFindingsBound(t *testing.T) {
	sc := cachedScanner(1024, 5)
	var b strings.Builder
	for i := range 8 {
		fmt.Fprintf(&b, "mail user%d@example.org now. ", i)
	}
	fields := []redact.Field{{Text: b.String()}}
	for pass := range 3 { // never kept: its scan fails
		if _, err := sc.InspectIn(fields, "t"); !errors.Is(err, redact.ErrTooManyFindings) {
			t.Fatalf("pass %d: err %v, want ErrTooManyFindings", pass, err)
		}
	}
	few := []redact.Field{{Text: "please mail one@example.org and two@example.org about the discharge plan"}}
	for pass := range 2 {
		res, err := sc.InspectIn(few, "t")
		if err != nil || len(res[0]) != 2 {
			t.Fatalf("pass %d: %v %+v", pass, err, res)
		}
	}
	// The same texts in one request, twice: the cache must count both.
	twice := []redact.Field{few[0], {Text: "and " + few[0].Text}, few[0], {Text: few[0].Text + " again"}}
	if _, err := sc.InspectIn(twice, "t"); !errors.Is(err, redact.ErrTooManyFindings) {
		t.Fatalf("8 findings over 4 fields under a bound of 5: err %v", err)
	}
	if h, _, _ := sc.CacheStats(); h == 0 {
		t.Fatal("no text was found in the cache: the bound was not tested on hits")
	}
}

// TestCacheCountsLikeAScan: a long text read in windows whose findings
// overlap across a window's edge counts, from the cache, what its scan
// counted (more than the findings it returns), so a request over
// MaxFindings is refused either way.
func TestCacheCountsLikeAScan(t *testing.T) {
	filler := func(n int) string { return strings.Repeat("word ", n/5) }
	long := filler(246<<10) + "-----BEGIN RSA PRIVATE KEY-----\nMIIEow " + filler(12<<10) +
		" write to ann@example.org today " + filler(40<<10)
	sc := cachedScanner(1024, 2)
	if _, err := sc.InspectIn([]redact.Field{{Text: long}}, "s"); err != nil {
		t.Fatal(err) // fills the cache
	}
	fields := []redact.Field{{Text: "mail bob@example.net"}, {Text: long}}
	_, want := sc.Inspect(fields)
	_, got := sc.InspectIn(fields, "s")
	if errors.Is(want, redact.ErrTooManyFindings) != errors.Is(got, redact.ErrTooManyFindings) {
		t.Fatalf("a scan says %v, the cache says %v", want, got)
	}
	if h, _, _ := sc.CacheStats(); h == 0 {
		t.Fatal("the long text was not found in the cache")
	}
}

// TestCacheSkipsLabelledAndShortTexts: a labelled value ("ssn: ...") and a
// short text are scanned every time, never kept.
func TestCacheSkipsLabelledAndShortTexts(t *testing.T) {
	sc := cachedScanner(1024, 0)
	fields := []redact.Field{{Text: "123-45-6789 and a long enough note to be kept otherwise, surely", Key: "ssn"},
		{Text: "call 020 7946 0958"}}
	for range 3 {
		if _, err := sc.InspectIn(fields, "t"); err != nil {
			t.Fatal(err)
		}
	}
	if h, m, _ := sc.CacheStats(); h != 0 || m != 0 {
		t.Fatalf("%d hits, %d misses: a labelled or short text was looked up", h, m)
	}
}

// TestCacheStaysWithinItsSize: many distinct texts leave at most the
// cache's size kept (checked through the hit rate of the oldest texts)
// and every answer stays right.
func TestCacheStaysWithinItsSize(t *testing.T) {
	sc := cachedScanner(64, 0)
	text := func(i int) string {
		return fmt.Sprintf("Call Maria Garcia on +44 20 7946 %04d or mail m%d@example.org about visit %d.", i, i, i)
	}
	for i := range 2000 {
		got, err := sc.InspectIn([]redact.Field{{Text: text(i)}}, "t")
		if err != nil {
			t.Fatal(err)
		}
		want := scanner.Scan(text(i))
		if !reflect.DeepEqual(got[0], want) {
			t.Fatalf("text %d: %+v, want %+v", i, got[0], want)
		}
	}
	if n, f := redact.CacheLen(sc); n > 64 || n == 0 || f > 64*3 {
		t.Fatalf("cache of 64 holds %d entries, %d findings", n, f)
	}
}

// TestCacheUnderConcurrency: many goroutines inspecting overlapping texts
// in a few scopes all get what a scan finds (run with -race).
func TestCacheUnderConcurrency(t *testing.T) {
	sc := cachedScanner(128, 0)
	reqs := corpusRequests(t)[:64]
	want := make([][][]redact.Finding, len(reqs))
	for i, r := range reqs {
		var err error
		if want[i], err = scanner.Inspect(r); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Go(func() {
			for k := range 4 * len(reqs) {
				i := (k*7 + g) % len(reqs)
				got, err := sc.InspectIn(reqs[i], fmt.Sprint("scope", g%3))
				if err == nil && !reflect.DeepEqual(norm(got), norm(want[i])) {
					err = fmt.Errorf("goroutine %d request %d: %+v, want %+v", g, i, got, want[i])
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// BenchmarkInspectCache: one request of a 1 KB prompt and a system prompt,
// scanned (no cache), and found in the cache.
func BenchmarkInspectCache(b *testing.B) {
	prompt := strings.Repeat("The patient reported mild pain after the procedure and asked about follow-up care. ", 12)
	fields := []redact.Field{{Text: "You are a careful clinical assistant. Answer briefly.", Group: 1}, {Text: prompt, Group: 1}}
	b.Run("scan", func(b *testing.B) {
		for b.Loop() {
			if _, err := scanner.Inspect(fields); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("cached", func(b *testing.B) {
		sc := cachedScanner(1024, 0)
		for b.Loop() {
			if _, err := sc.InspectIn(fields, "t"); err != nil {
				b.Fatal(err)
			}
		}
	})
}
