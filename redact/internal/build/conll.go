package main

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"

	"github.com/custos-gateway/custos/redact/internal/ner"
)

// conllTag maps the entity labels of the CoNLL-format corpora (wikigold,
// WNUT-17, BTC, SEC filings) to the tagger's tags.
func conllTag(label string) ner.Tag {
	label = strings.TrimPrefix(strings.TrimPrefix(label, "B-"), "I-")
	switch strings.ToLower(label) {
	case "per", "person":
		return ner.PER
	case "loc", "location", "geo-loc", "gpe":
		return ner.LOC
	case "org", "organization", "corporation", "company", "sportsteam":
		return ner.ORG
	}
	return ner.O
}

// readCoNLL reads every file of dir: one token and its label per line
// (label last), sentences separated by blank lines. Each sentence is
// rebuilt as text (punctuation attached as written) and tokenized the way
// the scanner tokenizes prose.
func readCoNLL(dir string) ([]ner.Example, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*"))
	if err != nil {
		return nil, err
	}
	var out []ner.Example
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			return nil, err
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		var words []string
		var tags []ner.Tag
		flush := func() {
			if len(words) > 0 {
				out = append(out, sentence(words, tags))
			}
			words, tags = nil, nil
		}
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			if line == "" || strings.HasPrefix(line, "-DOCSTART-") {
				flush()
				continue
			}
			fs := strings.Fields(line)
			if len(fs) < 2 {
				continue
			}
			words = append(words, fs[0])
			tags = append(tags, conllTag(fs[len(fs)-1]))
		}
		flush()
		fh.Close()
		if err := sc.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// sentence joins labeled words into text and re-tokenizes it.
func sentence(words []string, tags []ner.Tag) ner.Example {
	var b strings.Builder
	type span struct {
		s, e int
		t    ner.Tag
	}
	var spans []span
	for i, w := range words {
		if i > 0 && !attaches(w) && !strings.HasSuffix(words[i-1], "(") && words[i-1] != "$" {
			b.WriteByte(' ')
		}
		s := b.Len()
		b.WriteString(w)
		spans = append(spans, span{s, b.Len(), tags[i]})
	}
	text := b.String()
	toks, offs := ner.Tokenize(text)
	ex := ner.Example{Toks: toks, Tags: make([]ner.Tag, len(toks))}
	k := 0
	for i, o := range offs {
		for k < len(spans) && spans[k].e <= o[0] {
			k++
		}
		if k < len(spans) && spans[k].s < o[1] {
			ex.Tags[i] = spans[k].t
		}
	}
	return ex
}

func attaches(w string) bool {
	switch w {
	case ".", ",", ":", ";", "!", "?", ")", "'s", "n't", "'", "%", "'re", "'ve", "'ll", "'m", "'d":
		return true
	}
	return false
}
