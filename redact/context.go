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

// hitsAt matches the keyword lists against the n bytes before p.
func (st *scanState) hitsAt(p, n int) hits {
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
