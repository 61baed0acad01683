package redact

import (
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/custos-gateway/custos/redact/internal/ner"
)

// Addresses are read by a small grammar over words, with the street types,
// unit designators and post-box words of libpostal's dictionaries for every
// language it covers (see the gazetteer):
//
//	street  = num? name* TYPE num? | num TYPE_PRE name+ | TYPE_PRE name+ num? | name* GLUED num | POBOX num
//	unit    = UNIT id | "#" id
//	tail    = postcode city | city [region] [postcode] | region | country     (same line after a comma, or next lines)
//
// The street and its unit are one ADDRESS; a postcode in the tail is a
// POSTAL_CODE and the city, region or country a LOCATION.

// gaz returns the gazetteer entry of word k, looked up once per scan.
func (st *scanState) gaz(k int) ner.Entry {
	if k < 0 || k >= len(st.words) {
		return ner.Entry{}
	}
	if st.ents == nil {
		st.entsBuf = entsPool.Get().(*[]gazEnt)
		if cap(*st.entsBuf) < len(st.words) {
			*st.entsBuf = make([]gazEnt, len(st.words))
		}
		st.ents = (*st.entsBuf)[:len(st.words)]
	}
	if !st.ents[k].ok {
		w := st.word(k)
		for len(w) > 1 && w[len(w)-1] == '.' {
			w = w[:len(w)-1]
		}
		st.ents[k] = gazEnt{e: gazTable.Lookup(w), ok: true}
	}
	return st.ents[k].e
}

// entsPool holds cleared gazetteer caches for reuse.
var entsPool = sync.Pool{New: func() any { return new([]gazEnt) }}

// releaseEnts returns the scan's gazetteer cache, cleared, to the pool.
func (st *scanState) releaseEnts() {
	if st.entsBuf != nil {
		clear(st.ents)
		*st.entsBuf = st.ents[:0]
		entsPool.Put(st.entsBuf)
		st.ents, st.entsBuf = nil, nil
	}
}

type gazEnt struct {
	e  ner.Entry
	ok bool
}

func (st *scanState) word(k int) string {
	if k < 0 || k >= len(st.words) {
		return ""
	}
	return st.text[st.words[k].s:st.words[k].e]
}

// gap is the text between word k-1 and word k.
func (st *scanState) gap(k int) string {
	if k <= 0 || k >= len(st.words) {
		return ""
	}
	return st.text[st.words[k-1].e:st.words[k].s]
}

// sameLine: word k follows word k-1 on the same line, with at most a
// comma or a dot between.
func (st *scanState) sameLine(k int) bool {
	g := st.gap(k)
	return len(g) <= 4 && !strings.ContainsAny(g, "\n;|()[]{}<>\"")
}

// plain: only spaces stand between word k-1 and word k, or the dot of an
// abbreviation ("St. John Street").
func (st *scanState) plain(k int) bool {
	g := st.gap(k)
	if g == ". " {
		p := st.word(k - 1)
		return len(p) <= 3 && upperInitial(p)
	}
	return len(g) > 0 && len(g) <= 3 && strings.Trim(g, " \t") == ""
}

// houseNumber: 12, 221B, 12-14, 3/5, 12a.
func houseNumber(w string) bool {
	if len(w) == 0 || len(w) > 7 || !isDigit(w[0]) {
		return false
	}
	letters := 0
	for i := 0; i < len(w); i++ {
		c := w[i]
		switch {
		case isDigit(c):
		case (isUpper(c) || isLower(c)) && i == len(w)-1:
			letters++
		case (c == '-' || c == '/') && i > 0 && i < len(w)-1:
		default:
			return false
		}
	}
	return letters <= 1
}

// streetNameWord: a word that can be part of a street's name.
func streetNameWord(w string) bool {
	r, _ := utf8.DecodeRuneInString(w)
	if !unicode.IsLetter(r) {
		return isDigit(w[0]) && len(w) <= 4 && !houseNumber(w) // "5th", "42nd"
	}
	for _, r := range w {
		if !unicode.IsLetter(r) && r != '-' && r != '\'' && r != '.' && r != '’' {
			return false
		}
	}
	if len(w) <= 4 && pronouns.HasLower(w) || contraction(w) {
		return false // "I'll turn 47", "We Walk 5"
	}
	return unicode.IsUpper(r) || particle(w) || utf8.RuneCountInString(w) >= 3
}

var pronouns = setOf("i", "you", "he", "she", "it", "we", "they", "me", "him", "her", "us", "them")

// contraction: a pronoun or verb with a clitic (I'll, we're, don't).
func contraction(w string) bool {
	k := strings.LastIndexByte(w, '\'')
	if k < 0 {
		k = strings.LastIndex(w, "’")
	}
	if k <= 0 {
		return false
	}
	switch lower(strings.TrimLeft(w[k:], "'’")) {
	case "ll", "m", "re", "ve", "d", "t":
		return true
	}
	return false
}

// gluedStreet: a word ending in a street type written as one word with the
// name (Hauptstraße, Strandvej, Puruntie, Kalverstraat).
func gluedStreet(w string) bool {
	for len(w) > 0 && w[len(w)-1] == '.' {
		w = w[:len(w)-1]
	}
	if len(w) < 5 {
		return false
	}
	lw := lower(w)
	// At least two letters of name before the type.
	first := runeOffset(lw, 0, 2)
	if first < 0 {
		return false
	}
	for k := max(first, len(lw)-gluedMax); k <= len(lw)-3; k++ {
		if !utf8.RuneStart(lw[k]) {
			continue
		}
		if glued[lw[k:]] {
			return !gazTable.Lookup(lw).Has(ner.Ordinary)
		}
	}
	return false
}

// street returns the index after a street at word i, or i.
func (st *scanState) street(i int) int {
	w := st.word(i)
	if c := w[0]; c < utf8.RuneSelf && !isUpper(c) && !isDigit(c) && !(i+1 < len(st.words) && houseNumber(st.word(i+1))) &&
		!strongPrefix.HasLower(w) && !poWord(w) {
		return i // a lower-case word starts a street only as a known type or right before a number
	}
	e := st.gaz(i)
	switch {
	case houseNumber(w) && i+1 < len(st.words) && houseNumber(st.word(i+1)) && st.sameLine(i+1):
		// two numbers before a street: a building or postal number first
		if end := st.streetAfterNumber(i + 1); end > i+1 {
			return end
		}
		return i
	case houseNumber(w) && i+1 < len(st.words) && st.sameLine(i+1) && st.gaz(i+1).Has(ner.PostBox):
		return st.postBox(i + 1) // "7167 Postbox 53"
	case houseNumber(w):
		if end := st.streetAfterNumber(i); end > i {
			return end
		}
		return st.typelessStreet(i)
	case e.Has(ner.Unit) && i+2 < len(st.words) && unitID(st.word(i+1)) && st.sameLine(i+1) && st.sameLine(i+2):
		// a unit written first: "Apt. 675 62314 Mellemvej 32"
		if end := st.street(i + 2); end > i+2 {
			return end
		}
		return i
	case e.Has(ner.PostBox) || poWord(w):
		return st.postBox(i)
	case st.streetType(i, true):
		return st.streetFromPrefix(i, 0)
	case !st.numberAhead(i, 4):
		return i // the streets below end in a house number
	case streetNameWord(w) && upperInitial(w) || gluedStreet(w):
		if end := st.streetFromName(i); end > i {
			return end
		}
		return st.typelessStreet(i)
	}
	return i
}

// poWord: "p.o" or "po" in any letter case (no letter of them has a fold
// but its ASCII capital).
func poWord(w string) bool {
	return len(w) == 3 && w[0]|0x20 == 'p' && w[1] == '.' && w[2]|0x20 == 'o' ||
		len(w) == 2 && w[0]|0x20 == 'p' && w[1]|0x20 == 'o'
}

// numberAhead: one of the n words after word i starts with a digit, as a
// house number does.
func (st *scanState) numberAhead(i, n int) bool {
	for k := i + 1; k <= i+n && k < len(st.words); k++ {
		if isDigit(st.text[st.words[k].s]) {
			return true
		}
	}
	return false
}

func upperInitial(w string) bool {
	if len(w) > 0 && w[0] < utf8.RuneSelf {
		return isUpper(w[0])
	}
	r, _ := utf8.DecodeRuneInString(w)
	return unicode.IsUpper(r)
}

// typelessStreet: a street named without a type word ("Tylova 285",
// "4596 Tylova 285"), which needs the rest of an address to count: a unit,
// a postcode or a place line after it, or an address cue before it.
func (st *scanState) typelessStreet(i int) int {
	k := i
	if houseNumber(st.word(k)) {
		k++
	}
	name := k
	for k < len(st.words) && k-name < 3 && (k == name || st.plain(k)) && upperInitial(st.word(k)) && streetNameWord(st.word(k)) {
		k++
	}
	if k == name || k >= len(st.words) || !st.plain(k) || !houseNumber(st.word(k)) || st.postcodeAt(k) && k+1 < len(st.words) && st.plain(k+1) {
		return i
	}
	end := k + 1
	if st.hitsAt(st.words[i].s, 24).has(kAddressCue) {
		return end
	}
	if u := st.unitAfter(end); u > end {
		return end
	}
	if end < len(st.words) && strings.Contains(st.gap(end), "\n") && (st.postcodeAt(end) || st.linesAfter(end) >= 2) {
		return end
	}
	return i
}

// linesAfter counts the address lines (places, postcodes, units) that
// follow word k on the next lines.
func (st *scanState) linesAfter(k int) int {
	n := 0
	for k < len(st.words) && n < 4 && strings.Count(st.gap(k), "\n") == 1 {
		e := st.postcodeEnd(k)
		if e == k {
			e = st.placeWords(k)
		}
		if e == k {
			e = st.unitAfter(k)
		}
		if e == k {
			break
		}
		for e < len(st.words) && !strings.Contains(st.gap(e), "\n") && (st.postcodeAt(e) || st.placeWords(e) > e) {
			if pe := st.postcodeEnd(e); pe > e {
				e = pe
			} else {
				e = st.placeWords(e)
			}
		}
		n++
		k = e
	}
	return n
}

// streetType reports whether word k is a street type (written before the
// name when pre). A type that is also an ordinary word ("way", "number" in
// some language) counts only capitalized.
func (st *scanState) streetType(k int, pre bool) bool {
	e := st.gaz(k)
	if pre && !e.Has(ner.StreetPre) || !pre && !e.Has(ner.StreetType) {
		return false
	}
	if pre {
		// Written first, a street type is one of the known forms in any
		// case, or another capitalized word of the dictionaries.
		w := st.word(k)
		lw := lower(strings.TrimRight(w, "."))
		nx := st.word(k + 1)
		return (strongPrefix.Has(lw) || upperInitial(w) && !e.Has(ner.Ordinary) && utf8.RuneCountInString(lw) >= 3) &&
			nx != "" && st.sameLine(k+1) && (upperInitial(nx) || particle(nx))
	}
	if w := st.word(k); len(w) <= 2 && !isUpper(w[0]) {
		return false // "St", "Rd", "Dr" are written capitalized; "au", "el" are words ("út" is not ASCII and passes)
	}
	if e.Has(ner.Ordinary) {
		w := st.word(k)
		if isUpper(w[0]) && !allUpperASCII(w) {
			return true
		}
		// A lower-case ordinary word is a street type only in known
		// prefix forms before a capitalized name ("rue", "calle", "ul."), or
		// after a capitalized name right before a house number ("Luite tee
		// 87"), and never a noun that counts things ("number 7", "room 12").
		if pre {
			return false
		}
		prev := st.word(k - 1)
		return !countingNoun.HasLower(w) && prev != "" && isUpper(prev[0]) && !allUpperASCII(prev) &&
			k+1 < len(st.words) && st.sameLine(k+1) && houseNumber(st.word(k+1))
	}
	return true
}

var strongPrefix = setOf("rue", "calle", "avenida", "avda", "avenue", "av", "via", "viale", "rua", "rúa", "ul", "ulica", "strada",
	"piazza", "plaza", "praça", "carrer", "paseo", "camino", "chemin", "boulevard", "bd", "allée", "impasse", "quai",
	"place", "cours", "route", "largo", "travessa", "calea", "aleja", "al", "plac", "odos", "leoforos")

// strongSuffix: street types that make a street of the capitalized words
// before them even without a house number.
var strongSuffix = setOf("street", "road", "avenue", "lane", "drive", "boulevard", "terrace", "crescent", "parkway", "highway",
	"court", "square", "close", "mews", "straße", "strasse", "weg", "gasse", "allee", "platz", "ring", "damm")

var countingNoun = setOf("number", "no", "nr", "room", "page", "line", "level", "floor", "step", "unit", "item", "version",
	"chapter", "section", "day", "week", "year", "ward", "bed", "dose", "type", "grade", "stage", "class", "group",
	"phase", "table", "figure", "gate", "platform", "box", "seat", "row", "case", "part", "point", "batch", "lot", "id")

// setOf returns the set of the words.
func setOf(ws ...string) *ner.WordSet { return ner.NewWordSet(ws...) }

func allUpperASCII(w string) bool {
	for i := 0; i < len(w); i++ {
		if isLower(w[i]) {
			return false
		}
	}
	return true
}

// streetAfterNumber: "221B Baker Street", "12 rue de la Paix", or a number
// before a street written name-first ("28245 Puruntie 82").
func (st *scanState) streetAfterNumber(i int) int {
	k := i + 1
	if k >= len(st.words) || !st.sameLine(k) {
		return i
	}
	if st.streetType(k, true) {
		if end := st.streetFromPrefix(k, 1); end > k {
			return end
		}
		return i
	}
	for n := 0; k < len(st.words) && n < 5 && st.sameLine(k); n++ {
		w := st.word(k)
		if n > 0 && st.streetType(k, false) {
			end := k + 1
			if end < len(st.words) && st.sameLine(end) && direction(st.word(end)) {
				end++
			}
			if end < len(st.words) && st.sameLine(end) && houseNumber(st.word(end)) && !st.postcodeAt(end) {
				end++ // a number after the type too: "6614 Luite tee 87"
			}
			return end
		}
		if gluedStreet(w) && k+1 < len(st.words) && st.sameLine(k+1) && houseNumber(st.word(k+1)) {
			return k + 2
		}
		if !streetNameWord(w) || n > 0 && !st.plain(k) || !isUpper(w[0]) && !st.strongTypeAhead(k) {
			break
		}
		k++
	}
	// A name-first street after a leading number.
	if end := st.streetFromName(i + 1); end > i+1 {
		return end
	}
	return i
}

// streetFromPrefix: "rue de la Paix 12", "Calle Mayor 5", "ul. Narewska 94".
// need is the number of words already matched before the type.
func (st *scanState) streetFromPrefix(k, need int) int {
	end := k
	for j := k + 1; j < len(st.words) && j-k <= 6 && st.sameLine(j); j++ {
		w := st.word(j)
		if houseNumber(w) {
			if j > k+1 || need > 0 {
				return j + 1
			}
			return k
		}
		if !streetNameWord(w) {
			break
		}
		end = j
		if strings.Contains(st.gap(j+1), ",") {
			break
		}
	}
	if end >= k+1 && (need > 0 || end >= k+2 || st.hitsAt(st.words[k].s, 24).has(kAddressCue)) {
		return end + 1
	}
	return k
}

// streetFromName: "Hauptstraße 12", "Koepenicker Str. 74", "Erzsébet tér 19".
func (st *scanState) streetFromName(i int) int {
	for k := i; k < len(st.words) && k-i < 4; k++ {
		if k > i && !st.plain(k) {
			return i
		}
		w := st.word(k)
		typed := k > i && st.streetType(k, false) || gluedStreet(w)
		if typed && k+1 < len(st.words) && st.sameLine(k+1) && houseNumber(st.word(k+1)) {
			return k + 2
		}
		if !streetNameWord(w) {
			return i
		}
	}
	return i
}

// postBox: "P.O. Box 123", "Postfach 4711", "BP 928", "Apartado de Correos 129".
func (st *scanState) postBox(i int) int {
	for k := i + 1; k < len(st.words) && k-i <= 3 && st.sameLine(k); k++ {
		w := st.word(k)
		if houseNumber(w) && allDigits(w) && (k+1 >= len(st.words) || st.gap(k+1) != "/") {
			return k + 1
		}
		if !st.gaz(k).Has(ner.PostBox) && !particle(w) && !strings.EqualFold(w, "box") && !strings.EqualFold(w, "correos") {
			return i
		}
	}
	return i
}

// strongTypeAhead reports whether one of the next two words is an
// unmistakable street type, the evidence a lower-case street name needs.
func (st *scanState) strongTypeAhead(k int) bool {
	for j := k; j < len(st.words) && j <= k+2; j++ {
		switch lower(strings.TrimRight(st.word(j), ".")) {
		case "street", "st", "avenue", "ave", "road", "rd", "lane", "ln", "drive", "boulevard", "blvd", "straße", "strasse", "str",
			"rue", "calle", "via", "avenida", "vej", "gade", "weg", "gasse", "allee", "platz", "plaza", "court", "way":
			return true
		}
		if gluedStreet(st.word(j)) {
			return true
		}
	}
	return false
}

func direction(w string) bool {
	switch strings.TrimRight(w, ".") {
	case "N", "S", "E", "W", "NE", "NW", "SE", "SW", "North", "South", "East", "West":
		return true
	}
	return false
}

// unitAfter extends an address over a unit: ", Apt 5", "Suite 250",
// "#39", "3º B", "Apt. 931" on the next line.
func (st *scanState) unitAfter(end int) int {
	for n := 0; n < 2 && end < len(st.words); n++ {
		g := st.gap(end)
		if len(g) > 6 || strings.Count(g, "\n") > 1 || strings.ContainsAny(g, ";|()") {
			return end
		}
		w := st.word(end)
		switch {
		case st.gaz(end).Has(ner.Unit) && end+1 < len(st.words) && st.sameLine(end+1) && unitID(st.word(end+1)):
			end += 2
		case w[0] == '#' && len(w) > 1 && unitID(w[1:]), strings.HasSuffix(g, "#") && unitID(w):
			end++
		case len(w) <= 3 && isDigit(w[0]) && strings.ContainsAny(w[len(w)-1:], "oaº°ª") && end+1 < len(st.words):
			// Spanish floor and door, "3º B" (º reads "o" after NFKC)
			end++
			if len(st.word(end)) == 1 && isUpper(st.word(end)[0]) {
				end++
			}
		default:
			return end
		}
	}
	return end
}

func unitID(w string) bool {
	if len(w) == 0 || len(w) > 6 {
		return false
	}
	digits := 0
	for i := 0; i < len(w); i++ {
		if isDigit(w[i]) {
			digits++
		} else if !isUpper(w[i]) && !isLower(w[i]) && w[i] != '-' {
			return false
		}
	}
	return digits > 0 || len(w) == 1
}

// postcodeAt reports whether a postal code starts at word k and returns
// its last word.
func (st *scanState) postcodeAt(k int) bool { return st.postcodeEnd(k) > k }

func (st *scanState) postcodeEnd(k int) int {
	w := st.word(k)
	if w == "" {
		return k
	}
	nx := ""
	if k+1 < len(st.words) && st.gap(k+1) == " " {
		nx = st.word(k + 1)
	}
	d, ok := digitsOf(w)
	switch {
	case ok && len(w) == len(d) && (len(d) == 4 || len(d) == 5):
		if len(d) == 5 && len(nx) == 4 && allDigits(nx) {
			return k // a phone number
		}
		if len(nx) == 2 && isUpper(nx[0]) && isUpper(nx[1]) && len(d) == 4 {
			return k + 2 // NL: 7412 SL
		}
		return k + 1
	case ok && len(d) == 3 && len(w) == 3 && len(nx) == 2 && allDigits(nx):
		return k + 2 // SE, GR, CZ: 114 55
	case ok && (len(w) == 10 && w[5] == '-' || len(w) == 6 && w[2] == '-' || len(w) == 8 && w[4] == '-' || len(w) == 9 && w[5] == '-'):
		return k + 1 // US ZIP+4, PL 35-403, PT 1000-001, BR 75534-030
	case ukPostcode(w, nx) || caPostcode(w, nx):
		return k + 2
	}
	return k
}

func caPostcode(a, b string) bool {
	return len(a) == 3 && len(b) == 3 && isUpper(a[0]) && isDigit(a[1]) && isUpper(a[2]) && isDigit(b[0]) && isUpper(b[1]) && isDigit(b[2])
}

// placeWords returns the index after a run of one to three capitalized
// (or upper-case) words on one line: a city, a region, a country.
func (st *scanState) placeWords(k int) int {
	end := k
	for j := k; j < len(st.words) && j-k < 4; j++ {
		if j > k && !st.plain(j) {
			break
		}
		w := st.word(j)
		r, _ := utf8.DecodeRuneInString(w)
		if !unicode.IsUpper(r) && !(j > k && particle(w)) && !st.gaz(j).Has(ner.City) && !st.gaz(j).Has(ner.Country) {
			break
		}
		if strings.IndexAny(w, "0123456789@") >= 0 || st.gaz(j).Has(ner.Unit) {
			break
		}
		end = j + 1
	}
	return end
}

// addressTail reads what follows a street: unit, city, region, postcode,
// country, on the same line after a comma or on the next lines. It returns
// the index after the tail: adjacent lines of one address are one ADDRESS.
func (st *scanState) addressTail(end int) int {
	lines := 0
	for n := 0; n < 8 && end < len(st.words); n++ {
		g := st.gap(end)
		nl := strings.Count(g, "\n")
		if nl == 2 && st.gaz(end).Has(ner.Country) && strings.Trim(g, " \t\r\n") == "" {
			nl = 1 // a country line after a blank line
		}
		if nl > 1 || strings.Count(g, ",") > 1 || len(strings.Trim(g, " \t\r\n,>")) > 0 {
			return end // a blank line, a sentence end or other punctuation ends the address
		}
		if nl == 1 {
			lines++
			if lines > 4 {
				return end
			}
		}
		if e := st.postcodeEnd(end); e > end {
			end = e
			continue
		}
		if e := st.unitAfter(end); e > end {
			end = e
			continue
		}
		if e := st.placeWords(end); e > end {
			if e < len(st.words) && st.sameLine(e) && !strings.Contains(st.gap(e), ",") && !st.postcodeAt(e) && e-end < 3 {
				if w := st.word(e); isLower(w[0]) && !particle(w) && w != "nan" {
					return end // a sentence goes on: not a place line
				}
			}
			country := st.gaz(end).Has(ner.Country) || st.gaz(e-1).Has(ner.Country)
			end = e
			if country {
				// the country ends an address, a postcode may follow on its line
				if pe := st.postcodeEnd(end); pe > end && !strings.Contains(st.gap(end), "\n") {
					end = pe
				}
				return end
			}
			continue
		}
		w := st.word(end)
		if w == "nan" || w == "n/a" { // an empty field in an export
			end++
			continue
		}
		return end
	}
	return end
}

// address finds an address at word i and returns the index after it.
func (st *scanState) address(i int) int {
	if gazTable == nil {
		return i
	}
	start := i
	end := st.street(i)
	if end <= i {
		end = st.military(i)
	}
	if end <= i {
		end = st.namedStreet(i)
	}
	if end <= i {
		return i
	}
	end = st.addressTail(st.unitAfter(end))
	// An intersection: "the corner of Elm Street and 5th Avenue".
	if strings.HasSuffix(st.before(st.words[i].s, 14), "corner of ") && i >= 2 {
		start = i - 2
		if end+1 < len(st.words) && lower(st.word(end)) == "and" {
			second := st.street(end + 1)
			if second <= end+1 {
				second = st.placeWords(end + 1)
			}
			if second > end+1 {
				end = second
			}
		}
	}
	st.add(Address, st.words[start].s, st.words[end-1].e, 0.85)
	return end
}

// namedStreet: a street named without a number where a cue says it is
// one ("lives on Berg Hills Street", "at Elm Road").
func (st *scanState) namedStreet(i int) int {
	if !upperInitial(st.word(i)) {
		return i
	}
	for k := i + 1; k < len(st.words) && k-i <= 3 && st.plain(k) && upperInitial(st.word(k)); k++ {
		if strongSuffix.HasLower(strings.TrimRight(st.word(k), ".")) {
			if st.hitsAt(st.words[i].s, 16).has(kAddressCue) || streetPlace(lower(st.word(i-1))) {
				return k + 1
			}
			return i
		}
	}
	return i
}

func streetPlace(w string) bool {
	return w == "on" || w == "at" || w == "in" || w == "along" || w == "off" || w == "of"
}

// military: US military mail ("PSC 3294, Box 9168\nAPO AA 61487", "USNS
// Mercy\nFPO AP 96678", "Unit 4100 Box 22\nDPO AE 09498").
func (st *scanState) military(i int) int {
	w := st.word(i)
	if !isUpper(w[0]) {
		return i // every word below is capitalized
	}
	switch w {
	case "PSC", "CMR", "Unit", "USS", "USNS", "USNV", "USCGC":
	case "APO", "FPO", "DPO":
		return st.militaryLine(i)
	default:
		return i
	}
	for k := i + 1; k < len(st.words) && k-i <= 5; k++ {
		if strings.Contains(st.gap(k), "\n") {
			if e := st.militaryLine(k); e > k {
				return e
			}
			return i
		}
	}
	return i
}

func (st *scanState) militaryLine(k int) int {
	switch st.word(k) {
	case "APO", "FPO", "DPO":
	default:
		return k
	}
	if k+2 < len(st.words) {
		switch st.word(k + 1) {
		case "AA", "AE", "AP":
			if d := st.word(k + 2); len(d) == 5 && allDigits(d) {
				return k + 3
			}
		}
	}
	return k
}
