// Command build makes the redact package's embedded tables from public
// sources read from local directories, reproducibly:
//
//	node redact/internal/build/dump-faker.mjs > faker.json   (npm @faker-js/faker 10.6.0)
//	go run ./redact/internal/build -faker faker.json -census NAMES_DIR -libpostal DICT_DIR \
//	    -words /usr/share/dict/american-english -conll CONLL_DIR -out redact/data
//
// NAMES_DIR holds the 1990 US Census files dist.male.first, dist.female.first
// and dist.all.last; DICT_DIR holds libpostal's resources/dictionaries/<lang>/;
// CONLL_DIR holds CoNLL-format corpora (wikigold, WNUT-17, BTC, SEC filings).
// It writes gazetteer.gz and model.gz. Nothing of the sources themselves is
// written: only the derived table and the trained weights.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/custos-gateway/custos/redact/internal/ner"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "build:", err)
		os.Exit(1)
	}
}

func run() error {
	fakerPath := flag.String("faker", "", "faker.json written by dump-faker.mjs")
	census := flag.String("census", "", "directory with the 1990 US Census name files")
	libpostal := flag.String("libpostal", "", "directory with libpostal's per-language dictionaries")
	words := flag.String("words", "/usr/share/dict/american-english", "SCOWL word list (Debian wamerican)")
	ambiguous := flag.String("ambiguous", "redact/lexicon/ambiguous.txt", "hand-kept list of ambiguous name words")
	conll := flag.String("conll", "", "directory of CoNLL-format NER corpora")
	out := flag.String("out", "redact/data", "output directory")
	nSynth := flag.Int("synth", 90000, "generated training sentences")
	epochs := flag.Int("epochs", 6, "training epochs")
	forget := flag.Float64("forget", 0.15, "share of name tokens trained without their gazetteer frequencies")
	flag.Parse()
	if *fakerPath == "" || *census == "" || *libpostal == "" || *conll == "" {
		flag.Usage()
		return fmt.Errorf("-faker, -census, -libpostal and -conll are required")
	}
	g, err := buildGazetteer(*fakerPath, *census, *libpostal, *words, *ambiguous)
	if err != nil {
		return err
	}
	gb, err := g.Marshal()
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(*out, "gazetteer.gz"), gb, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "gazetteer: %d words, %d bytes\n", g.Len(), len(gb))
	data, err := readCoNLL(*conll)
	if err != nil {
		return err
	}
	locales, err := loadFaker(*fakerPath)
	if err != nil {
		return err
	}
	ordinary, err := commonWords(*words)
	if err != nil {
		return err
	}
	gen := newSynth(20261201, locales, ordinary).examples(*nSynth)
	fmt.Fprintf(os.Stderr, "training: %d corpus sentences, %d generated\n", len(data), len(gen))
	m := ner.Train(g, append(data, gen...), ner.TrainOptions{Epochs: *epochs, Seed: 7, Prune: 0.02, Forget: *forget})
	mb, err := m.Marshal()
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "model: %d features, %d bytes\n", m.Features(), len(mb))
	return os.WriteFile(filepath.Join(*out, "model.gz"), mb, 0o644)
}

// commonWords returns lower-case words of 4 to 9 letters from the word list,
// the material of generated organization names.
func commonWords(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []string
	for w := range strings.SplitSeq(string(b), "\n") {
		if len(w) >= 4 && len(w) <= 9 && strings.ToLower(w) == w && !strings.Contains(w, "'") {
			out = append(out, w)
		}
	}
	return out, nil
}
