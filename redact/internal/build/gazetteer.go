package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unicode"

	"github.com/custos-gateway/custos/redact/internal/ner"
)

// fakerLocale is what dump-faker.mjs writes per locale.
type fakerLocale struct {
	First, Last, Middle, Prefix                   []string
	City, State, StateAbbr, County, Country       []string
	StreetSuffix, StreetPrefix, StreetName        []string
	CompanyLegal, CompanySuffix, Secondary, Build []string
	Words                                         []string // ordinary words of the locale
}

func (f *fakerLocale) UnmarshalJSON(b []byte) error {
	var raw map[string][]string
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	f.First, f.Last, f.Middle, f.Prefix = raw["first"], raw["last"], raw["middle"], raw["prefix"]
	f.City, f.State, f.StateAbbr, f.County, f.Country = raw["city"], raw["state"], raw["state_abbr"], raw["county"], raw["country"]
	f.StreetSuffix, f.StreetPrefix, f.StreetName = raw["street_suffix"], raw["street_prefix"], raw["street_name"]
	f.CompanyLegal, f.CompanySuffix, f.Secondary = raw["company_legal"], raw["company_suffix"], raw["secondary"]
	f.Words = raw["words"]
	return nil
}

func loadFaker(path string) (map[string]*fakerLocale, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var m map[string]*fakerLocale
	return m, json.Unmarshal(b, &m)
}

// The languages Custos claims, whose short abbreviations are kept.
var claimedLangs = map[string]bool{"en": true, "de": true, "fr": true, "es": true, "it": true, "pt": true, "nl": true}

// Languages whose street type stands before the name (rue de la Paix).
var prefixLangs = map[string]bool{"fr": true, "es": true, "it": true, "pt": true, "ro": true, "pl": true, "ca": true, "gl": true,
	"oc": true, "ast": true, "ru": true, "uk": true, "bg": true, "el": true, "vi": true, "id": true, "ms": true, "fil": true,
	"cs": true, "sk": true, "sl": true, "hr": true, "sr": true, "bs": true, "lt": true, "lv": true, "tr": true, "eu": true}

// Languages that glue the street type to the name (Hauptstraße, Strandvej).
var glueLangs = map[string]bool{"de": true, "nl": true, "da": true, "sv": true, "nb": true, "fi": true, "et": true, "is": true,
	"af": true, "lb": true, "gsw": true, "hu": true}

// Short names of countries as people write them, written for this table.
var countryShortNames = []string{"United States", "United Kingdom", "Czech Republic", "Czechia", "Dominican Republic",
	"South Africa", "South Korea", "North Korea", "New Zealand", "Saudi Arabia", "United Arab Emirates", "Hong Kong",
	"Costa Rica", "Puerto Rico", "Sri Lanka", "El Salvador", "Ivory Coast", "Great Britain", "Netherlands", "Holland",
	"Russia", "Bosnia", "Macedonia", "North Macedonia", "Vatican City", "Burkina Faso", "Sierra Leone", "Papua New Guinea"}

// Demonyms, written for this table.
var demonyms = strings.Fields(`american british english scottish welsh irish german french spanish italian portuguese dutch
belgian swiss austrian danish swedish norwegian finnish icelandic polish czech slovak hungarian romanian bulgarian greek
turkish russian ukrainian belarusian estonian latvian lithuanian serbian croatian bosnian slovenian albanian macedonian
montenegrin moldovan georgian armenian azerbaijani kazakh uzbek chinese japanese korean vietnamese thai filipino indonesian
malaysian singaporean indian pakistani bangladeshi nepali sri lankan afghan iranian iraqi syrian lebanese jordanian israeli
palestinian saudi emirati qatari kuwaiti omani yemeni egyptian libyan tunisian algerian moroccan nigerian ghanaian kenyan
ethiopian somali sudanese tanzanian ugandan rwandan congolese angolan zambian zimbabwean south african namibian botswanan
canadian mexican guatemalan honduran salvadoran nicaraguan costa rican panamanian cuban haitian dominican jamaican
puerto rican colombian venezuelan ecuadorian peruvian bolivian chilean argentine argentinian uruguayan paraguayan brazilian
australian new zealander maori cambodian laotian burmese mongolian tibetan taiwanese greenlander faroese cypriot maltese
luxembourgish catalan basque galician flemish walloon kurdish arab arabic hispanic latino latina jewish muslim christian
catholic protestant hindu buddhist sikh orthodox european asian african caribbean`)

func buildGazetteer(fakerPath, censusDir, libpostalDir, wordsPath, ambiguousPath string) (*ner.Gazetteer, error) {
	g := &ner.Gazetteer{}
	locales, err := loadFaker(fakerPath)
	if err != nil {
		return nil, fmt.Errorf("faker: %w", err)
	}
	for _, loc := range locales {
		for _, n := range append(append([]string{}, loc.First...), loc.Middle...) {
			addWords(g, n, ner.Entry{First: 1})
		}
		for _, n := range loc.Last {
			addWords(g, n, ner.Entry{Last: 1})
		}
		for _, n := range loc.Prefix {
			addWords(g, strings.TrimRight(n, "."), ner.Entry{Flags: ner.Title})
		}
		for _, c := range loc.City {
			addPlace(g, c, ner.City)
		}
		for _, c := range append(append(append([]string{}, loc.State...), loc.County...), loc.StateAbbr...) {
			addPlace(g, c, ner.Region)
		}
		for _, c := range loc.Country {
			addPlace(g, c, ner.Country)
			if k := strings.Index(c, " of "); k > 0 {
				addPlace(g, c[:k], ner.Country) // "United States of America" → "United States"
			}
		}
		for _, s := range loc.StreetSuffix {
			addWords(g, strings.TrimRight(s, "."), ner.Entry{Flags: ner.StreetType})
		}
		for _, s := range loc.StreetPrefix {
			addWords(g, strings.TrimRight(s, "."), ner.Entry{Flags: ner.StreetPre})
		}
		for _, s := range append(append([]string{}, loc.CompanyLegal...), loc.CompanySuffix...) {
			addWords(g, strings.TrimRight(s, "."), ner.Entry{Flags: ner.OrgSuffix})
		}
	}
	if err := addCensus(g, censusDir); err != nil {
		return nil, err
	}
	if err := addLibpostal(g, libpostalDir); err != nil {
		return nil, err
	}
	for _, c := range countryShortNames {
		addPlace(g, c, ner.Country)
	}
	for _, d := range demonyms {
		g.Set(d, ner.Entry{Flags: ner.Demonym})
	}
	for _, p := range strings.Fields("van von der den de del della di da du le la al el bin ibn ben dos das do mac st") {
		g.Set(p, ner.Entry{Flags: ner.Particle})
	}
	if err := markOrdinary(g, wordsPath, ambiguousPath); err != nil {
		return nil, err
	}
	for _, loc := range locales {
		for _, w := range loc.Words {
			for _, x := range strings.Fields(w) {
				if len([]rune(x)) >= 3 {
					g.Set(x, ner.Entry{Flags: ner.Ordinary})
				}
			}
		}
	}
	return g, nil
}

// addWords adds a name as a whole and word by word ("Anne-Marie", "Mary Ann").
func addWords(g *ner.Gazetteer, s string, e ner.Entry) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 48 {
		return
	}
	for _, w := range strings.Fields(s) {
		w = strings.Trim(w, ",()")
		if len([]rune(w)) >= 1 && strings.IndexFunc(w, unicode.IsLetter) >= 0 {
			g.Set(w, e)
		}
	}
}

// addPlace adds a place name; names of several words are kept whole as a
// phrase, and single-word names as words.
func addPlace(g *ner.Gazetteer, s string, flag uint16) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 48 {
		return
	}
	ws := strings.Fields(s)
	if len(ws) > 4 || strings.IndexFunc(s, unicode.IsLetter) < 0 {
		return
	}
	g.Set(strings.Join(ws, " "), ner.Entry{Flags: flag})
}

// addCensus reads the 1990 US Census name distributions (public domain):
// "NAME pct cumulative rank" per line.
func addCensus(g *ner.Gazetteer, dir string) error {
	for _, f := range []struct {
		file  string
		first bool
	}{{"dist.male.first", true}, {"dist.female.first", true}, {"dist.all.last", false}} {
		fh, err := os.Open(filepath.Join(dir, f.file))
		if err != nil {
			return fmt.Errorf("census: %w", err)
		}
		sc := bufio.NewScanner(fh)
		for sc.Scan() {
			fs := strings.Fields(sc.Text())
			if len(fs) < 2 {
				continue
			}
			pct, err := strconv.ParseFloat(fs[1], 64)
			if err != nil {
				continue
			}
			b := bucket(pct)
			if f.first {
				g.Set(fs[0], ner.Entry{First: b})
			} else {
				g.Set(fs[0], ner.Entry{Last: b})
			}
		}
		fh.Close()
		if err := sc.Err(); err != nil {
			return err
		}
	}
	return nil
}

// bucket maps a share in percent to a log-frequency bucket 2..7 (1 is
// kept for names known only from name lists without frequencies).
func bucket(pct float64) uint8 {
	if pct <= 0 {
		return 2
	}
	b := int(math.Floor(math.Log10(pct))) + 5 // 0.0001% → 1, 1% → 5
	return uint8(min(7, max(2, b)))
}

// addLibpostal reads libpostal's per-language dictionaries (MIT): street
// types, unit types, post office words, company types, personal titles.
func addLibpostal(g *ner.Gazetteer, dir string) error {
	langs, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("libpostal: %w", err)
	}
	for _, l := range langs {
		lang := l.Name()
		st := ner.StreetType
		if prefixLangs[lang] {
			st = ner.StreetPre
		}
		files := []struct {
			name  string
			flags uint16
		}{{"street_types.txt", st}, {"unit_types_numbered.txt", ner.Unit}, {"post_office.txt", ner.PostBox},
			{"company_types.txt", ner.OrgSuffix}, {"personal_titles.txt", ner.Title}}
		for _, f := range files {
			readDict(filepath.Join(dir, lang, f.name), func(alt string) {
				n := len([]rune(strings.TrimRight(alt, ".")))
				ascii := strings.IndexFunc(alt, func(r rune) bool { return r > unicode.MaxASCII }) < 0
				if n < 2 || n == 2 && ascii && !claimedLangs[lang] || strings.IndexFunc(alt, unicode.IsLetter) < 0 {
					return // one-letter abbreviations, and two-letter ones of other languages, match too much
				}
				if !strings.Contains(alt, " ") {
					g.Set(strings.TrimRight(alt, "."), ner.Entry{Flags: f.flags})
					if f.flags&(ner.StreetType|ner.StreetPre) != 0 && glueLangs[lang] && len([]rune(alt)) >= 3 {
						g.Set("-"+alt, ner.Entry{Flags: ner.StreetType})
					}
				}
			})
		}
		readDict(filepath.Join(dir, lang, "concatenated_suffixes_separable.txt"), func(alt string) {
			if !strings.Contains(alt, " ") && !strings.HasSuffix(alt, ".") && len([]rune(alt)) >= 3 {
				g.Set("-"+alt, ner.Entry{Flags: ner.StreetType})
			}
		})
	}
	return nil
}

func readDict(path string, add func(string)) {
	b, err := os.ReadFile(path)
	if err != nil {
		return // not every language has every dictionary
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		for alt := range strings.SplitSeq(line, "|") {
			if alt = strings.TrimSpace(alt); alt != "" {
				add(alt)
			}
		}
	}
}

// markOrdinary flags words that are ordinary lower-case words of the SCOWL
// list (wamerican), and the words of the hand-kept ambiguity list.
func markOrdinary(g *ner.Gazetteer, wordsPath, ambiguousPath string) error {
	for _, p := range []string{wordsPath, ambiguousPath} {
		b, err := os.ReadFile(p)
		if err != nil {
			return fmt.Errorf("word list: %w", err)
		}
		for w := range strings.SplitSeq(string(b), "\n") {
			w = strings.TrimSpace(w)
			if w == "" || strings.Contains(w, "'") {
				continue
			}
			if p == wordsPath && unicode.IsUpper([]rune(w)[0]) {
				continue // a proper noun of the list: no evidence of an ordinary word
			}
			g.Set(w, ner.Entry{Flags: ner.Ordinary})
		}
	}
	return nil
}
