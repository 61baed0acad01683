package tokens

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Character classes of the encodings' pre-tokenizer patterns, with the
// regex engine's definitions: \p{L}, \p{N}, \p{M} from package unicode and
// \s as unicode.IsSpace.
const (
	cL  uint8 = 1 << iota // \p{L}
	cN                    // \p{N}
	cM                    // \p{M}
	cS                    // \s
	cX                    // [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]
	cY                    // [\p{Ll}\p{Lm}\p{Lo}\p{M}]
	cNL                   // \r or \n
)

var asciiClass [utf8.RuneSelf]uint8

func init() {
	for r := rune(0); r < utf8.RuneSelf; r++ {
		asciiClass[r] = classOf(r)
	}
}

func classOf(r rune) uint8 {
	var c uint8
	switch {
	case unicode.IsLetter(r):
		c = cL
		switch {
		case unicode.In(r, unicode.Lu, unicode.Lt):
			c |= cX
		case unicode.Is(unicode.Ll, r):
			c |= cY
		default: // Lm, Lo
			c |= cX | cY
		}
	case unicode.IsMark(r):
		c = cM | cX | cY
	case unicode.IsNumber(r):
		c = cN
	}
	if unicode.IsSpace(r) {
		c |= cS
	}
	if r == '\r' || r == '\n' {
		c |= cNL
	}
	return c
}

// at returns the class and byte size of the rune at s[i]; s is valid UTF-8.
func at(s string, i int) (uint8, int) {
	if b := s[i]; b < utf8.RuneSelf {
		return asciiClass[b], 1
	}
	r, n := utf8.DecodeRuneInString(s[i:])
	return classOf(r), n
}

// run returns the end of the run of runes from i whose class has a bit of want.
func run(s string, i int, want uint8) int {
	for i < len(s) {
		c, n := at(s, i)
		if c&want == 0 {
			break
		}
		i += n
	}
	return i
}

// isPrefix reports [^\r\n\p{L}\p{N}] at i, and its size.
func isPrefix(s string, i int) (bool, int) {
	c, n := at(s, i)
	return c&(cL|cN|cNL) == 0, n
}

// contraction matches (?i:'s|'t|'re|'ve|'m|'ll|'d)? at i (with ſ for s,
// as the pattern's case folding has it) and returns the end.
func contraction(s string, i int) int {
	if i+1 >= len(s) || s[i] != '\'' {
		return i
	}
	switch s[i+1] {
	case 's', 'S', 't', 'T', 'm', 'M', 'd', 'D':
		return i + 2
	case 'r', 'R', 'v', 'V':
		if i+2 < len(s) && (s[i+2] == 'e' || s[i+2] == 'E') {
			return i + 3
		}
	case 'l', 'L':
		if i+2 < len(s) && (s[i+2] == 'l' || s[i+2] == 'L') {
			return i + 3
		}
	}
	if strings.HasPrefix(s[i+1:], "ſ") {
		return i + 3
	}
	return i
}

// digits matches \p{N}{1,3} at i, or returns -1.
func digits(s string, i int) int {
	j := i
	for k := 0; k < 3 && j < len(s); k++ {
		c, n := at(s, j)
		if c&cN == 0 {
			break
		}
		j += n
	}
	if j == i {
		return -1
	}
	return j
}

// symbols matches " ?[^\s\p{L}\p{N}]+" followed by a run of tail bytes
// ("\r\n" or "\r\n/"), or returns -1.
func symbols(s string, i int, slash bool) int {
	j := i
	if s[j] == ' ' {
		j++
	}
	k := j
	for k < len(s) {
		c, n := at(s, k)
		if c&(cS|cL|cN) != 0 {
			break
		}
		k += n
	}
	if k == j {
		return -1
	}
	for k < len(s) && (s[k] == '\r' || s[k] == '\n' || slash && s[k] == '/') {
		k++
	}
	return k
}

// spaces matches \s*[\r\n]+ | \s+(?!\S) | \s+ at i, with backtracking: the
// first runs up to and including the run's last line break; the second
// leaves the run's last space to the next piece unless the text ends.
func spaces(s string, i int) int {
	w := run(s, i, cS)
	if w == i { // unreachable: every other rune matches an earlier branch
		_, n := at(s, i)
		return i + n
	}
	for p := w - 1; p >= i; p-- {
		if s[p] == '\n' || s[p] == '\r' {
			return p + 1
		}
	}
	if w == len(s) {
		return w
	}
	_, last := utf8.DecodeLastRuneInString(s[i:w])
	if w-last > i {
		return w - last
	}
	return w
}
