package redact_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/custos-gateway/custos/redact"
)

// TestScanConcurrent: scans running at once, whose states, sentences and
// their memory come from shared pools, find what the same scans find one
// at a time (run with -race).
func TestScanConcurrent(t *testing.T) {
	corpus := loadCorpus(t)
	texts := append([]string{}, shortTexts...)
	for _, c := range corpus[:min(len(corpus), 200)] {
		texts = append(texts, c.Text)
	}
	sc := redact.NewScanner(redact.Options{})
	want := make([]string, len(texts))
	for i, text := range texts {
		want[i] = fmt.Sprint(sc.Scan(text))
	}
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range texts {
				i := (k*7 + g*13) % len(texts) // each goroutine in its own order
				if got := fmt.Sprint(sc.Scan(texts[i])); got != want[i] {
					t.Errorf("text %d at once: %s, one at a time: %s", i, got, want[i])
				}
			}
		}()
	}
	wg.Wait()
}
