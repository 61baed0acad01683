package tokens

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/dlclark/regexp2/v2"
)

// The encodings' patterns, as the tokenizer module compiles them. Wrapped
// in a group so that regexp2 runs its backtracking interpreter rather than
// the module's generated matcher (which differs on whitespace runs with
// more than one line break: it backtracks \s* to the FIRST break, where a
// backtracking engine, tiktoken's included, stops at the LAST).
const (
	patO200k  = `[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+`
	patCl100k = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
)

var referenceSplitters = map[string]*regexp2.Regexp{
	"o200k":  regexp2.MustCompile("(?:"+patO200k+")", regexp2.None),
	"cl100k": regexp2.MustCompile("(?:"+patCl100k+")", regexp2.None),
}

var splitters = map[string]func(string, int) int{"o200k": nextO200k, "cl100k": nextCl100k}

func referencePieces(t testing.TB, re *regexp2.Regexp, s string) []string {
	var out []string
	m, err := re.FindStringMatch(s)
	for ; m != nil && err == nil; m, err = re.FindNextMatch(m) {
		out = append(out, m.String())
	}
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func ourPieces(next func(string, int) int, s string) []string {
	var out []string
	for i := 0; i < len(s); {
		j := next(s, i)
		out = append(out, s[i:j])
		i = j
	}
	return out
}

// alphabet mixes every class the patterns distinguish: ASCII, upper and
// lower case, titlecase, modifier and other letters, combining marks,
// digits of several scripts, contractions, the long s, line breaks and
// Unicode spaces, slashes, symbols, emoji.
var alphabet = []string{"a", "b", "Z", "Q", "é", "É", "ǅ", "ʰ", "中", "文", "ا", "ß", "ſ", "\u0301", "\u20dd", "0", "7", "٣", "Ⅻ", "½",
	"'", "'s", "'S", "'re", "'VE", "'ll", "'Ll", "'d", "'m", "'t", "'x", " ", "  ", "\t", "\n", "\r\n", "\r", "\u00a0", "\u3000",
	"\u2028", "\u0085", "\v", "/", "//", ".", ",", "!", "?", "-", "_", "(", ")", "\"", "$", "€", "😀", "👍🏽", "<|endoftext|>", "http://x.y/z"}

func randomText(rng *rand.Rand, n int) string {
	var b strings.Builder
	for range n {
		b.WriteString(alphabet[rng.IntN(len(alphabet))])
	}
	return b.String()
}

func TestSplitMatchesTheBacktrackingEngine(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	texts := []string{"", "  \n  \n  x", "a  \n\n  b", "x\n \n y", "Hello, world! It's 2025.", "CAPS'S lowerCamel ÉCOLE",
		"a\u0301\u0301b", "\u0301x", " \u0301", "12345 678", "x  ", "x \u3000y", "'ſ 'sx"}
	for range 3000 {
		texts = append(texts, randomText(rng, 1+rng.IntN(40)))
	}
	for name, re := range referenceSplitters {
		for _, s := range texts {
			want := referencePieces(t, re, s)
			got := ourPieces(splitters[name], s)
			if strings.Join(got, "|") != strings.Join(want, "|") {
				t.Fatalf("%s %q:\n got %q\nwant %q", name, s, got, want)
			}
		}
	}
}

// Each run of code points of one character class, at its first, middle and
// last code point, alone and between letters, spaces and digits, splits as
// the engine splits it: this pins the classes to the pattern's.
func TestSplitEveryClassRun(t *testing.T) {
	var probe []rune
	start, prev := rune(0), classOf(0)
	for r := rune(1); r <= unicode.MaxRune+1; r++ {
		var c uint8
		if r <= unicode.MaxRune {
			c = classOf(r)
		}
		if r > unicode.MaxRune || c != prev {
			probe = append(probe, start, start+(r-1-start)/2, r-1)
			start, prev = r, c
		}
	}
	if len(probe) < 3000 {
		t.Fatalf("only %d probes", len(probe))
	}
	var b strings.Builder
	for _, r := range probe {
		if !utf8.ValidRune(r) {
			continue
		}
		for _, f := range []string{"%sa", "a%s", "A%sb", " %s", "%s ", "1%s", "%s%s", "'%s", "%s\n"} {
			b.WriteString(strings.ReplaceAll(f, "%s", string(r)))
			b.WriteByte('|')
		}
	}
	s := b.String()
	for name, re := range referenceSplitters {
		want := referencePieces(t, re, s)
		got := ourPieces(splitters[name], s)
		if len(got) != len(want) {
			t.Fatalf("%s: %d pieces, want %d", name, len(got), len(want))
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("%s: piece %d = %q, want %q", name, i, got[i], want[i])
			}
		}
	}
}

func FuzzSplit(f *testing.F) {
	for _, s := range alphabet {
		f.Add(s + " x" + s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			s = string([]rune(s))
		}
		for name, re := range referenceSplitters {
			want := referencePieces(t, re, s)
			got := ourPieces(splitters[name], s)
			if strings.Join(got, "\x00") != strings.Join(want, "\x00") {
				t.Fatalf("%s %q:\n got %q\nwant %q", name, s, got, want)
			}
		}
	})
}
