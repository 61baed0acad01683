package redact

import (
	"strings"
	"unicode"
	"unicode/utf8"
	"unsafe"
)

// Context keyword lists, by id.
const (
	kSSN = iota
	kITIN
	kRouting
	kAccount
	kNPI
	kNHS
	kDEA
	kTaxDE
	kNIR
	kMRN
	kPlan
	kPassport
	kLicense
	kPhone
	kPostal
	kSwift
	kReference
	kVersion
	kDOB
	kDateEvt
	kPersonCue
	kAddressCue
	kCard
	numLists
)

var kwLists = [numLists]*[]string{
	kSSN: &ctxSSN, kITIN: &ctxITIN, kRouting: &ctxRouting, kAccount: &ctxAccount, kNPI: &ctxNPI, kNHS: &ctxNHS,
	kDEA: &ctxDEA, kTaxDE: &ctxTaxDE, kNIR: &ctxNIR, kMRN: &ctxMRN, kPlan: &ctxPlan, kPassport: &ctxPassport,
	kLicense: &ctxLicense, kPhone: &ctxPhone, kPostal: &ctxPostal, kSwift: &ctxSwift, kReference: &ctxReference,
	kVersion: &ctxVersion, kDOB: &ctxDOB, kDateEvt: &ctxDateEvt, kPersonCue: &ctxPersonCue, kAddressCue: &ctxAddressCue, kCard: &ctxCard,
}

type kwRef struct {
	list int
	kw   string
}

// kwIndex maps the longest letter run of each keyword to the keywords, so
// that a context window is matched with one map lookup per word in it
// instead of a substring search per keyword.
var kwIndex = func() map[string][]kwRef {
	m := map[string][]kwRef{}
	for id, list := range kwLists {
		for _, kw := range *list {
			key := ""
			for _, run := range letterRuns(kw) {
				if len(run) > len(key) {
					key = run
				}
			}
			m[key] = append(m[key], kwRef{list: id, kw: kw})
		}
	}
	return m
}()

// kwLens holds, by the first two letters of a key of kwIndex, a bit for
// each key length: a word's prefixes are looked up only at lengths some
// key has.
var kwLens = func() (t [27 * 27]uint64) {
	for key := range kwIndex {
		if len(key) >= 2 && len(key) < 64 {
			t[kwPair(key)] |= 1 << len(key)
		}
	}
	return t
}()

// kwPair indexes kwLens by the first two bytes of a lower-case word (a
// byte that is no ASCII letter counts as one class).
func kwPair(w string) int {
	cls := func(c byte) int {
		if c >= 'a' && c <= 'z' {
			return int(c - 'a')
		}
		return 26
	}
	return cls(w[0])*27 + cls(w[1])
}

func letterRuns(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) })
}

// lowerWindow lower-cases a short ASCII window into buf without allocating
// (the result views buf and must not outlive the call that owns it); other
// text is lower-cased the ordinary way.
func lowerWindow(buf *[64]byte, s string) string {
	if len(s) > len(buf) {
		return lower(s)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf {
			return lower(s)
		}
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	if len(s) == 0 {
		return ""
	}
	return unsafe.String(&buf[0], len(s))
}

// hits records, per keyword list, where its nearest match ends in the
// window (-1: none) and whether a digit follows the match.
type hits struct {
	end        [numLists]int
	start      [numLists]int
	digitAfter [numLists]bool
	n          int // the window's length
}

func (h hits) has(list int) bool { return h.end[list] > 0 }

// within reports a match of list that starts in the last m bytes of the
// window: the same answer as a window of m bytes, without matching again.
func (h hits) within(list, m int) bool { return h.end[list] > 0 && h.start[list] >= h.n-m }

// narrow returns the hits of the last m bytes of the window.
func (h hits) narrow(m int) hits {
	out := h
	for l := range out.end {
		if !h.within(l, m) {
			out.end[l] = 0
		}
	}
	return out
}

// nearest returns the list whose match is closest to the candidate, among
// those not followed by another number, or -1.
func (h hits) nearest(lists ...int) int {
	best, at := -1, 0
	for _, l := range lists {
		if h.end[l] > at && !h.digitAfter[l] {
			best, at = l, h.end[l]
		}
	}
	return best
}

// kwWindow is the widest context window read through the cache of
// keyword matches; wider or out-of-order windows are matched directly.
const kwWindow = 64

// directHits turns the cache off (for the test that compares both).
var directHits = false

// kwHit is a keyword match at [start, end) of the text.
type kwHit struct{ list, start, end int }

// hitsAt matches the keyword lists against the n bytes before p. The
// detectors ask for windows in text order, overlapping when numbers stand
// close together (a run of identifiers, ISO timestamps): each letter run is
// looked up once per text, and a window collects the matches inside it.
func (st *scanState) hitsAt(p, n int) hits {
	if directHits || n > kwWindow || p < st.kwLastP || st.kwBroken || p-n < st.kwLo && p-n < st.kwPos {
		return st.hitsDirect(p, n)
	}
	st.kwLastP = p
	st.kwScan(p, n)
	if st.kwBroken {
		return st.hitsDirect(p, n)
	}
	var h hits
	ws := max(0, p-n)
	h.n = p - ws
	for _, m := range st.kwHits {
		if m.start < ws || m.end > p {
			continue
		}
		if rel := m.end - ws; rel > h.end[m.list] {
			h.end[m.list] = rel
			h.start[m.list] = m.start - ws
			h.digitAfter[m.list] = strings.ContainsAny(st.text[m.end:p], "0123456789")
		}
	}
	return h
}

// kwScan finds the keyword matches of the letter runs of the window [p-n,
// p) that no earlier window covered. The runs read are those of [kwLo,
// kwPos): a window that starts past kwPos starts a new range, and the
// matches of the old one are forgotten.
func (st *scanState) kwScan(p, n int) {
	if p-n >= st.kwPos {
		st.kwLo, st.kwPos = p-n, p-n
		st.kwHits = st.kwHits[:0]
	} else if len(st.kwHits) > 32 {
		// Windows only move forward and span kwWindow at most: a match
		// that ends before p-kwWindow is in no later window.
		keep := st.kwHits[:0]
		for _, m := range st.kwHits {
			if m.end > p-kwWindow {
				keep = append(keep, m)
			}
		}
		st.kwHits = keep
	}
	i := st.kwPos
	for i < p {
		size := letterAt(st.text[i:p])
		if size < 0 {
			i -= size
			continue
		}
		start := i
		for i < p && size > 0 {
			i += size
			size = letterAt(st.text[i:p])
		}
		st.kwRun(start, i)
	}
	st.kwPos = max(st.kwPos, p)
}

// letterAt returns the size of the letter that starts s, or minus the size
// of what else starts it (0 for an empty s); ASCII without decoding.
func letterAt(s string) int {
	if len(s) == 0 {
		return 0
	}
	if c := s[0]; c < utf8.RuneSelf {
		if c|0x20 >= 'a' && c|0x20 <= 'z' {
			return 1
		}
		return -1
	}
	r, size := utf8.DecodeRuneInString(s)
	if unicode.IsLetter(r) {
		return size
	}
	return -size
}

// kwRun looks up the letter run [s, e) and its prefixes (for compounds:
// Telefonnummer) and records where their keywords occur around it.
func (st *scanState) kwRun(s, e int) {
	var wb [64]byte
	word := lowerSameLen(&wb, st.text[s:e])
	if len(word) != e-s {
		st.kwBroken = true // too long for the buffer: match the windows directly
		return
	}
	if len(word) < 2 {
		return
	}
	lens := kwLens[kwPair(word)]
	for k := len(word); k >= 2; k-- {
		if k < len(word) && k < 3 {
			break
		}
		if k >= 64 || lens&(1<<k) == 0 {
			if len(word) > 24 {
				break
			}
			continue // no key has this length and these first letters
		}
		for _, ref := range kwIndex[word[:k]] {
			lo, hi := max(0, s-len(ref.kw)), min(len(st.text), s+len(ref.kw)+1)
			var ab [64]byte
			area := lowerSameLen(&ab, st.text[lo:hi])
			if len(area) != hi-lo {
				st.kwBroken = true
				return
			}
			for off := 0; ; {
				j := strings.Index(area[off:], ref.kw)
				if j < 0 {
					break
				}
				a := lo + off + j
				st.kwHits = append(st.kwHits, kwHit{list: ref.list, start: a, end: a + len(ref.kw)})
				off += j + 1
			}
		}
		if len(word) > 24 {
			break
		}
	}
}

// lowerSameLen lower-cases s into buf keeping its length: a letter whose
// lower case is written with another number of bytes, and a byte that is
// no whole character (a window may cut one), stay as they are. It returns
// "" when s does not fit.
func lowerSameLen(buf *[64]byte, s string) string {
	if len(s) > len(buf) {
		return ""
	}
	n := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 'A' && c <= 'Z' {
				c += 'a' - 'A'
			}
			buf[n] = c
			n, i = n+1, i+1
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if lr := unicode.ToLower(r); r != utf8.RuneError && lr != r && utf8.RuneLen(lr) == size {
			utf8.EncodeRune(buf[n:], lr)
		} else {
			copy(buf[n:], s[i:i+size])
		}
		n, i = n+size, i+size
	}
	return unsafe.String(&buf[0], n)
}

// hitsDirect matches the keyword lists against the n bytes before p.
func (st *scanState) hitsDirect(p, n int) hits {
	var h hits
	var buf [64]byte
	ctx := lowerWindow(&buf, st.text[max(0, p-n):p])
	h.n = len(ctx)
	i := 0
	for i < len(ctx) {
		r, size := utf8.DecodeRuneInString(ctx[i:])
		if !unicode.IsLetter(r) {
			i += size
			continue
		}
		start := i
		for i < len(ctx) {
			r, size := utf8.DecodeRuneInString(ctx[i:])
			if !unicode.IsLetter(r) {
				break
			}
			i += size
		}
		word := ctx[start:i]
		// The word itself, and its prefixes for compounds (Telefonnummer).
		for k := len(word); k >= 2; k-- {
			if k < len(word) && k < 3 {
				break
			}
			for _, ref := range kwIndex[word[:k]] {
				lo := max(0, start-len(ref.kw))
				hi := min(len(ctx), start+len(ref.kw)+1)
				if j := strings.LastIndex(ctx[lo:hi], ref.kw); j >= 0 {
					end := lo + j + len(ref.kw)
					if end > h.end[ref.list] {
						h.end[ref.list] = end
						h.start[ref.list] = end - len(ref.kw)
						h.digitAfter[ref.list] = strings.ContainsAny(ctx[end:], "0123456789")
					}
				}
			}
			if len(word) > 24 {
				break
			}
		}
	}
	return h
}
