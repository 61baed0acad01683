package redact

import (
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/custos-gateway/custos/redact/internal/ner"
)

// Organizations whose name shows what they are, whatever the tagger says:
//
//	name+ LEGAL                    Quorvane Systems Inc., Velmora GmbH, Castellane S.A.
//	name (, name)* (&|and) name+   Brindle & Voss, Pemberton, Ashdown and Keele
//	name+ HEAD | HEAD of name+     Riverbend Family Clinic, University of Tallinn
//	CUE name+                      works at Tarnwell Logistics, insured by Halcyon
//	my EMPLOYER, name+,            my employer, TRAVELLO, pays
//
// A name word is capitalized (or written in capitals) and is no function
// word; a head word needs a distinctive word beside it (a word no
// dictionary lists, a surname, a place), so "Emergency Department" stays
// a phrase. A run that reads as a person (a given name and a surname, or a
// title before it) is left to the name rules.

// legalForms are the legal forms of companies, lower-case, without their
// final dot.
var legalForms = setOf("inc", "incorporated", "corp", "corporation", "llc", "l.l.c", "llp", "lp", "ltd", "limited", "plc",
	"co", "gmbh", "ag", "kg", "ohg", "ug", "se", "s.a", "sa", "s.l", "sl", "s.p.a", "spa", "s.r.l", "srl", "sarl", "sas",
	"b.v", "bv", "n.v", "nv", "oy", "oyj", "ab", "a/s", "as", "asa", "aps", "pty", "s.a.s", "ltda", "s.c", "k.k", "kk",
	"pte", "bhd", "sdn", "a.s", "s.r.o", "sp", "z.o.o", "kft", "zrt", "d.o.o", "e.v", "ev", "gbr", "advokatbyrå")

// shortForms are legal forms that are ordinary words or initials too: they
// count only right after a name word written with a capital.
var shortForms = setOf("sa", "sl", "se", "as", "ab", "ag", "kg", "co", "lp", "sp", "ev", "kk", "nv", "bv", "ug")

// orgHeadWords end the names of institutions and firms.
var orgHeadWords = setOf("hospital", "hospitals", "clinic", "clinics", "bank", "university", "college", "foundation",
	"association", "institute", "trust", "group", "holdings", "partners", "associates", "laboratories", "labs",
	"systems", "technologies", "solutions", "insurance", "capital", "logistics", "analytics", "consulting",
	"pharmaceuticals", "pharma", "biotech", "therapeutics", "telecom", "communications", "energy", "media", "motors",
	"airlines", "industries", "enterprises", "ventures", "investments", "securities", "financial", "savings",
	"healthcare", "pediatrics", "dental", "imaging", "studios", "foods", "academy", "society", "agency", "company",
	"union", "bancorp", "realty", "software", "networks", "pharmacy", "infirmary", "hospice", "ministries",
	"centre", "center", "health", "medical", "surgery", "practice", "gruppe", "klinik", "krankenhaus", "bancaria",
	"banque", "banco", "clinique", "hôpital", "hospital", "universität", "université", "universidad", "università")

// weakHeads head a name only after two words or more ("Westfield Imaging
// Center", not "Center" or "Health" after one word that may be a place).
var weakHeads = setOf("centre", "center", "health", "medical", "surgery", "practice", "union", "media", "energy",
	"capital", "financial", "savings", "dental", "imaging")

// ofHeads name an institution before "of" ("University of Tallinn", "Bank
// of Kessington").
var ofHeads = setOf("university", "bank", "college", "institute", "ministry", "department", "hospital", "academy",
	"society", "association", "school", "church", "museum", "federation", "council", "commission", "board",
	"universität", "université", "universidad", "università", "banco", "banque")

// orgCues are the words before an organization's name.
var orgCues = []string{"work at", "work for", "works at", "works for", "worked at", "worked for", "working at",
	"working for", "employed by", "employed at", "job at", "intern at", "interns at", "interned at", "contractor for",
	"consultant for", "account with", "account at", "accounts with", "bank with", "banks with", "banking with",
	"insured by", "insured with", "insured through", "coverage through", "policy with", "customer of", "client of",
	"subsidiary of", "acquired by", "shares of", "stake in", "invested in", "joined", "arbeite bei", "arbeitet bei",
	"travaille chez", "trabajo en", "trabaja en", "versichert bei", "kunde bei", "client chez"}

// orgCueEnds are the last words of the cues.
var orgCueEnds = func() map[string]bool {
	m := map[string]bool{}
	for _, c := range orgCues {
		m[c[strings.LastIndexByte(c, ' ')+1:]] = true
	}
	return m
}()

// orgNouns, after "my", "our", "the", name the role of an organization
// whose name follows after a comma.
var orgNouns = setOf("employer", "bank", "insurer", "insurance", "company", "firm", "provider", "carrier", "lender",
	"broker", "supplier", "vendor", "pharmacy", "clinic", "hospital", "practice", "agency", "school", "university",
	"landlord", "airline", "client", "customer", "partner", "subsidiary", "startup", "studio", "charity")

// orgStop: capitalized words that begin a sentence or a clause and are no
// part of a name.
var orgStop = setOf("the", "a", "an", "our", "my", "your", "their", "his", "her", "its", "this", "that", "these", "those",
	"at", "for", "from", "with", "by", "to", "of", "in", "on", "and", "or", "but", "if", "when", "please", "thanks",
	"contact", "call", "ask", "email", "dear", "hi", "hello", "regards", "shares", "mr", "mrs", "ms", "dr", "der", "die",
	"das", "le", "la", "el", "il", "los", "las", "les", "i", "we", "you", "he", "she", "they", "it")

// orgWord: word k may be part of an organization's name.
func (st *scanState) orgWord(k int) bool {
	if k < 0 || k >= len(st.words) {
		return false
	}
	w := st.word(k)
	r, _ := utf8.DecodeRuneInString(w)
	if !unicode.IsUpper(r) && !unicode.IsDigit(r) {
		return false
	}
	var buf [64]byte
	lw := lowerWindow(&buf, strings.TrimRight(w, "."))
	switch {
	case orgStop.Has(lw):
		return false
	case unicode.IsDigit(r):
		return k > 0 && st.orgWord(k-1) && len(w) <= 4 // "Studio 54", "Route 66 Diner"
	case orgHeadWords.Has(lw) || !sentenceStart(st.text, st.words[k].s):
		return true
	}
	// A sentence's first word: "Contact", "Thanks", "Please" are no names.
	g := st.gaz(k)
	return g.Flags&ner.Ordinary == 0 || g.Name() || g.Flags&(ner.City|ner.Country|ner.Region) != 0
}

// distinctive: word k is no ordinary word (a name, a place, a coinage).
func (st *scanState) distinctive(k int) bool {
	return st.gaz(k).Flags&ner.Ordinary == 0
}

// runLeft returns the first word of the run of name words that ends at
// word k (inclusive), at most n words, joined by plain spaces.
func (st *scanState) runLeft(k, n int) int {
	s := k
	for s > 0 && k-s+1 < n && st.plain(s) && st.orgWord(s-1) {
		s--
	}
	return s
}

// runRight returns the last word of the run of name words that starts at
// word k, at most n words.
func (st *scanState) runRight(k, n int) int {
	e := k
	for e+1 < len(st.words) && e-k+1 < n && st.plain(e+1) && st.orgWord(e+1) {
		e++
	}
	return e
}

// legalForm: word k is a company's legal form after a name word.
func (st *scanState) legalForm(k int) bool {
	if k == 0 || len(st.word(k)) > 12 || !st.plain(k) && st.gap(k) != ", " || !st.orgWord(k-1) {
		return false
	}
	var buf [64]byte
	lw := lowerWindow(&buf, strings.TrimRight(st.word(k), "."))
	if !legalForms.Has(lw) {
		return false
	}
	if shortForms.Has(lw) {
		w := st.word(k)
		return st.gap(k) == " " && (isUpper(w[0]) && (len(w) == 2 || w[1] == '.' || isLower(w[1]))) && upperInitial(st.word(k-1))
	}
	return true
}

// orgs adds the organizations of the forms above, replacing what the
// tagger or the name rules said of their words.
func (st *scanState) orgs(claimed bitset) {
	for k := 0; k < len(st.words); k++ {
		s, e := st.orgAt(k)
		if e < s {
			continue
		}
		for e+1 < len(st.words) && st.plain(e+1) && (st.legalForm(e+1) || orgHeadWords.HasLower(st.word(e+1))) {
			e++
		}
		a, b := st.words[s].s, st.words[e].e
		if w := st.word(e); strings.HasSuffix(w, "'s") || strings.HasSuffix(w, "’s") {
			b -= len(w) - len(strings.TrimSuffix(strings.TrimSuffix(w, "'s"), "’s")) // "Quillon Biotech's trial"
		}
		if b < len(st.text) && st.text[b] == '.' && legalForms.HasLower(st.word(e)) && strings.ContainsAny(st.word(e), ".") ||
			b < len(st.text) && st.text[b] == '.' && (legalForms.HasLower(st.word(e)) && !sentenceEnd(st.text, b)) {
			b++ // "Inc.", "S.A."
		}
		if claimed.any(a, b) || st.quiet.any(a, b) || st.titledAt(s) {
			k = e
			continue
		}
		st.replaceNames(a, b)
		st.add(Organization, a, b, 0.95)
		k = e
	}
}

// titledAt: a personal title stands right before word k ("Dr. Brindle &
// Voss" are two doctors).
func (st *scanState) titledAt(k int) bool {
	if k == 0 {
		return false
	}
	p := lower(strings.TrimRight(st.word(k-1), "."))
	return nameTitles.Has(p) || gazTable.IsTitle(p)
}

// sentenceEnd: the dot at b ends a sentence (a capital or the end follows).
func sentenceEnd(text string, b int) bool {
	k := b + 1
	for k < len(text) && text[k] == ' ' {
		k++
	}
	return k >= len(text) || k > b+1 && isUpper(text[k])
}

// replaceNames drops the names, places and organizations found over
// [a, b): one organization stands there now.
func (st *scanState) replaceNames(a, b int) {
	out := st.out[:0]
	for _, f := range st.out {
		if (f.Type == Person || f.Type == Location || f.Type == Organization) && f.Start < b && a < f.End {
			continue
		}
		out = append(out, f)
	}
	st.out = out
}

// orgAt returns the first and last word of an organization anchored at
// word k (its legal form, its head word, the '&' or 'and' of a firm's name,
// or its first word after a cue), or e < s.
func (st *scanState) orgAt(k int) (s, e int) {
	w := st.word(k)
	if c := w[0]; c >= 'a' && c <= 'z' && w != "and" && (len(w) > 5 || !legalForms.Has(strings.TrimRight(w, "."))) || c >= '0' && c <= '9' {
		return 0, -1 // every anchor but "and" and a legal form ("plc") is capitalized
	}
	var buf [64]byte
	lw := lowerWindow(&buf, strings.TrimSuffix(strings.TrimSuffix(w, "'s"), "’s"))
	switch {
	case st.legalForm(k):
		return st.firmStart(k - 1), k
	case w == "&" || lw == "and" && k > 1 && st.gap(k-1) == ", ":
		return st.firmAround(k)
	case ofHeads.Has(lw) && upperInitial(w) && lower(st.word(k+1)) == "of" && st.plain(k+1):
		return st.ofName(k)
	case orgHeadWords.Has(lw) && upperInitial(w) && k > 0 && st.plain(k) && st.orgWord(k-1):
		s := st.runLeft(k-1, 4)
		if weakHeads.Has(lw) && k-s < 2 {
			return 0, -1
		}
		if k-s >= 3 || k-s == 2 && !sentenceStart(st.text, st.words[s].s) {
			return s, k // "Alder Creek Credit Union": several capitalized words
		}
		for j := s; j < k; j++ {
			if st.distinctive(j) && !orgHeadWords.HasLower(st.word(j)) {
				return s, k
			}
		}
	case st.orgWord(k) && (st.orgCueBefore(k) || st.orgAppositive(k)):
		e := st.runRight(k, 4)
		if st.personLike(k, e) {
			return 0, -1
		}
		return k, e
	}
	return 0, -1
}

// firmStart: the first word of a firm's name ending at word j, over a list
// of names joined by commas and '&' ("Whitcombe, Farrant & Lowe").
func (st *scanState) firmStart(j int) int {
	s := st.runLeft(j, 4)
	for s > 1 && st.word(s-1) == "&" && st.orgWord(s-2) {
		s = st.runLeft(s-2, 3)
		for s > 0 && st.gap(s) == ", " && st.orgWord(s-1) {
			s--
		}
	}
	return s
}

// firmAround reads a firm named after its partners around the '&' or the
// 'and' at word k: "Brindle & Voss", "Pemberton, Ashdown and Keele".
func (st *scanState) firmAround(k int) (int, int) {
	if k == 0 || k+1 >= len(st.words) || !st.plain(k) || !st.plain(k+1) || !st.orgWord(k-1) || !st.orgWord(k+1) {
		return 0, -1
	}
	e := st.runRight(k+1, 4)
	if st.word(k) == "&" {
		s := st.runLeft(k-1, 3)
		for s > 0 && st.gap(s) == ", " && st.orgWord(s-1) {
			s--
		}
		if st.partners(s, k-1) && st.partners(k+1, e) {
			return s, e
		}
		return 0, -1
	}
	// "and": single names only, two or more before it, each after a comma.
	s := k - 1
	for s > 0 && st.gap(s) == ", " && st.orgWord(s-1) {
		s--
	}
	// A list of surnames is people ("founders: Oduya, Krantz and Bellweather")
	// unless a company's form ends it or a cue such as "works at" leads to it.
	if k-s < 2 || !st.legalForm(e) && !orgHeadWords.HasLower(st.word(e)) && !st.orgCueBefore(s) {
		return 0, -1
	}
	for j := s; j < k; j++ {
		if !st.plain(j) && j > s && st.gap(j) != ", " {
			return 0, -1
		}
	}
	if !st.partners(s, k-1) || !st.partners(k+1, k+1) {
		return 0, -1
	}
	return s, e
}

// partners: the words [s, e] may be the partners' names of a firm: none
// is a given name only or a known place, and none starts a sentence as an
// ordinary word.
func (st *scanState) partners(s, e int) bool {
	for j := s; j <= e; j++ {
		g := st.gaz(j)
		if g.First > 0 && g.Last == 0 || g.Flags&(ner.City|ner.Country) != 0 && g.Last == 0 || !st.orgWord(j) {
			return false
		}
	}
	return true
}

// ofName reads "University of Tallinn", "Royal Bank of Kessington".
func (st *scanState) ofName(k int) (int, int) {
	n := k + 2
	if lower(st.word(n)) == "the" && st.plain(n) {
		n++
	}
	if n >= len(st.words) || !st.plain(n) || !st.orgWord(n) {
		return 0, -1
	}
	e := st.runRight(n, 3)
	for j := n; j <= e; j++ {
		if !st.distinctive(j) {
			return 0, -1
		}
	}
	s := k
	if k > 0 && st.plain(k) && st.orgWord(k-1) {
		s = st.runLeft(k-1, 2)
	}
	return s, e
}

// orgCueBefore: a cue such as "works at" or "insured by" stands right
// before word k (or before "the" and word k).
func (st *scanState) orgCueBefore(k int) bool {
	var wb [64]byte
	p := lowerWindow(&wb, st.word(k-1))
	if p == "the" {
		p = lowerWindow(&wb, st.word(k-2))
	}
	if !orgCueEnds[p] {
		return false // every cue ends in one of these words
	}
	var buf [64]byte
	b := lowerWindow(&buf, st.text[max(0, st.words[k].s-28):st.words[k].s])
	b = strings.TrimSuffix(strings.TrimRight(b, " "), " the")
	for _, c := range orgCues {
		if strings.HasSuffix(b, c) && (len(b) == len(c) || !isLower(b[len(b)-len(c)-1])) {
			return true
		}
	}
	return false
}

// orgAppositive: "my employer, TRAVELLO," or "our bank, HBK,".
func (st *scanState) orgAppositive(k int) bool {
	if k < 2 || st.gap(k) != ", " || !orgNouns.HasLower(st.word(k-1)) || !st.plain(k-1) {
		return false
	}
	switch lower(st.word(k - 2)) {
	case "my", "our", "the", "your", "his", "her", "their":
	default:
		return false
	}
	e := st.runRight(k, 4)
	return st.words[e].e >= len(st.text) || strings.IndexByte(",.;", st.text[st.words[e].e]) >= 0
}

// personLike: the words [s, e] read as a person's name: a known given name
// first, a surname last, no company word among them.
func (st *scanState) personLike(s, e int) bool {
	for j := s; j <= e; j++ {
		if lw := lower(st.word(j)); orgHeadWords.Has(lw) || legalForms.Has(lw) {
			return false
		}
	}
	g := st.gaz(s)
	if e == s {
		return g.First >= 3 && g.Last == 0 || g.Flags&(ner.City|ner.Country|ner.Region) != 0 && !g.Name()
	}
	return g.First > 0 && g.Flags&ner.Ordinary == 0 && st.gaz(e).Name()
}

// namesNotOrgs turns an organization of the tagger into a PERSON when
// nothing but the tagger says it is one and its words are known given
// names or surnames ("says Thorsby", "with Abernathy, Quist"): an
// organization is allowed where a person is hidden, so the doubt goes to
// the person.
func (st *scanState) namesNotOrgs() {
	for i := range st.out {
		f := &st.out[i]
		if f.Type != Organization || f.Score >= 0.95 {
			continue
		}
		a := sort.Search(len(st.words), func(k int) bool { return st.words[k].s >= f.Start })
		if a >= len(st.words) || st.words[a].s != f.Start || st.orgCueBefore(a) || st.orgAppositive(a) {
			continue
		}
		names := true
		for k := a; k < len(st.words) && st.words[k].e <= f.End; k++ {
			w, g := st.word(k), st.gaz(k)
			lw := lower(strings.TrimSuffix(strings.TrimSuffix(w, "'s"), "’s"))
			if !g.Name() || g.Flags&(ner.City|ner.Country|ner.Region) != 0 || orgHeadWords.Has(lw) || legalForms.Has(lw) ||
				ner.OrgHead(lw) || allUpperASCII(w) || w == "&" {
				names = false
				break
			}
		}
		if names {
			f.Type = Person
		}
	}
}
