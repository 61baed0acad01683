package tokens

import (
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/tiktoken-go/tokenizer"
)

// Encoding names a tiktoken BPE vocabulary.
type Encoding string

// The two encodings Custos counts with; their vocabularies are embedded in
// the binary (github.com/tiktoken-go/tokenizer), nothing is downloaded.
const (
	O200kBase  Encoding = "o200k_base"  // gpt-4o, gpt-4.1, gpt-4.5, gpt-5, o-series
	Cl100kBase Encoding = "cl100k_base" // gpt-4, gpt-3.5-turbo, text-embedding-3 and ada-002
)

// ErrVocabulary: an embedded vocabulary could not be read.
var ErrVocabulary = errors.New("tokens: vocabulary unavailable")

// encoding is a loaded vocabulary: its pre-tokenizer and merge ranks.
type encoding struct {
	name  Encoding
	next  func(s string, i int) int
	ranks map[string]uint32
}

var (
	loadOnce sync.Once
	loaded   map[Encoding]*encoding
	loadErr  error
)

// vocabSizes are the encodings' ordinary token counts (special tokens
// excluded), checked on load.
var vocabSizes = map[Encoding]int{O200kBase: 199998, Cl100kBase: 100256}

// load reads both vocabularies once: each token's bytes by its rank, from
// the embedded codec.
func load() (map[Encoding]*encoding, error) {
	loadOnce.Do(func() {
		loaded = map[Encoding]*encoding{}
		for name, next := range map[Encoding]func(string, int) int{O200kBase: nextO200k, Cl100kBase: nextCl100k} {
			ranks, err := readRanks(name)
			if err != nil {
				loadErr = err
				return
			}
			loaded[name] = &encoding{name: name, next: next, ranks: ranks}
		}
	})
	return loaded, loadErr
}

func readRanks(name Encoding) (map[string]uint32, error) {
	c, err := tokenizer.Get(tokenizer.Encoding(name))
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrVocabulary, name, err)
	}
	want := vocabSizes[name]
	ranks := make(map[string]uint32, want)
	for id := 0; id < want+1024 && len(ranks) < want; id++ {
		tok, err := c.Decode([]uint{uint(id)})
		if err != nil {
			continue // an id without an ordinary token
		}
		ranks[strings.Clone(tok)] = uint32(id)
	}
	if len(ranks) != want {
		return nil, fmt.Errorf("%w: %s has %d tokens, want %d", ErrVocabulary, name, len(ranks), want)
	}
	return ranks, nil
}
