package redact

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Field is one text of a request, as the scanner sees it.
type Field struct {
	// Text is the text as sent (JSON-unescaped); numbers as their decimal text.
	Text string
	// Key is the object key the value sits under, lower-cased ("given_name",
	// "ssn", "description"); "" for message prose. It is read as a label
	// in front of the text ("ssn: 123456789").
	Key string
	// IsKey marks a text that is itself an object key.
	IsKey bool
	// Group > 0: consecutive fields with the same Group are adjacent parts
	// of one message (content parts, text blocks, consecutive messages).
	// They are scanned joined as well as apart; a finding spanning a
	// boundary is reported, clipped, in every part it touches.
	Group int
}

// Inspect scans every field of one request together and returns each
// field's findings, in byte offsets of that field's own Text as given
// (normalization is mapped back). A value found with good evidence in one
// field (a name after a title, a number after a label) is also reported at
// every other occurrence in any field, in any letter case.
func (sc *Scanner) Inspect(fields []Field) [][]Finding {
	res := make([][]Finding, len(fields))
	norms := make([]normalized, len(fields))
	for i, f := range fields {
		norms[i], res[i] = sc.detectField(f)
	}
	idx := collectAll(norms, res) // before joins: clipped parts are no values to look for
	sc.joinGroups(fields, norms, res)
	propagate(idx, norms, res)
	for i := range res {
		res[i] = mapBack(norms[i], res[i])
	}
	return res
}

// detectField scans one field, its key read as a label before the text.
func (sc *Scanner) detectField(f Field) (normalized, []Finding) {
	label := ""
	if f.Key != "" && !f.IsKey {
		label = keyLabel(f.Key)
	}
	if label == "" {
		return sc.detectNorm(f.Text, 0)
	}
	n, fs := sc.detectNorm(label+f.Text, 0)
	k := len(label)
	own := normalized{s: n.s[k:]}
	for _, e := range n.edits {
		e.n -= k
		e.o -= k
		own.edits = append(own.edits, e)
	}
	out := fs[:0]
	for _, x := range fs {
		if x.End <= k {
			continue
		}
		x.Start = max(0, x.Start-k)
		x.End -= k
		out = append(out, x)
	}
	return own, out
}

// keyLabel turns an object key into the label a person would write:
// "given_name" → "given name: ".
func keyLabel(key string) string {
	if len(key) > 40 {
		return ""
	}
	b := make([]byte, 0, len(key)+2)
	for i := 0; i < len(key); i++ {
		c := key[i]
		switch {
		case c == '_' || c == '-' || c == '.':
			c = ' '
		case isUpper(c):
			if i > 0 && isLower(key[i-1]) {
				b = append(b, ' ')
			}
			c += 'a' - 'A'
		case !isLower(c) && !isDigit(c) && c < 0x80:
			return ""
		}
		b = append(b, c)
	}
	return string(b) + ": "
}

// joinGroups scans adjacent parts of one message joined, and adds what the
// joined scan finds to every part it touches.
func (sc *Scanner) joinGroups(fields []Field, norms []normalized, res [][]Finding) {
	for i := 0; i < len(fields); {
		j := i + 1
		for j < len(fields) && fields[i].Group > 0 && fields[j].Group == fields[i].Group {
			j++
		}
		if j-i > 1 {
			sc.joinRange(norms[i:j], res[i:j])
		}
		i = j
	}
}

func (sc *Scanner) joinRange(norms []normalized, res [][]Finding) {
	var b strings.Builder
	offs := make([]int, len(norms)+1)
	for k, n := range norms {
		offs[k] = b.Len()
		b.WriteString(n.s)
	}
	offs[len(norms)] = b.Len()
	jn, fs := sc.detectNorm(b.String(), 0)
	added := false
	for _, f := range fs {
		s, e := jn.origStart(f.Start), jn.origEnd(f.End)
		for k := range norms {
			lo, hi := max(s, offs[k]), min(e, offs[k+1])
			if lo >= hi {
				continue
			}
			g := f
			g.Start, g.End = lo-offs[k], hi-offs[k]
			res[k] = append(res[k], g)
			added = true
		}
	}
	if added {
		for k := range res {
			res[k] = resolve(res[k])
		}
	}
}

// mapBack turns offsets into the normalized text into offsets into the
// original.
func mapBack(n normalized, fs []Finding) []Finding {
	if len(n.edits) == 0 {
		return fs
	}
	out := fs[:0]
	last := 0
	for _, f := range fs {
		f.Start, f.End = n.origStart(f.Start), n.origEnd(f.End)
		if f.Start < last {
			f.Start = last
		}
		if f.End > f.Start {
			out = append(out, f)
			last = f.End
		}
	}
	return out
}

// needle is a value to look for at other places: its lower-case words.
type needle struct {
	words []string
	typ   Type
}

// propagate finds every other occurrence, in any field and any letter
// case, of a value found with good evidence.
func propagate(idx map[string][]needle, norms []normalized, res [][]Finding) {
	if len(idx) == 0 {
		return
	}
	wp := wordPool.Get().(*[]word)
	for i := range norms {
		text := norms[i].s
		words := tokenize(text, (*wp)[:0])
		var add []Finding
		var buf [64]byte
		for k := 0; k < len(words); k++ {
			key, ok := lowerKey(&buf, text[words[k].s:words[k].e])
			if !ok {
				continue
			}
			for _, nd := range idx[string(key)] {
				if end := matchNeedle(text, words, k, nd); end >= 0 {
					add = append(add, Finding{Type: nd.typ, Start: words[k].s, End: words[end].e, Score: 0.8})
				}
			}
		}
		if len(add) > 0 {
			res[i] = resolve(append(res[i], add...))
		}
		*wp = words[:0]
	}
	wordPool.Put(wp)
}

// collectAll gathers the values worth looking for elsewhere.
func collectAll(norms []normalized, res [][]Finding) map[string][]needle {
	var idx map[string][]needle
	for i, fs := range res {
		for _, f := range fs {
			if propagated(f) {
				if idx == nil {
					idx = map[string][]needle{}
				}
				collectNeedles(idx, norms[i].s[f.Start:f.End], f)
			}
		}
	}
	return idx
}

// propagated lists the types worth finding again elsewhere in a request.
func propagated(f Finding) bool {
	switch f.Type {
	case Date, DateOfBirth, URL, Organization, Location, Secret, Title, Age, NRP:
		return false // a common word or a number that is personal only where it stands
	case Person:
		return f.Score >= 0.75
	}
	return f.Score >= 0.8
}

func collectNeedles(idx map[string][]needle, value string, f Finding) {
	ws := strings.Fields(value)
	if len(ws) == 0 || len(ws) > 6 {
		return
	}
	for k := range ws {
		ws[k] = bareLower(ws[k])
	}
	addNeedle(idx, needle{words: ws, typ: f.Type})
	if f.Type != Person || len(ws) < 2 {
		return
	}
	// Each distinctive part of a name stands for the person too
	// ("Dr Swackhamer" here, "Swackhamer" there).
	for _, w := range ws {
		if len([]rune(w)) >= 3 && distinctiveName(w) {
			addNeedle(idx, needle{words: []string{w}, typ: Person})
		}
	}
}

func addNeedle(idx map[string][]needle, nd needle) {
	if len(nd.words[0]) < 2 {
		return
	}
	for _, x := range idx[nd.words[0]] {
		if x.typ == nd.typ && strings.Join(x.words, " ") == strings.Join(nd.words, " ") {
			return
		}
	}
	idx[nd.words[0]] = append(idx[nd.words[0]], nd)
}

// matchNeedle returns the index of the last word of nd matched at word k,
// or -1.
func matchNeedle(text string, words []word, k int, nd needle) int {
	if k+len(nd.words) > len(words) {
		return -1
	}
	for m := 1; m < len(nd.words); m++ {
		w := words[k+m]
		if w.s-words[k+m-1].e > 3 || bareLower(text[w.s:w.e]) != nd.words[m] {
			return -1
		}
	}
	return k + len(nd.words) - 1
}

// lowerKey writes the bare lower-case form of an ASCII word into buf for a
// map lookup without allocating; other words take the ordinary path.
func lowerKey(buf *[64]byte, w string) ([]byte, bool) {
	w = strings.TrimSuffix(strings.TrimSuffix(w, "'s"), "’s")
	w = strings.TrimRight(w, ".'")
	if len(w) > len(buf) {
		return nil, false
	}
	for i := 0; i < len(w); i++ {
		c := w[i]
		if c >= utf8.RuneSelf {
			return []byte(lower(w)), true
		}
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	return buf[:len(w)], true
}

// bareLower lower-cases a word and drops a possessive and trailing dots.
func bareLower(w string) string {
	w = strings.TrimSuffix(strings.TrimSuffix(w, "'s"), "’s")
	return lower(strings.TrimRight(w, ".'"))
}

// distinctiveName: a name word that is no ordinary word or title, so that
// finding it alone is finding the person.
func distinctiveName(w string) bool {
	if nameTitles.Has(w) || commonCapWord(w) {
		return false
	}
	r, size := utf8.DecodeRuneInString(w)
	b := names()[string(unicode.ToUpper(r))+w[size:]]
	return b&(nameFirst|nameLast) != 0 && b&nameAmbiguous == 0 || b == 0
}
