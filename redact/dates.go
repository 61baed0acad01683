package redact

import (
	"regexp"
	"sort"
	"strings"
)

// Dates are found in every common form, whatever their context: numeric
// with any separator (14/03/1962, 1962-03-14, 14.03.1962, 14-Mar-1962, ISO
// with a time), month names and abbreviations in English, German, French,
// Spanish, Italian, Portuguese and Dutch, ordinals in figures or words ("the
// ninth of February 1947"), weekdays, a year after "in"/"since", and CJK and
// Japanese era forms. Context decides the type and Personal: a birth cue
// gives DATE_OF_BIRTH; admission, discharge, death, a visit, a patient or a
// person nearby mark a DATE as Personal.

// dateWord is what a word can be in a date.
type dateWord struct {
	month   int  // 1..12, or 0
	weekday bool // Monday
	day     int  // an ordinal in words: 1..31
	weak    bool // also an ordinary word ("may", "march", "mar", "second"): needs a number beside it
}

var dateWords = func() map[string]dateWord {
	m := map[string]dateWord{}
	months := [][]string{
		{"january", "jan", "januar", "jänner", "janvier", "janv", "enero", "ene", "gennaio", "gen", "janeiro", "januari"},
		{"february", "feb", "febr", "februar", "février", "fevrier", "févr", "fevr", "febrero", "febbraio", "fevereiro", "fev", "februari"},
		{"march", "mar", "märz", "maerz", "mär", "mars", "marzo", "março", "marco", "maart", "mrt"},
		{"april", "apr", "avril", "avr", "abril", "abr", "aprile"},
		{"may", "mai", "mayo", "maggio", "mag", "maio", "mei"},
		{"june", "jun", "juni", "juin", "junio", "giugno", "giu", "junho"},
		{"july", "jul", "juli", "juillet", "juil", "julio", "luglio", "lug", "julho"},
		{"august", "aug", "août", "aout", "agosto", "ago", "augustus"},
		{"september", "sep", "sept", "septembre", "septiembre", "setiembre", "settembre", "set", "setembro"},
		{"october", "oct", "oktober", "okt", "octobre", "octubre", "ottobre", "ott", "outubro", "out"},
		{"november", "nov", "novembre", "noviembre", "novembro"},
		{"december", "dec", "dezember", "dez", "décembre", "decembre", "déc", "diciembre", "dic", "dicembre", "dezembro", "dets"},
	}
	weak := map[string]bool{"may": true, "march": true, "mar": true, "jan": true, "mag": true, "set": true, "out": true,
		"ago": true, "gen": true, "dec": true, "mai": true, "mei": true, "sept": true, "august": true}
	for i, names := range months {
		for _, n := range names {
			m[n] = dateWord{month: i + 1, weak: weak[n]}
		}
	}
	for _, d := range []string{"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
		"montag", "dienstag", "mittwoch", "donnerstag", "freitag", "samstag", "sonntag", "lundi", "mardi", "mercredi",
		"jeudi", "vendredi", "samedi", "dimanche", "lunes", "martes", "miércoles", "miercoles", "jueves", "viernes",
		"sábado", "sabado", "domingo"} {
		m[d] = dateWord{weekday: true, weak: d == "domingo"}
	}
	ordinals := []string{"first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth",
		"eleventh", "twelfth", "thirteenth", "fourteenth", "fifteenth", "sixteenth", "seventeenth", "eighteenth",
		"nineteenth", "twentieth"}
	for i, o := range ordinals {
		m[o] = dateWord{day: i + 1, weak: true}
	}
	for i, o := range ordinals[:9] {
		m["twenty-"+o] = dateWord{day: 21 + i, weak: true}
	}
	m["thirtieth"] = dateWord{day: 30, weak: true}
	m["thirty-first"] = dateWord{day: 31, weak: true}
	m["premier"] = dateWord{day: 1, weak: true}
	return m
}()

// dateTri holds the first three letters of every ASCII date word, so that
// most words are rejected without hashing: a bit per three letters.
var dateTri = func() (t [(26*26*26 + 63) / 64]uint64) {
	for w := range dateWords {
		if k, ok := triIndex(w); ok {
			t[k/64] |= 1 << (k % 64)
		}
	}
	return t
}()

func triIndex(w string) (int, bool) {
	if len(w) < 3 {
		return 0, false
	}
	k := 0
	for i := 0; i < 3; i++ {
		c := w[i] | 0x20
		if c < 'a' || c > 'z' {
			return 0, false
		}
		k = k*26 + int(c-'a')
	}
	return k, true
}

// lookupDateWord finds a word (any case, trailing dot allowed) in dateWords
// without allocating for ASCII words.
func lookupDateWord(w string) (dateWord, bool) {
	for len(w) > 0 && (w[len(w)-1] == '.' || w[len(w)-1] == ',') {
		w = w[:len(w)-1]
	}
	if len(w) < 3 || len(w) > 14 {
		return dateWord{}, false
	}
	if k, ok := triIndex(w); ok && dateTri[k/64]&(1<<(k%64)) == 0 {
		return dateWord{}, false
	}
	var buf [14]byte
	for i := 0; i < len(w); i++ {
		c := w[i]
		if c >= 0x80 {
			dw, ok := dateWords[strings.ToLower(w)]
			return dw, ok
		}
		if isUpper(c) {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	dw, ok := dateWords[string(buf[:len(w)])]
	return dw, ok
}

// dayNumber reads "14", "14th", "1st", "2nd", "3rd", "14.", "1er", "1º".
func dayNumber(w string) int {
	if len(w) > 5 || len(w) == 0 || !isDigit(w[0]) {
		return 0
	}
	w = strings.TrimRight(w, ".,")
	for _, suf := range []string{"st", "nd", "rd", "th", "er", "º"} {
		if len(w) > len(suf) && strings.HasSuffix(lower(w), suf) {
			w = w[:len(w)-len(suf)]
			break
		}
	}
	if len(w) == 0 || len(w) > 2 || !isDigit(w[0]) || len(w) == 2 && !isDigit(w[1]) {
		return 0
	}
	n := int(w[0] - '0')
	if len(w) == 2 {
		n = n*10 + int(w[1]-'0')
	}
	if n < 1 || n > 31 {
		return 0
	}
	return n
}

// yearNumber reads a four-digit year in 1800..2199, or "'62".
func yearNumber(w string) bool {
	w = strings.TrimRight(w, ".,")
	if len(w) == 3 && (w[0] == '\'' || w[0] == '`') && isDigit(w[1]) && isDigit(w[2]) {
		return true
	}
	return len(w) == 4 && isDigit(w[0]) && isDigit(w[1]) && isDigit(w[2]) && isDigit(w[3]) && (w[0] == '1' && w[1] >= '8' || w[0] == '2' && w[1] <= '1')
}

// numericDateShape: d/m/y, m/d/y, y-m-d and the like in one token, with
// plausible parts, optionally a month abbreviation (14-Mar-1962) and an
// ISO time (T10:00:00Z).
func numericDateShape(span string) bool {
	if len(span) < 6 || len(span) > 32 {
		return false
	}
	if len(span) > 12 && (span[10] == 'T' || span[10] == 't') {
		span = span[:10]
	}
	var nsl, nd, ndot int
	for i := 0; i < len(span); i++ {
		switch span[i] {
		case '/':
			nsl++
		case '-':
			nd++
		case '.':
			ndot++
		}
	}
	if nsl != 2 && nd != 2 && ndot != 2 {
		return false
	}
	var sep byte
	for _, c := range []byte{'/', '-', '.'} {
		if strings.Count(span, string(c)) == 2 {
			sep = c
			break
		}
	}
	if sep == 0 {
		return false
	}
	parts := strings.Split(span, string(sep))
	if len(parts) != 3 || len(parts[0]) == 0 || len(parts[1]) == 0 || len(parts[2]) == 0 {
		return false
	}
	if dw, ok := lookupDateWord(parts[1]); ok && dw.month > 0 {
		return dayNumber(parts[0]) > 0 && (yearNumber(parts[2]) || len(parts[2]) == 2 && allDigits(parts[2]))
	}
	if dw, ok := lookupDateWord(parts[0]); ok && dw.month > 0 {
		return dayNumber(parts[1]) > 0 && (yearNumber(parts[2]) || len(parts[2]) == 2 && allDigits(parts[2]))
	}
	for _, p := range parts {
		if len(p) > 4 || !allDigits(p) {
			return false
		}
	}
	a, b, c := atoi(parts[0]), atoi(parts[1]), atoi(parts[2])
	switch {
	case len(parts[0]) == 4:
		return yearNumber(parts[0]) && len(parts[1]) <= 2 && len(parts[2]) <= 2 && b >= 1 && b <= 12 && c >= 1 && c <= 31
	case len(parts[0]) <= 2 && len(parts[1]) <= 2 && (len(parts[2]) == 4 && yearNumber(parts[2]) || len(parts[2]) == 2):
		if len(parts[2]) == 2 && sep == '.' && len(parts[0]) == 1 {
			return false // 1.2.10 reads as a version
		}
		return a >= 1 && b >= 1 && (a <= 12 && b <= 31 || a <= 31 && b <= 12)
	}
	return false
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return len(s) > 0
}

func atoi(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

// timeShape: 11:34, 11:34:35, 11:34:35.123, with an optional am/pm glued.
func timeShape(w string) bool {
	w = strings.TrimSuffix(strings.TrimSuffix(lower(w), "am"), "pm")
	w = strings.TrimSuffix(w, "z")
	parts := strings.Split(w, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return false
	}
	for k, p := range parts {
		if k == 2 {
			p, _, _ = strings.Cut(p, ".")
		}
		if len(p) == 0 || len(p) > 2 || !allDigits(p) {
			return false
		}
	}
	return atoi(parts[0]) <= 24 && atoi(parts[1]) <= 59
}

// yearCues introduce a year standing alone ("in 2001", "since 1971").
var yearCues = map[string]bool{"in": true, "since": true, "during": true, "until": true, "till": true,
	"from": true, "circa": true, "before": true, "after": true, "year": true, "en": true, "im": true,
	"seit": true, "depuis": true, "desde": true, "jahr": true, "année": true, "año": true, "between": true, "of": true}

// weekdayCue words make a lower-case English weekday a date ("on friday").
var weekdayCue = map[string]bool{"on": true, "next": true, "last": true, "this": true, "every": true, "by": true, "until": true,
	"from": true, "till": true}

// yearNouns follow a year used as a modifier ("a 1996 film", "the 2016 election").
var yearNouns = map[string]bool{"film": true, "movie": true, "season": true, "election": true, "edition": true, "model": true,
	"census": true, "olympics": true, "championship": true, "war": true, "report": true, "survey": true, "budget": true,
	"tax": true, "album": true, "novel": true, "book": true, "study": true, "law": true, "act": true}

// countNouns follow a number that counts or measures something.
var countNouns = map[string]bool{"mg": true, "mcg": true, "g": true, "kg": true, "ml": true, "l": true, "mmol": true, "units": true,
	"iu": true, "tablets": true, "doses": true, "people": true, "patients": true, "persons": true, "cases": true, "items": true,
	"dollars": true, "euros": true, "pounds": true, "usd": true, "eur": true, "gbp": true, "km": true, "m": true, "cm": true,
	"mm": true, "kcal": true, "calories": true, "steps": true, "words": true, "pages": true, "rows": true, "records": true,
	"users": true, "employees": true, "beds": true, "times": true, "hours": true, "minutes": true, "days": true}

// date matches a date starting at word i and returns the index after it.
func (st *scanState) date(i int) int {
	end := st.dateEnd(i)
	if end <= i {
		return i
	}
	end = st.timeAfter(end)
	s, e := st.words[i].s, st.words[end-1].e
	t, personal := st.dateContext(s, e)
	score := 0.9
	if w := st.text[s:e]; end == i+1 && len(w) <= 9 && !strings.ContainsAny(w, "/-.:") {
		score = 0.6 // a weekday or a year alone
	}
	st.out = append(st.out, Finding{Type: t, Start: s, End: e, Score: score, Personal: personal})
	return end
}

// dateEnd returns the index after the date at word i, or i.
func (st *scanState) dateEnd(i int) int {
	words := st.words
	get := func(k int) string {
		if k >= len(words) || k > i && words[k].s-words[k-1].e > 3 {
			return ""
		}
		return st.text[words[k].s:words[k].e]
	}
	w := get(i)
	if w == "" {
		return i
	}
	if isDigit(w[0]) {
		return st.dateFromNumber(i, w, get)
	}
	dw, ok := lookupDateWord(w)
	if !ok {
		if (w == "the" || w == "The") && i+1 < len(words) {
			if dw2, ok := lookupDateWord(get(i + 1)); ok && dw2.day > 0 {
				if end := st.dateFromOrdinal(i+1, get); end > i+1 {
					return end
				}
			}
		}
		return i
	}
	switch {
	case dw.month > 0:
		if dw.weak && !isUpper(w[0]) {
			return i
		}
		return st.dateFromMonth(i, get)
	case dw.weekday:
		if !isUpper(w[0]) && englishWeekday(w) && !weekdayCue[lower(st.word(i-1))] {
			return i
		}
		k := i + 1
		if lo := lower(get(k)); lo == "the" || lo == "le" || lo == "el" || lo == "den" {
			k++
		}
		if end := st.dateEnd(k); end > k {
			return end
		}
		return i + 1
	case dw.day > 0:
		return st.dateFromOrdinal(i, get)
	}
	return i
}

func (st *scanState) dateFromNumber(i int, w string, get func(int) string) int {
	if numericDateShape(w) {
		return i + 1
	}
	if d := dayNumber(w); d > 0 {
		k := i + 1
		if lo := lower(get(k)); lo == "of" || lo == "de" || lo == "del" || lo == "di" {
			k++
		}
		if dw, ok := lookupDateWord(get(k)); ok && dw.month > 0 {
			weak := dw.weak && !isUpper(get(k)[0])
			k++
			if weak && !yearNumber(get(k)) {
				return i // "3 out of 5", "2 set"
			}
			if lo := lower(get(k)); lo == "de" || lo == "del" || lo == "of" {
				k++
			}
			if yearNumber(get(k)) {
				return k + 1
			}
			if get(k-1) == "de" || get(k-1) == "of" {
				return k - 1
			}
			return k
		}
		return i
	}
	if len(w) == 4 && yearNumber(w) && i > 0 && st.words[i].s-st.words[i-1].e == 1 && i+1 < len(st.words) {
		// a year as a modifier: "a 1996 Scottish film", "the 2016 election"
		if p := lower(st.word(i - 1)); p == "a" || p == "an" || p == "the" {
			if nx := st.word(i + 1); st.words[i+1].s-st.words[i].e == 1 && (upperInitial(nx) || yearNouns[lower(nx)]) {
				return i + 1
			}
		}
	}
	if len(w) == 4 && yearNumber(w) && i > 0 && st.words[i].s-st.words[i-1].e <= 2 &&
		yearCues[lower(st.text[st.words[i-1].s:st.words[i-1].e])] {
		// "in 2000 patients" counts patients; "in 2001, the firm" is a year.
		// After "of" a verb may follow the year ("the Act of 1976 applies"),
		// but not a unit ("a total of 2000 mg").
		nx := get(i + 1)
		if nx != "" && st.words[i+1].s-st.words[i].e == 1 && isLower(nx[0]) {
			if countNouns[lower(nx)] || lower(st.word(i-1)) != "of" && strings.HasSuffix(nx, "s") {
				return i
			}
		}
		return i + 1
	}
	return i
}

func (st *scanState) dateFromMonth(i int, get func(int) string) int {
	k := i + 1
	if lo := lower(get(k)); lo == "the" {
		if dw, ok := lookupDateWord(get(k + 1)); ok && dw.day > 0 {
			k += 2
			if yearNumber(get(k)) {
				return k + 1
			}
			return k
		}
	}
	if d := dayNumber(get(k)); d > 0 {
		if yearNumber(get(k + 1)) {
			return k + 2
		}
		return k + 1
	}
	if lo := lower(get(k)); lo == "de" || lo == "of" {
		k++
	}
	if yearNumber(get(k)) {
		return k + 1
	}
	return i
}

func (st *scanState) dateFromOrdinal(i int, get func(int) string) int {
	k := i + 1
	if lo := lower(get(k)); lo == "of" || lo == "de" {
		k++
	}
	if dw, ok := lookupDateWord(get(k)); ok && dw.month > 0 {
		if yearNumber(get(k + 1)) {
			return k + 2
		}
		return k + 1
	}
	return i
}

// timeAfter extends a date over a time that follows it.
func (st *scanState) timeAfter(end int) int {
	k := end
	if k < len(st.words) && lower(st.text[st.words[k].s:st.words[k].e]) == "at" {
		k++
	}
	if k < len(st.words) && st.words[k].s-st.words[k-1].e <= 2 && timeShape(st.text[st.words[k].s:st.words[k].e]) {
		k++
		if k < len(st.words) && st.words[k].s-st.words[k-1].e == 1 {
			if lo := lower(st.text[st.words[k].s:st.words[k].e]); lo == "am" || lo == "pm" || lo == "a.m" || lo == "p.m" {
				k++
			}
		}
		return k
	}
	return end
}

// dateContext decides a date's type and whether it is tied to a person.
func (st *scanState) dateContext(s, e int) (Type, bool) {
	ctx := st.hitsAt(s, 48)
	if ctx.has(kDOB) {
		return DateOfBirth, true
	}
	if ctx.has(kDateEvt) || ctx.has(kPersonCue) {
		return Date, true
	}
	return Date, false
}

var cjkDate = regexp.MustCompile(`(?:(?:明治|大正|昭和|平成|令和)\s*)?(?:\d{1,4}|元)\s*[年년]\s*\d{1,2}\s*[月월](?:\s*\d{1,2}\s*[日일])?`)

// scanCJKDates finds 1962年3月14日, 昭和37年3月14日 and 1962년 3월 14일.
func (st *scanState) scanCJKDates() {
	if !strings.Contains(st.text, "年") && !strings.Contains(st.text, "년") {
		return
	}
	for _, m := range cjkDate.FindAllStringIndex(st.text, -1) {
		t, personal := st.dateContext(m[0], m[1])
		st.out = append(st.out, Finding{Type: t, Start: m[0], End: m[1], Score: 0.9, Personal: personal})
	}
}

// markPersonalDates ties a date to a person named close to it in the same
// sentence. fs is ordered by position.
func markPersonalDates(text string, fs []Finding) {
	var people []int // indexes of PERSON findings, in order
	for i, f := range fs {
		if f.Type == Person {
			people = append(people, i)
		}
	}
	if len(people) == 0 {
		return
	}
	for i := range fs {
		d := &fs[i]
		if d.Type != Date || d.Personal {
			continue
		}
		// the nearest person before and after the date
		k := sort.Search(len(people), func(k int) bool { return fs[people[k]].Start >= d.End })
		for _, j := range []int{k - 1, k} {
			if j < 0 || j >= len(people) {
				continue
			}
			p := fs[people[j]]
			a, b := p.End, d.Start
			if p.Start >= d.End {
				a, b = d.End, p.Start
			}
			if b >= a && b-a <= 80 && !strings.ContainsAny(text[a:b], ".!?\n") {
				d.Personal = true
				break
			}
		}
	}
}

// englishWeekday: English weekday names are capitalized; French and Spanish
// ones are not.
func englishWeekday(w string) bool {
	return strings.HasSuffix(lower(strings.TrimRight(w, ".")), "day")
}
