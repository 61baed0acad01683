package redact

import "strings"

var ageAfter = []string{"years old", "year old", "years of age", "-year-old", "-years-old", " year-old", "yo ", "y/o", "y.o.", "yrs old",
	"yrs", "jahre alt", "jährige", "jährig", "ans", "años", "anni", "anos", "jaar"}

// ageBefore: words right before a number that make it an age ("aged 54",
// "age: 54", "at the age of 61").
var ageBefore = []string{"age", "aged", "ages", "age of", "alter", "âge", "edad", "età", "idade", "leeftijd", "im alter von",
	"à l'âge de", "a los", "all'età di"}

// ageBecoming: verbs of becoming an age; the number must end the clause
// ("she turned 60.", "I'll turn 23 next week"), so that "turn 180 degrees"
// stays a number.
var ageBecoming = []string{"turned", "turn", "turns", "turning", "wird", "cumple", "cumplió", "compie"}

// agePronouns may stand between "when" and "was": "when he was 78".
var agePronouns = setOf("i", "he", "she", "they", "we", "you")

// age finds "54 years old", "a 54-year-old", "aged 54", "age: 54", "turned
// 60", "when she was 78".
func (st *scanState) age(i int) int {
	w := st.words[i]
	s := st.text[w.s:w.e]
	n, digits := leadingNumber(s)
	if digits == 0 || digits > 3 || n == 0 || n > 125 {
		return i
	}
	if digits < len(s) && !strings.HasPrefix(s[digits:], "-year") && !strings.HasPrefix(s[digits:], "yo") {
		return i
	}
	rest := lower(st.text[w.s+digits : min(len(st.text), w.s+digits+14)])
	for _, a := range ageAfter {
		if strings.HasPrefix(strings.TrimLeft(rest, " "), strings.TrimLeft(a, " ")) && (a != "ans" && a != "yrs" || len(rest) > 0 && rest[0] == ' ') {
			st.add(Age, w.s, w.s+digits, 0.85)
			return i + 1
		}
	}
	before := strings.TrimRight(st.before(w.s, 16), " :=")
	if endsWithWord(before, ageBefore) || digits == len(s) && st.clauseEnds(i) && (endsWithWord(before, ageBecoming) || st.whenWas(i)) {
		st.add(Age, w.s, w.s+digits, 0.85)
		return i + 1
	}
	return i
}

// leadingNumber reads the digits at the start of s.
func leadingNumber(s string) (n, digits int) {
	for digits < len(s) && isDigit(s[digits]) && digits < 4 {
		n = n*10 + int(s[digits]-'0')
		digits++
	}
	return n, digits
}

// endsWithWord: before ends with one of the words, standing alone.
func endsWithWord(before string, words []string) bool {
	for _, b := range words {
		if strings.HasSuffix(before, b) && (len(before) == len(b) || !isLower(before[len(before)-len(b)-1])) {
			return true
		}
	}
	return false
}

// clauseEnds: nothing but the end of a clause, a time word or "years"
// follows word i.
func (st *scanState) clauseEnds(i int) bool {
	w := st.words[i]
	if w.e == len(st.text) || strings.IndexByte(".,;!?)\n", st.text[w.e]) >= 0 {
		return true
	}
	switch lower(st.word(i + 1)) {
	case "years", "this", "last", "next", "in", "on", "today", "tomorrow", "yesterday", "and", "but", "so", "soon":
		return true
	}
	return false
}

// whenWas: "when he was" or "when I was" stands right before word i.
func (st *scanState) whenWas(i int) bool {
	if i < 3 {
		return false
	}
	v := lower(st.word(i - 1))
	return (v == "was" || v == "were") && agePronouns.HasLower(st.word(i-2)) && lower(st.word(i-3)) == "when"
}
