package redact

import (
	"sort"
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
	// NoScan: the text holds no data of its own (an API setting's short
	// number, which the caller has shown no detector finds anything in):
	// it is not scanned, but a value found elsewhere is still found in it.
	NoScan bool
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
// every other occurrence in any field, in any letter case. With
// Options.MaxFindings set, a request holding more findings is refused with
// ErrTooManyFindings as soon as the count passes it, which bounds the
// memory the scan may take.
func (sc *Scanner) Inspect(fields []Field) ([][]Finding, error) {
	return sc.inspect(fields, &limit{max: sc.opts.MaxFindings})
}

// InspectIn is Inspect with the scanner's cache (Options.CacheEntries)
// read and filled in the scope its parts name (the gateway's: tenant,
// app): texts the scope sent before are not scanned again. Only a scope's
// own earlier texts are found in the cache, never another scope's.
func (sc *Scanner) InspectIn(fields []Field, scope ...string) ([][]Finding, error) {
	return sc.inspect(fields, &limit{max: sc.opts.MaxFindings, cache: sc.cache.in(scope)})
}

func (sc *Scanner) inspect(fields []Field, lim *limit) ([][]Finding, error) {
	res := make([][]Finding, len(fields))
	norms := make([]normalized, len(fields))
	for i, f := range fields {
		var err error
		if norms[i], res[i], err = sc.detectField(f, lim); err != nil {
			return nil, err
		}
	}
	idx := collectAll(norms, res) // before joins: clipped parts are no values to look for
	if err := sc.joinGroups(fields, norms, res, lim); err != nil {
		return nil, err
	}
	if err := propagate(idx, norms, res, lim); err != nil {
		return nil, err
	}
	for i := range res {
		res[i] = mapBack(norms[i], res[i])
	}
	return res, nil
}

// detectField scans one field, its key read as a label before the text.
func (sc *Scanner) detectField(f Field, lim *limit) (normalized, []Finding, error) {
	if f.NoScan {
		return normalize(f.Text), nil, nil
	}
	label := ""
	if f.Key != "" && !f.IsKey {
		label = keyLabel(f.Key)
	}
	if label == "" {
		return sc.detectText(f.Text, lim)
	}
	before := lim.n
	n, fs, err := sc.scanText(label+f.Text, lim) // a labelled value is not kept (see cache)
	if err != nil {
		return n, nil, err
	}
	k := len(label)
	if !strings.HasPrefix(n.s, label) {
		// The text's start changed the label's normalization: no label.
		lim.n = before
		return sc.detectText(f.Text, lim)
	}
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
	return own, out, nil
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
	l := string(b) + ": "
	if n := normalize(l); n.s != l || len(n.edits) > 0 {
		return "" // normalization would change the label (a format character, a compatibility form)
	}
	return l
}

// joinGroups scans adjacent parts of one message joined, and adds what the
// joined scan finds to every part it touches. A long run of parts is joined
// in windows of parts about segWindow long, each starting with the last
// parts (at least segOverlap bytes) of the one before, so that no joined
// text is ever much longer than a window.
func (sc *Scanner) joinGroups(fields []Field, norms []normalized, res [][]Finding, lim *limit) error {
	for i := 0; i < len(fields); {
		j := i + 1
		for j < len(fields) && fields[i].Group > 0 && fields[j].Group == fields[i].Group {
			j++
		}
		for a := i; j-i > 1 && a < j-1; {
			b, size := a, 0
			for b < j && (b-a < 2 || size+len(norms[b].s) <= segWindow) {
				size += len(norms[b].s)
				b++
			}
			if err := sc.joinRange(norms[a:b], res[a:b], lim); err != nil {
				return err
			}
			if b == j {
				break
			}
			a = max(a+1, overlapStart(norms, a, b))
		}
		i = j
	}
	return nil
}

// overlapStart is where the window after norms[a:b] starts: at the last
// parts of it that hold at least segOverlap bytes.
func overlapStart(norms []normalized, a, b int) int {
	k, size := b, 0
	for k > a+1 && size < segOverlap {
		k--
		size += len(norms[k].s)
	}
	return k
}

// joinRange scans the parts joined. The joined scan finds again what the
// parts hold, so it has a limit of its own; what it adds to the parts counts
// against lim.
func (sc *Scanner) joinRange(norms []normalized, res [][]Finding, lim *limit) error {
	var b strings.Builder
	offs := make([]int, len(norms)+1)
	size := 0
	for _, n := range norms {
		size += len(n.s)
	}
	b.Grow(size)
	for k, n := range norms {
		offs[k] = b.Len()
		b.WriteString(n.s)
	}
	offs[len(norms)] = b.Len()
	jn, fs, err := sc.detectText(b.String(), &limit{max: lim.max, cache: lim.cache})
	if err != nil {
		return err
	}
	before := 0
	for _, r := range res {
		before += len(r)
	}
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
	if !added {
		return nil
	}
	after := 0
	for k := range res {
		res[k] = resolve(res[k])
		after += len(res[k])
	}
	return lim.take(after - before)
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
// case, of a value found with good evidence. A long text is read in windows
// (see detectText), so that its words are never all held at once; each
// addition that lands where nothing was found yet counts against lim.
func propagate(idx map[string][]needle, norms []normalized, res [][]Finding, lim *limit) error {
	if len(idx) == 0 {
		return nil
	}
	wp := wordPool.Get().(*[]word)
	defer wordPool.Put(wp)
	for i := range norms {
		text := norms[i].s
		var add []Finding
		for lo := 0; lo < len(text); {
			hi := windowEnd(text, lo)
			var fresh int
			add, fresh = propagateWindow(idx, text, lo, hi, res[i], add, wp)
			if err := lim.take(fresh); err != nil {
				return err
			}
			lo = hi
		}
		if len(add) > 0 {
			res[i] = resolve(append(res[i], add...))
		}
	}
	return nil
}

// propagateWindow appends the needles' matches that start in [lo, hi) of
// text, reading up to segOverlap bytes past hi, and says how many of them
// start outside every finding in have (sorted by position).
func propagateWindow(idx map[string][]needle, text string, lo, hi int, have, add []Finding, wp *[]word) ([]Finding, int) {
	end := len(text)
	if hi < len(text) {
		end = cutAt(text, hi+segOverlap)
	}
	part := text[lo:end]
	words := tokenize(part, (*wp)[:0])
	var buf [64]byte
	fresh, h := 0, sort.Search(len(have), func(j int) bool { return have[j].End > lo })
	for k := 0; k < len(words) && lo+words[k].s < hi; k++ {
		key, ok := lowerKey(&buf, part[words[k].s:words[k].e])
		if !ok {
			continue
		}
		for _, nd := range idx[string(key)] {
			if e := matchNeedle(part, words, k, nd); e >= 0 {
				f := Finding{Type: nd.typ, Start: lo + words[k].s, End: lo + words[e].e, Score: 0.8}
				for h < len(have) && have[h].End <= f.Start {
					h++
				}
				if h == len(have) || have[h].Start > f.Start {
					fresh++
				}
				add = append(add, f)
			}
		}
	}
	*wp = words[:0]
	return add, fresh
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
