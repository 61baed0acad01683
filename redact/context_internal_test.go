package redact

import (
	"bufio"
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"
)

// The cache of keyword matches gives the findings that matching every
// context window directly gives.
func TestKeywordCacheMatchesDirect(t *testing.T) {
	var texts []string
	for _, path := range []string{"testdata/corpus.jsonl", "testdata/heldout.jsonl", "testdata/organizations.jsonl"} {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var c struct{ Text string }
			if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
				t.Fatal(err)
			}
			texts = append(texts, c.Text)
		}
		f.Close()
	}
	// Joined, so that windows overlap across cases as in a long request.
	texts = append(texts, strings.Join(texts[:200], " "), strings.Join(texts[200:400], "\n"))
	for _, names := range []bool{true, false} {
		sc := NewScanner(Options{NoNames: !names})
		for _, text := range texts {
			cached := sc.Scan(text)
			directHits = true
			direct := sc.Scan(text)
			directHits = false
			if !reflect.DeepEqual(cached, direct) {
				k := 0
				for k < min(len(cached), len(direct)) && cached[k] == direct[k] {
					k++
				}
				t.Errorf("names %v: %q: %d findings cached, %d direct, first difference at %d", names,
					text[:min(len(text), 120)], len(cached), len(direct), k)
			}
		}
	}
}
