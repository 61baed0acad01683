package tokens

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/dlclark/regexp2/v2"
	"github.com/tiktoken-go/tokenizer"
)

func counter(t testing.TB) *Counter {
	t.Helper()
	c, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func reference(t testing.TB, enc Encoding) tokenizer.Codec {
	t.Helper()
	c, err := tokenizer.Get(tokenizer.Encoding(enc))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// The module's own (generated) splitters, for telling its known deviation
// apart from ours.
var generated = map[Encoding]*regexp2.Regexp{
	O200kBase:  regexp2.MustCompile(patO200k, regexp2.None),
	Cl100kBase: regexp2.MustCompile(patCl100k, regexp2.None),
}

var backtracking = map[Encoding]*regexp2.Regexp{O200kBase: referenceSplitters["o200k"], Cl100kBase: referenceSplitters["cl100k"]}

// corpus is text of the kinds a gateway sees.
func corpus(rng *rand.Rand) []string {
	out := []string{
		"Hello, Custos", "The patient, John Miller (MRN 4471203), was admitted on 2025-03-04 with chest pain.",
		"func main() {\n\tfmt.Println(\"hi\")\n\n\n\treturn\n}\n", `{"model":"gpt-4o","messages":[{"role":"user","content":"x"}]}`,
		"  \n  \n  indented\n\t\tcode", "Ünïcödé façade naïve coöperate — “quotes” ‘single’ … €100", "東京都渋谷区で会議があります。明日は晴れでしょう。",
		"Привет, как дела? Всё хорошо.", "مرحبا بالعالم", "😀👍🏽🇪🇺 emoji", "I'M SHOUTING'S 'LL 'VE", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" + strings.Repeat("ab", 200),
		strings.Repeat("dGhpcyBpcyBiYXNlNjQ=", 30), "<|endoftext|> special tokens are text", "invalid \xff\xfe bytes \xe4\xb8",
	}
	for range 400 {
		out = append(out, randomText(rng, 1+rng.IntN(200)))
	}
	return out
}

// Our counts equal the reference codec's wherever its splitter agrees with
// a backtracking engine; where it does not, each piece still gets the
// codec's own count.
func TestExactCountsMatchTheReferenceCodec(t *testing.T) {
	c := counter(t)
	rng := rand.New(rand.NewPCG(3, 5))
	texts := corpus(rng)
	for _, enc := range []Encoding{O200kBase, Cl100kBase} {
		ref := reference(t, enc)
		e := c.enc[enc]
		agreed := 0
		for _, s := range texts {
			v := validText(s)
			ours := e.exact(v)
			gen, bt := referencePieces(t, generated[enc], v), referencePieces(t, backtracking[enc], v)
			if strings.Join(gen, "\x00") == strings.Join(bt, "\x00") {
				agreed++
				if want, _ := ref.Count(s); ours != want {
					t.Errorf("%s %q: %d tokens, reference %d", enc, s, ours, want)
				}
			}
			for _, p := range bt {
				if len(referencePieces(t, generated[enc], p)) != 1 {
					continue
				}
				if want, _ := ref.Count(p); e.pieceTokens(p) != want {
					t.Errorf("%s piece %q: %d tokens, reference %d", enc, p, e.pieceTokens(p), want)
				}
			}
		}
		t.Logf("%s: splitters agreed on %d of %d texts", enc, agreed, len(texts))
		if agreed < len(texts)*3/4 {
			t.Errorf("%s: the splitters agreed on only %d of %d texts", enc, agreed, len(texts))
		}
	}
}

// Long pieces (merged with the heap) count as the scan counts them.
func TestHeapMergeMatchesScan(t *testing.T) {
	c := counter(t)
	rng := rand.New(rand.NewPCG(9, 9))
	for _, enc := range []Encoding{O200kBase, Cl100kBase} {
		e := c.enc[enc]
		for range 200 {
			var b strings.Builder
			for b.Len() < scanLimit-8 {
				b.WriteString([]string{"ab", "xyz", "q", "ing", "tion", "zz", "é", "中"}[rng.IntN(8)])
			}
			p := b.String()
			if got, want := e.mergeHeap(p), e.mergeScan(p); got != want {
				t.Fatalf("%s %q: heap %d, scan %d", enc, p, got, want)
			}
		}
	}
}

// Cutting at any cut point leaves the count unchanged.
func TestCutPointsAreExact(t *testing.T) {
	c := counter(t)
	rng := rand.New(rand.NewPCG(1, 1))
	for _, enc := range []Encoding{O200kBase, Cl100kBase} {
		e := c.enc[enc]
		cuts := 0
		for _, s := range corpus(rng) {
			s = validText(s)
			whole := e.exact(s)
			for j := 1; j < len(s); j++ {
				if isCut(s, j) {
					cuts++
					if got := e.exact(s[:j]) + e.exact(s[j:]); got != whole {
						t.Fatalf("%s %q cut at %d: %d, whole %d", enc, s, j, got, whole)
					}
				}
			}
		}
		if cuts < 1000 {
			t.Fatalf("only %d cut points tried", cuts)
		}
	}
}
