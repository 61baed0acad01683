package redact

import (
	"net/netip"
	"strings"
	"unicode"
	"unicode/utf8"
)

// word is one token, trimmed of surrounding punctuation, with what the
// detectors ask of it computed once.
type word struct {
	s, e  int
	flags uint8
}

const (
	wDigit  uint8 = 1 << iota // holds a digit
	wUpper                    // holds an upper-case ASCII letter
	wAssign                   // holds '=' or ':'
	wAt                       // holds '@'
	wHigh                     // holds a byte of a multi-byte UTF-8 character
)

// Byte classes for the tokenizer.
const (
	cSpace uint8 = 1 << iota // white space: always a boundary
	cHard                    // punctuation that always bounds a token: | ^ ~ ; < > [ ] { } " ` \
	cSoft                    // punctuation that bounds a token unless the token's shape needs it: : = , ( ) '
	cLead                    // trimmed at a token's start
	cTail                    // trimmed at a token's end
)

var byteClass = func() (t [256]uint8) {
	for _, c := range []byte(" \n\t\r\f\v") {
		t[c] |= cSpace
	}
	for _, c := range []byte("|^~;<>[]{}\"`\\") {
		t[c] |= cHard
	}
	for _, c := range []byte(":=,()'") {
		t[c] |= cSoft
	}
	for _, c := range []byte("([{<\"'`*") {
		t[c] |= cLead
	}
	for _, c := range []byte(")]}>\"'`,;:!?.*") {
		t[c] |= cTail
	}
	return t
}()

// byteFlags holds the word flags that each byte sets.
var byteFlags = func() (t [256]uint8) {
	for c := range t {
		switch {
		case c >= '0' && c <= '9':
			t[c] = wDigit
		case c >= 'A' && c <= 'Z':
			t[c] = wUpper
		case c == '=' || c == ':':
			t[c] = wAssign
		case c == '@':
			t[c] = wAt
		case c >= utf8.RuneSelf:
			t[c] = wHigh
		}
	}
	return t
}()

func isSpace(c byte) bool { return byteClass[c]&cSpace != 0 }

// tokenize splits text into tokens bounded by white space and by
// punctuation, so that identifiers in CSV rows, HL7 segments, JSON or XML,
// key=value logs and Markdown tables stand alone. URLs are kept whole (their
// parts are scanned separately); IPv6 addresses, times, phone numbers in
// parentheses and names with apostrophes keep the punctuation they need.
func tokenize(text string, out []word) []word {
	n := len(text)
	i := 0
	for i < n {
		for i < n && byteClass[text[i]]&(cSpace|cHard) != 0 {
			i++
		}
		if i >= n {
			break
		}
		start := i
		var flags, classes uint8
		url := urlStart(text, i)
		for i < n {
			c := text[i]
			cl := byteClass[c]
			if cl&(cSpace|cHard) != 0 && (cl&cSpace != 0 || !(url && (c == '~' || c == '[' || c == ']'))) {
				break
			}
			flags |= byteFlags[c]
			classes |= cl
			i++
		}
		soft := classes&cSoft != 0
		if !soft || url || keepSoft(text[start:i]) {
			out = appendTrimmed(out, text, start, i, flags)
			continue
		}
		out = splitSoft(out, text, start, i)
	}
	return out
}

// urlStart reports whether a URL begins at text[i].
func urlStart(text string, i int) bool {
	c := text[i] | 0x20
	if c != 'h' && c != 'w' && c != 'f' {
		return false
	}
	rest := text[i:min(len(text), i+8)]
	return hasPrefixFold(rest, "http://") || hasPrefixFold(rest, "https://") || hasPrefixFold(rest, "www.") ||
		hasPrefixFold(rest, "ftp://")
}

func hasPrefixFold(s, prefix string) bool {
	if len(s) < len(prefix) {
		return false
	}
	for i := 0; i < len(prefix); i++ {
		if s[i]|0x20 != prefix[i] && s[i] != prefix[i] {
			return false
		}
	}
	return true
}

// keepSoft reports whether a chunk's soft punctuation belongs to it: an
// IPv6 address, a time or ratio, a phone number with parentheses.
func keepSoft(chunk string) bool {
	chunk = strings.TrimRight(chunk, ".,;)")
	digits, letters, other := false, false, false
	colons := 0
	for k := 0; k < len(chunk); k++ {
		switch c := chunk[k]; {
		case isDigit(c):
			digits = true
		case c == ':':
			colons++
		case c == '.':
		case isUpper(c) || isLower(c):
			letters = true
		default:
			other = true
		}
	}
	if !digits && colons == 0 {
		return false // words with commas, quotes or '=': split them
	}
	if !letters && !other {
		return colons > 0 || digits // a time, a ratio, a plain number
	}
	if colons >= 2 && strings.IndexAny(chunk, ",='") < 0 {
		c := strings.Trim(chunk, "[]().,")
		if k := strings.Index(c, "]:"); k > 0 {
			c = c[:k]
		}
		c = strings.TrimPrefix(c, "[")
		if k := strings.IndexByte(c, '/'); k > 0 {
			c = c[:k]
		}
		if a, err := netip.ParseAddr(c); err == nil && a.Is6() {
			return true
		}
	}
	if len(chunk) >= 13 && chunk[10] == 'T' && numericDateShape(chunk[:10]) {
		return true // an ISO date and time
	}
	if !letters || strings.IndexAny(chunk, "xX") > 0 || strings.Contains(chunk, "ext") {
		body := chunk
		if k := extensionAt(chunk); k > 0 {
			body = chunk[:k] // a phone number with its extension: (415)555-0132x12
		}
		for k := 0; k < len(body); k++ {
			if c := body[k]; !isDigit(c) && strings.IndexByte("+-.()/", c) < 0 {
				return false
			}
		}
		return true
	}
	return false
}

// splitSoft cuts a chunk at its soft punctuation, keeping an apostrophe
// between two letters (O'Brien, l'Hôpital).
func splitSoft(out []word, text string, start, end int) []word {
	s := start
	for k := start; k < end; k++ {
		c := text[k]
		if byteClass[c]&cSoft == 0 {
			continue
		}
		if c == '\'' && k > start && k+1 < end && isLetterAt(text, k-1, true) && isLetterAt(text, k+1, false) {
			continue
		}
		if k > s {
			out = appendTrimmed(out, text, s, k, flagsOf(text[s:k]))
		}
		s = k + 1
	}
	if end > s {
		out = appendTrimmed(out, text, s, end, flagsOf(text[s:end]))
	}
	return out
}

func isLetterAt(text string, k int, before bool) bool {
	c := text[k]
	if c < utf8.RuneSelf {
		return isUpper(c) || isLower(c)
	}
	var r rune
	if before {
		r, _ = utf8.DecodeLastRuneInString(text[:k+1])
	} else {
		r, _ = utf8.DecodeRuneInString(text[k:])
	}
	return unicode.IsLetter(r)
}

func flagsOf(s string) uint8 {
	var flags uint8
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			flags |= wDigit
		case c >= 'A' && c <= 'Z':
			flags |= wUpper
		case c == '=' || c == ':':
			flags |= wAssign
		case c == '@':
			flags |= wAt
		case c >= utf8.RuneSelf:
			flags |= wHigh
		}
	}
	return flags
}

// appendTrimmed trims leading and trailing punctuation and appends the
// token if anything is left.
func appendTrimmed(out []word, text string, s, e int, flags uint8) []word {
	for s < e && byteClass[text[s]]&cLead != 0 {
		s++
	}
	for e > s {
		if byteClass[text[e-1]]&cTail != 0 {
			e--
			continue
		}
		if text[e-1] >= utf8.RuneSelf {
			r, size := utf8.DecodeLastRuneInString(text[s:e])
			if unicode.IsPunct(r) {
				e -= size
				continue
			}
		}
		break
	}
	for s < e && text[s] >= utf8.RuneSelf {
		r, size := utf8.DecodeRuneInString(text[s:e])
		if !unicode.IsPunct(r) {
			break
		}
		s += size
	}
	if e <= s {
		return out
	}
	if flags&wHigh != 0 && hasHighByte(text[s:e]) {
		return splitScripts(out, text, s, e)
	}
	return append(out, word{s, e, flags})
}

func hasHighByte(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return true
		}
	}
	return false
}

// isCJK: scripts written without spaces between words.
func isCJK(r rune) bool {
	return r >= 0x2E80 && (unicode.Is(unicode.Han, r) || unicode.Is(unicode.Hiragana, r) ||
		unicode.Is(unicode.Katakana, r) || unicode.Is(unicode.Hangul, r))
}

// splitScripts cuts a token where CJK text meets other letters or digits
// ("电话13800138000"), and drops CJK punctuation inside it.
func splitScripts(out []word, text string, s, e int) []word {
	seg, segCJK := s, false
	first := true
	for k := s; k < e; {
		r, size := utf8.DecodeRuneInString(text[k:e])
		if unicode.IsPunct(r) && r >= 0x3000 {
			if k > seg {
				out = append(out, word{seg, k, flagsOf(text[seg:k])})
			}
			k += size
			seg, first = k, true
			continue
		}
		c := isCJK(r)
		if first {
			segCJK, first = c, false
		} else if c != segCJK {
			out = append(out, word{seg, k, flagsOf(text[seg:k])})
			seg, segCJK = k, c
		}
		k += size
	}
	if e > seg {
		out = append(out, word{seg, e, flagsOf(text[seg:e])})
	}
	return out
}
