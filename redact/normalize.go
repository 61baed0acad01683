package redact

import (
	"html"
	"sort"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// normalized is a text as the detectors see it and the way back to the
// original bytes. When nothing needed normalizing, s is the original text
// and edits is empty: no per-byte map is ever kept.
type normalized struct {
	s     string
	edits []edit // sorted by n, non-overlapping
	ascii bool   // s is all ASCII: no CJK or other script to look at
}

// edit records that normalized bytes [n, n+nl) stand for original bytes
// [o, o+ol).
type edit struct{ n, nl, o, ol int }

// origStart maps a normalized start offset to the original text.
func (m *normalized) origStart(p int) int {
	if len(m.edits) == 0 {
		return p
	}
	i := sort.Search(len(m.edits), func(i int) bool { return m.edits[i].n > p }) - 1
	if i < 0 {
		return p
	}
	e := m.edits[i]
	if p < e.n+e.nl {
		return e.o
	}
	return p - (e.n + e.nl) + e.o + e.ol
}

// origEnd maps a normalized end offset (exclusive) to the original text.
func (m *normalized) origEnd(p int) int {
	if len(m.edits) == 0 {
		return p
	}
	i := sort.Search(len(m.edits), func(i int) bool { return m.edits[i].n >= p }) - 1
	if i < 0 {
		return p
	}
	e := m.edits[i]
	if p <= e.n+e.nl {
		return e.o + e.ol
	}
	return p - (e.n + e.nl) + e.o + e.ol
}

// normBuilder writes the normalized text lazily: nothing is allocated until
// the first change.
type normBuilder struct {
	src   string
	out   []byte
	last  int // src[last:] not yet copied
	edits []edit
}

func (b *normBuilder) replace(s, e int, with string) {
	if b.out == nil {
		b.out = make([]byte, 0, len(b.src)+16)
	}
	b.out = append(b.out, b.src[b.last:s]...)
	b.edits = append(b.edits, edit{n: len(b.out), nl: len(with), o: s, ol: e - s})
	b.out = append(b.out, with...)
	b.last = e
}

func (b *normBuilder) result() normalized {
	if b.out == nil {
		return normalized{s: b.src}
	}
	b.out = append(b.out, b.src[b.last:]...)
	return normalized{s: string(b.out), edits: b.edits}
}

// normalize prepares text for detection: Unicode NFKC (full-width forms,
// compatibility spaces), format characters removed (zero-width space and
// joiners, soft hyphen, bidi controls), every Unicode space a plain space,
// digits of other scripts as ASCII digits, Cyrillic and Greek look-alike
// letters folded to Latin inside words that also hold Latin letters or
// digits, and HTML entities and percent-escapes of printable ASCII decoded.
func normalize(text string) normalized {
	high, other := scanBytes(text)
	if !high && !other {
		return normalized{s: text, ascii: true}
	}
	n := normalizeAll(text)
	n.ascii = !high && !hasHighByte(n.s) // an entity may decode to any character
	return n
}

// scanBytes reports whether text holds bytes of multi-byte characters, and
// '%' or '&' (escapes to decode). It reads eight bytes at a time: every
// text of a request passes here, found in the cache or not.
func scanBytes(text string) (high, escapes bool) {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	var hi, esc uint64 // high bits: of some byte; of a zero byte in w^'%' or w^'&'
	i := 0
	for ; i+8 <= len(text); i += 8 {
		b := text[i : i+8]
		w := uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
			uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
		pct, amp := w^('%'*ones), w^('&'*ones)
		hi |= w
		esc |= (pct-ones)&^pct | (amp-ones)&^amp
	}
	high, escapes = hi&highs != 0, esc&highs != 0
	for ; i < len(text); i++ {
		if c := text[i]; c >= utf8.RuneSelf {
			high = true
		} else if c == '%' || c == '&' {
			escapes = true
		}
	}
	return high, escapes
}

func normalizeAll(text string) normalized {
	b := normBuilder{src: text}
	var buf [utf8.UTFMax * 4]byte
	for i := 0; i < len(text); {
		c := text[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '%' && i+2 < len(text) && isHexByte(text[i+1]) && isHexByte(text[i+2]):
				v := hexVal(text[i+1])<<4 | hexVal(text[i+2])
				if v > ' ' && v < 0x7f && v != '%' {
					b.replace(i, i+3, string(rune(v)))
					i += 3
					continue
				}
			case c == '&':
				if n := entityLen(text[i:]); n > 0 {
					u := html.UnescapeString(text[i : i+n])
					if u != text[i:i+n] {
						b.replace(i, i+n, foldString(u))
						i += n
						continue
					}
				}
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(text[i:])
		if out, changed := foldRune(text, i, r, size, buf[:0]); changed {
			b.replace(i, i+size, string(out))
		}
		i += size
	}
	return b.result()
}

// foldRune returns the normalized form of the rune r at text[i:i+size] and
// whether it differs.
func foldRune(text string, i int, r rune, size int, buf []byte) ([]byte, bool) {
	switch {
	case r == utf8.RuneError && size == 1:
		return buf, false
	case r == '\u2028' || r == '\u2029' || r == '\u0085':
		return append(buf, '\n'), true
	case unicode.Is(unicode.Cf, r):
		return buf, true // removed
	case unicode.IsSpace(r):
		return append(buf, ' '), true
	}
	if d, ok := digitValue(r); ok {
		return append(buf, '0'+byte(d)), true
	}
	if l, ok := confusables[r]; ok && latinNeighbour(text, i, size) {
		return append(buf, l), true
	}
	var rb [utf8.UTFMax]byte
	n := utf8.EncodeRune(rb[:], r)
	if norm.NFKC.IsNormal(rb[:n]) {
		return buf, false
	}
	out := norm.NFKC.Append(buf, rb[:n]...)
	// NFKC may itself produce spaces of other kinds: keep them plain.
	for k := 0; k < len(out); k++ {
		if out[k] == '\t' {
			out[k] = ' '
		}
	}
	return out, true
}

// foldString normalizes a short decoded string (an HTML entity's value).
func foldString(s string) string {
	var out []byte
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r < utf8.RuneSelf {
			out = append(out, byte(r))
		} else if f, changed := foldRune(s, i, r, size, nil); changed {
			out = append(out, f...)
		} else {
			out = append(out, s[i:i+size]...)
		}
		i += size
	}
	return string(out)
}

// entityLen returns the length of an HTML character reference at the start
// of s ("&amp;", "&#64;", "&#x40;"), or 0.
func entityLen(s string) int {
	j := 1
	if len(s) > 1 && s[1] == '#' {
		j = 2
		if len(s) > 2 && (s[2] == 'x' || s[2] == 'X') {
			j = 3
		}
	}
	start := j
	for ; j < len(s) && j <= 32; j++ {
		c := s[j]
		if c == ';' {
			if j == start {
				return 0
			}
			return j + 1
		}
		if !isAlnum(c) {
			return 0
		}
	}
	return 0
}

func isHexByte(c byte) bool { return isDigit(c) || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

func hexVal(c byte) byte {
	switch {
	case isDigit(c):
		return c - '0'
	case c >= 'a':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

// digitZeros are the zeros of the decimal digit blocks folded to ASCII.
var digitZeros = []rune{0x660, 0x6F0, 0x7C0, 0x966, 0x9E6, 0xA66, 0xAE6, 0xB66, 0xBE6, 0xC66, 0xCE6, 0xD66, 0xE50, 0xED0, 0xF20, 0x1040, 0x17E0, 0x1810, 0xFF10}

func digitValue(r rune) (int, bool) {
	if r < 0x660 {
		return 0, false
	}
	for _, z := range digitZeros {
		if r >= z && r <= z+9 {
			return int(r - z), true
		}
	}
	return 0, false
}

// confusables are Cyrillic and Greek letters drawn like Latin ones.
var confusables = map[rune]byte{
	'а': 'a', 'в': 'b', 'е': 'e', 'к': 'k', 'м': 'm', 'н': 'h', 'о': 'o', 'р': 'p', 'с': 'c', 'т': 't', 'у': 'y',
	'х': 'x', 'і': 'i', 'ј': 'j', 'ѕ': 's', 'ԁ': 'd', 'ԛ': 'q', 'ԝ': 'w', 'ӏ': 'l',
	'А': 'A', 'В': 'B', 'Е': 'E', 'К': 'K', 'М': 'M', 'Н': 'H', 'О': 'O', 'Р': 'P', 'С': 'C', 'Т': 'T', 'Х': 'X',
	'І': 'I', 'Ј': 'J', 'Ѕ': 'S', 'У': 'Y', 'Ԍ': 'G',
	'α': 'a', 'ο': 'o', 'ρ': 'p', 'ν': 'v', 'ι': 'i', 'κ': 'k', 'υ': 'u', 'τ': 't',
	'Α': 'A', 'Β': 'B', 'Ε': 'E', 'Ζ': 'Z', 'Η': 'H', 'Ι': 'I', 'Κ': 'K', 'Μ': 'M', 'Ν': 'N', 'Ο': 'O', 'Ρ': 'P',
	'Τ': 'T', 'Υ': 'Y', 'Χ': 'X',
}

// latinNeighbour reports whether the word around text[i:i+size] holds an
// ASCII letter or digit (or '@'): a Cyrillic 'а' there is a disguise, in a
// Russian word it is a letter.
func latinNeighbour(text string, i, size int) bool {
	for k := i - 1; k >= 0 && k >= i-64; k-- {
		c := text[k]
		if c < utf8.RuneSelf {
			if isAlnum(c) || c == '@' {
				return true
			}
			if c != '.' && c != '-' && c != '_' {
				break
			}
		}
	}
	for k := i + size; k < len(text) && k < i+size+64; k++ {
		c := text[k]
		if c < utf8.RuneSelf {
			if isAlnum(c) || c == '@' {
				return true
			}
			if c != '.' && c != '-' && c != '_' {
				break
			}
		}
	}
	return false
}
