package redact

import (
	_ "embed"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/custos-gateway/custos/redact/internal/ner"
)

var (
	//go:embed data/gazetteer.gz
	gazetteerGz []byte
	//go:embed data/model.gz
	modelGz []byte
)

var (
	nerOnce  sync.Once
	gazTable *ner.Gazetteer
	nerModel *ner.Model
	// glued holds the street types written as one word with the name
	// ("straße", "vej", "tie"), gluedMax the longest in bytes.
	glued    map[string]bool
	gluedMax int
)

// loadNER reads the embedded gazetteer and model once. They are built by
// redact/internal/build and checked by the tests: a failure here is a
// broken build, not a runtime condition.
func loadNER() (*ner.Gazetteer, *ner.Model) {
	nerOnce.Do(func() {
		g, err := ner.LoadGazetteer(gazetteerGz)
		if err != nil {
			panic("redact: embedded gazetteer: " + err.Error())
		}
		m, err := ner.LoadModel(modelGz)
		if err != nil {
			panic("redact: embedded model: " + err.Error())
		}
		gazTable, nerModel = g, m
		glued = map[string]bool{}
		for _, k := range g.WithPrefix("-") {
			glued[k[1:]] = true
			gluedMax = max(gluedMax, len(k)-1)
		}
	})
	return gazTable, nerModel
}

// minMargin is the tagger's margin over "no name" that a span needs, by
// tag: organizations need more evidence than people.
var minMargin = [ner.NumTags]float32{ner.PER: 3, ner.LOC: 3, ner.ORG: 4}

var nerTokPool = sync.Pool{New: func() any { b := make([]ner.Token, 0, 256); return &b }}

// names runs the tagger over the words and adds PERSON, LOCATION and
// ORGANIZATION findings.
func (st *scanState) names() {
	g, m := loadNER()
	tp := nerTokPool.Get().(*[]ner.Token)
	toks := (*tp)[:0]
	prev := 0
	for _, w := range st.words {
		toks = append(toks, ner.Token{Text: st.text[w.s:w.e], Before: st.text[prev:w.s]})
		prev = w.e
	}
	claimed := st.claimedBytes()
	sent := ner.NewSentence(g, toks)
	sent.Lookup = st.lookup
	spans := m.Tag(sent)
	german := len(spans) > 0 && st.germanText() // read by the filters of spans alone
	for _, sp := range spans {
		if sp.Margin < minMargin[sp.Tag] || claimed.any(st.words[sp.Start].s, st.words[sp.End-1].e) ||
			sp.Tag != ner.PER && st.ordinaryOnly(g, sp.Start, sp.End) ||
			sp.Tag != ner.PER && st.noPlaceOrOrg(g, sp.Start, sp.End, german) ||
			sp.Tag != ner.ORG && sp.End == sp.Start+1 && st.demonym(g, sp.Start) && !st.commonName(sp.Start) ||
			sp.Tag == ner.PER && sp.End == sp.Start+1 && !st.gaz(sp.Start).Name() && !st.nameCueBefore(sp.Start) &&
				(german || st.labelsNumber(sp.Start) || st.beforeArticle(sp.Start)) {
			// German capitalizes every noun, and a word that labels the
			// number after it ("Pedido 5502", "Ondansetron 4 mg") is a
			// noun: a lone unknown capitalized word there is no name.
			continue
		}
		t := Person
		switch sp.Tag {
		case ner.LOC:
			t = Location
		case ner.ORG:
			t = Organization
		}
		score := 0.6 + 0.39*float64(min(sp.Margin, 20))/20
		st.add(t, st.words[sp.Start].s, st.words[sp.End-1].e, score)
	}
	sent.Release()
	st.orgs(claimed)
	st.retypeNames(g)
	st.namesNotOrgs()
	st.places(g, claimed)
	st.groups(g, claimed)
	clear(toks) // the tokens point into the request's text
	*tp = toks[:0]
	nerTokPool.Put(tp)
}

// groups adds NRP findings: a nationality, religion or political group said
// of a person or of people ("she is Czech", "a Catholic patient", "we are
// proud Saudis", "Nationality: German"), not a language or an origin of
// things ("translate to German", "a Czech film").
func (st *scanState) groups(g *ner.Gazetteer, claimed bitset) {
	for k, w := range st.words {
		t := st.text[w.s:w.e]
		if w.flags&wDigit != 0 || len(t) < 3 {
			continue
		}
		if upperInitial(t) {
			if st.demonym(g, k) && !claimed.any(w.s, w.e) && st.aboutPerson(k) {
				st.add(NRP, w.s, w.e, 0.7)
			}
		} else if k > 0 && selfCueShape(st.text[st.words[k-1].s:st.words[k-1].e]) && st.saidOfSelf(k) &&
			st.demonym(g, k) && !claimed.any(w.s, w.e) {
			st.add(NRP, w.s, w.e, 0.7) // "i am cambodian"
		}
	}
}

// demonym: word k is a nationality, a people or a religion, singular or
// plural ("Saudis", "Catholics").
func (st *scanState) demonym(g *ner.Gazetteer, k int) bool {
	t := st.word(k)
	if g.MayName(t) && st.gaz(k).Has(ner.Demonym) || groupWord(t) {
		return true
	}
	if len(t) <= 4 || t[len(t)-1] != 's' {
		return false
	}
	t = t[:len(t)-1]
	return g.MayName(t) && g.Lookup(t).Has(ner.Demonym) || groupWord(t)
}

// groupWord: the ASCII word w, in any letter case, is one of groupWords.
func groupWord(w string) bool {
	if len(w) > 64 || hasHighByte(w) {
		return false
	}
	return groupWords.HasLower(w)
}

// groupWords are religious groups and spellings of peoples that the
// gazetteer's demonyms lack.
var groupWords = setOf("shia", "shiite", "shii", "sunni", "mormon", "evangelical", "anglican", "lutheran", "methodist",
	"baptist", "presbyterian", "quaker", "amish", "atheist", "agnostic", "ecuadorean", "belizean", "bruneian", "muslim",
	"jew", "christian", "catholic", "protestant", "hindu", "buddhist", "sikh")

var (
	nrpBefore = setOf("is", "am", "are", "was", "were", "nationality", "religion", "ethnicity", "citizenship", "faith",
		"party", "ist", "bin", "est", "es", "nacionalidad", "nationalité", "staatsangehörigkeit", "religión")
	nrpAfter = setOf("citizen", "citizens", "national", "nationals", "man", "woman", "men", "women", "boy", "girl",
		"patient", "customer", "client", "origin", "descent", "background", "family", "parents", "mother", "father",
		"wife", "husband", "immigrant", "immigrants", "community", "heritage", "ancestry", "nationality", "resident",
		"people", "minority", "refugee", "refugees", "couple", "child", "children", "student", "students", "worker",
		"workers", "soldier", "soldiers", "friend", "friends", "neighbor", "neighbour", "grandmother", "grandfather",
		"teenager", "priest", "nun", "believers", "congregation", "voters", "diaspora", "population")
)

// aboutPerson: word k is said of a person: "is Czech", "a Catholic
// patient", "are proud Saudis".
func (st *scanState) aboutPerson(k int) bool {
	prev := ""
	if k > 0 {
		prev = lower(st.word(k - 1))
		if (prev == "a" || prev == "an" || prev == "proud" || prev == "devout" || prev == "practising" ||
			prev == "practicing") && k > 1 {
			prev = lower(st.word(k - 2))
			if (prev == "a" || prev == "an") && k > 2 {
				prev = lower(st.word(k - 3))
			}
		}
	}
	next := ""
	if k+1 < len(st.words) {
		next = lower(st.word(k + 1))
	}
	return nrpBefore.Has(prev) || nrpAfter.Has(next)
}

// saidOfSelf: a lower-case word k after "I am", "we are", "he is" ("i am
// cambodian", "we are proud saudis").
func (st *scanState) saidOfSelf(k int) bool {
	j := k - 1
	v := st.word(j)
	if len(v) == 0 || len(v) > 7 || !beFirst[v[0]] {
		return false // no word of the forms below starts otherwise
	}
	switch {
	case len(v) <= 2 && isAnyFold(v, "a", "an"), len(v) >= 5 && isAnyFold(v, "proud", "devout"):
		j--
		v = st.word(j)
	}
	if strings.IndexByte(v, '\'') >= 0 || strings.Contains(v, "’") {
		return isAnyFold(v, "i'm", "we're", "he's", "she's", "they're")
	}
	return isAnyFold(v, "is", "am", "are", "was", "were") && isAnyFold(st.word(j-1), "i", "he", "she", "they", "we", "you")
}

// selfCueShape: v has the length and first letter of a word saidOfSelf
// looks for before a nationality (a cheap test for every word).
func selfCueShape(v string) bool {
	if len(v) == 0 || len(v) > 7 {
		return false
	}
	c := v[0] | 0x20
	switch len(v) {
	case 1:
		return c == 'a'
	case 2:
		return c == 'a' || c == 'i'
	case 3:
		return c == 'a' || c == 'w' || c == 'i'
	case 4:
		return c == 'w' || c == 'h'
	case 5:
		return c == 'p' || c == 'w' || c == 's'
	case 6:
		return c == 'd'
	}
	return c == 't'
}

// beFirst holds the first letters of "a", "an", "proud", "devout", "is",
// "am", "are", "was", "were" and the contractions "i'm", "we're", "he's",
// "she's", "they're".
var beFirst = func() (t [256]bool) {
	for _, c := range "apdiwhstAPDIWHST" {
		t[c] = true
	}
	return t
}()

// isAnyFold: w is one of the words (lower-case ASCII), in any letter case.
// A word of a word's length that folds to it is ASCII too, so bytes are
// compared.
func isAnyFold(w string, words ...string) bool {
	for _, x := range words {
		if len(w) == len(x) && equalFoldASCII(w, x) {
			return true
		}
	}
	return false
}

// equalFoldASCII: w with its ASCII capitals lower-cased is x.
func equalFoldASCII(w, x string) bool {
	for i := 0; i < len(w); i++ {
		c := w[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != x[i] {
			return false
		}
	}
	return true
}

// bitset marks bytes of the text.
type bitset []uint64

func (b bitset) any(s, e int) bool {
	for p := s; p < e; p++ {
		if p/64 < len(b) && b[p/64]&(1<<(p%64)) != 0 {
			return true
		}
	}
	return false
}

// claimedBytes marks the bytes of identifiers found by other detectors: a
// checksum or a labeled number is stronger evidence than a name.
func (st *scanState) claimedBytes() bitset {
	var b bitset
	for _, f := range st.out {
		if f.Type == Person || f.Type == Location || f.Type == Organization {
			continue
		}
		if b == nil {
			b = make(bitset, len(st.text)/64+1)
		}
		for p := f.Start; p < f.End; p++ {
			b[p/64] |= 1 << (p % 64)
		}
	}
	return b
}

// ordinaryOnly: every word of [a, b) is an ordinary word or a single
// letter, and none is a known place or an organization's form ("Conference
// Room B"): capitalization alone makes no place or company.
func (st *scanState) ordinaryOnly(g *ner.Gazetteer, a, b int) bool {
	for k := a; k < b; k++ {
		w := st.text[st.words[k].s:st.words[k].e]
		if utf8.RuneCountInString(w) <= 1 {
			continue
		}
		e := g.Lookup(w)
		if e.Flags&(ner.City|ner.Country|ner.Region|ner.OrgSuffix) != 0 || e.Flags&ner.Ordinary == 0 || ner.OrgHead(lower(w)) {
			return false
		}
	}
	return true
}

// commonName: word k is a given name or surname of some frequency (a
// demonym that is also a rare surname, such as German, is no name).
func (st *scanState) commonName(k int) bool {
	e := st.gaz(k)
	return e.First > 2 || e.Last > 2
}

// noPlaceOrOrg: a one-word place or organization of the tagger that is no
// name: a company's head word alone ("Department", "Insurance"), an acronym
// that labels the number after it ("DEA MO5486421", "IP 10.0.0.1"), or a
// lower-case word the gazetteer knows as no place, a word of German text
// (whose nouns are capitalized) that is no known place.
func (st *scanState) noPlaceOrOrg(g *ner.Gazetteer, a, b int, german bool) bool {
	if b != a+1 {
		return false
	}
	w := st.word(a)
	lw := lower(w)
	switch {
	case orgHeadWords.Has(lw) || legalForms.Has(lw) || ner.OrgHead(lw) || st.gaz(a).Flags&ner.Title != 0:
		return true
	case allUpperASCII(w) && len(w) <= 4 && a+1 < len(st.words) && st.words[a+1].flags&wDigit != 0 &&
		(st.gap(a+1) == " " || st.gap(a+1) == ": "):
		return true
	case german && st.gaz(a).Flags&(ner.City|ner.Country|ner.Region) == 0 && !st.gaz(a).Name():
		return true
	case !upperInitial(w):
		// a lower-case place needs the gazetteer and a word that leads to places
		return g.Lookup(w).Flags&(ner.City|ner.Country|ner.Region) == 0 || a == 0 || !lowerPlaceCues.HasLower(st.word(a-1))
	}
	return false
}

var lowerPlaceCues = setOf("in", "at", "from", "to", "near", "of", "visit", "visiting", "moved", "lives", "born", "via",
	"nach", "aus", "in", "à", "en", "de", "desde", "da", "di", "a")

// mergePersons joins two PERSON findings that stand next to each other with
// only a space or an initial between ("Halldór" "Árnþórsson", "emidio" p
// "lombardo"): one person, one finding.
func mergePersons(text string, fs []Finding) []Finding {
	out := fs[:0]
	for _, f := range fs {
		if n := len(out); n > 0 && f.Type == Person && out[n-1].Type == Person && initialGap(text[out[n-1].End:f.Start]) {
			out[n-1].End = f.End
			out[n-1].Score = max(out[n-1].Score, f.Score)
			continue
		}
		out = append(out, f)
	}
	return out
}

// initialGap: " ", ". ", " Q ", " Q. ", " q ".
func initialGap(g string) bool {
	switch {
	case g == " " || g == ". ":
		return true
	case len(g) == 3 && g[0] == ' ' && g[2] == ' ' && (isUpper(g[1]) || isLower(g[1])):
		return true
	case len(g) == 4 && g[0] == ' ' && g[2] == '.' && g[3] == ' ' && (isUpper(g[1]) || isLower(g[1])):
		return true
	}
	return false
}

// retypeNames turns a LOCATION or ORGANIZATION of the tagger into a PERSON
// when every one of its words is part of a PERSON found elsewhere in the
// text, or when it starts with a known given name and holds no known place
// or company word: the tagger confuses unfamiliar names with places.
func (st *scanState) retypeNames(g *ner.Gazetteer) {
	var people map[string]bool
	for _, f := range st.out {
		if f.Type == Person {
			if people == nil {
				people = map[string]bool{}
			}
			for _, w := range strings.Fields(st.text[f.Start:f.End]) {
				people[bareLower(w)] = true
			}
		}
	}
	for i := range st.out {
		f := &st.out[i]
		if f.Type != Location && f.Type != Organization || f.Score >= 0.95 {
			continue
		}
		ws := strings.Fields(st.text[f.Start:f.End])
		all, place := len(ws) > 0, false
		for _, w := range ws {
			e := g.Lookup(strings.Trim(w, ".,'"))
			if e.Flags&(ner.City|ner.Country|ner.Region|ner.OrgSuffix) != 0 || ner.OrgHead(lower(w)) {
				place = true
			}
			if !people[bareLower(w)] {
				all = false
			}
		}
		first := g.Lookup(strings.Trim(ws[0], ".,'"))
		if all || !place && first.First >= 3 && first.Flags&ner.Ordinary == 0 {
			f.Type = Person
		}
	}
}

var germanWords = setOf("der", "die", "das", "und", "ist", "nicht", "mit", "für", "wurde", "werden", "bitte", "sie", "ich",
	"wir", "ein", "eine", "einen", "dem", "den", "des", "auf", "bei", "nach", "von", "zu", "im", "am", "sich", "auch", "oder")

// germanText reports whether the text reads as German: a tenth of its
// words or more are German function words.
func (st *scanState) germanText() bool {
	n, seen := 0, 0
	for k := range st.words {
		w := st.word(k)
		if seen++; seen > 400 {
			break // a sample of the text's words is enough to tell
		}
		if len(w) >= 2 && len(w) <= 6 && (w[0]|0x20 == 'd' || w[0]|0x20 == 'u' || w[0]|0x20 == 'i' || w[0]|0x20 == 's' ||
			w[0]|0x20 == 'm' || w[0]|0x20 == 'f' || w[0]|0x20 == 'w' || w[0]|0x20 == 'n' || w[0]|0x20 == 'a' ||
			w[0]|0x20 == 'b' || w[0]|0x20 == 'v' || w[0]|0x20 == 'z' || w[0]|0x20 == 'e' || w[0]|0x20 == 'o') && germanWords.HasLower(w) {
			n++
		}
	}
	return n >= 2 && n*10 >= min(seen, len(st.words))
}

// labelsNumber: word k starts a sentence or line and a number or an
// identifier follows it.
func (st *scanState) labelsNumber(k int) bool {
	if k+1 >= len(st.words) || st.words[k+1].flags&wDigit == 0 || !sentenceStart(st.text, st.words[k].s) {
		return false
	}
	g := st.gap(k + 1)
	return g == " " || g == ": " || g == " #"
}

// articles and prepositions that follow a sentence's first word when that
// word is a noun or a participle ("Hospitalisée le 3 mars", "Ingreso el").
var articlesAfter = setOf("le", "la", "les", "el", "los", "las", "du", "des", "del", "au", "aux", "wegen", "zur", "zum", "der")

// beforeArticle: word k starts a sentence and an article follows it.
func (st *scanState) beforeArticle(k int) bool {
	return k+1 < len(st.words) && st.plain(k+1) && articlesAfter.Has(st.word(k+1)) && sentenceStart(st.text, st.words[k].s)
}

// nameCueBefore: a title or a name label right before word k.
func (st *scanState) nameCueBefore(k int) bool {
	if k == 0 {
		return false
	}
	p := lower(strings.TrimRight(st.word(k-1), "."))
	return nameTitles.Has(p) || gazTable.IsTitle(p) || st.labelBefore(st.words[k].s)
}

// places adds the countries and the places of several words the gazetteer
// knows ("United States", "Czech Republic", "New Zealand"), capitalized as
// written, whatever the tagger said.
func (st *scanState) places(g *ner.Gazetteer, claimed bitset) {
	for k := 0; k < len(st.words); k++ {
		w := st.word(k)
		if !upperInitial(w) || st.words[k].flags&wDigit != 0 {
			continue
		}
		for n := 4; n >= 1; n-- {
			if k+n > len(st.words) {
				continue
			}
			plain := true
			for j := k + 1; j < k+n; j++ {
				if st.gap(j) != " " {
					plain = false
				}
			}
			if !plain {
				continue
			}
			phrase := st.text[st.words[k].s:st.words[k+n-1].e]
			if len(phrase) > 48 || n > 1 && !g.MayName(phrase) {
				continue
			}
			var e ner.Entry
			if n == 1 && w[len(w)-1] != '.' {
				e = st.gaz(k) // the same lookup, made once
			} else {
				e = g.Lookup(phrase)
			}
			place := n > 1 && e.Flags&(ner.City|ner.Country|ner.Region) != 0 ||
				n == 1 && e.Flags&ner.Country != 0 && e.Flags&ner.Ordinary == 0 && !e.Name() && !allUpperASCII(w)
			if place && !claimed.any(st.words[k].s, st.words[k+n-1].e) {
				st.add(Location, st.words[k].s, st.words[k+n-1].e, 0.85)
				k += n - 1
				break
			}
		}
	}
}
