package tokens

import "unicode/utf8"

// Basis says what a count rests on.
type Basis uint8

const (
	// Native: the model's own OpenAI encoding.
	Native Basis = iota + 1
	// Proxy: a model whose tokenizer is not embedded (Anthropic, Google,
	// Mistral, DeepSeek, Qwen, Llama, the dev model), counted with a stated
	// OpenAI encoding; its provider's own count will differ.
	Proxy
)

func (b Basis) String() string {
	switch b {
	case Native:
		return "native"
	case Proxy:
		return "proxy"
	}
	return "unknown"
}

// Count is a token count made by this package. Every such count is an
// estimate (Estimated is always true): a provider's reported usage, when
// present, is authoritative.
type Count struct {
	Tokens    int64
	Encoding  Encoding // the encoding counted with
	Basis     Basis
	Sampled   bool // part of the text was extrapolated from exactly counted samples
	Estimated bool // always true
}

// DefaultExactBytes is how much text one call counts exactly by default.
const DefaultExactBytes = 256 << 10

// minSample is the least text a large field is sampled on.
const minSample = 8 << 10

// Options tune a Counter.
type Options struct {
	// ExactBytes bounds the text one Text or Prompt call tokenizes exactly
	// (DefaultExactBytes when zero). Beyond it, a large field is counted on
	// evenly spread samples and extrapolated by its tokens per byte, and a
	// small one at the call's tokens per byte so far; the count is then
	// marked Sampled. Completion streams are always counted exactly.
	ExactBytes int
}

// Counter counts tokens offline, in memory only: text is read, never kept
// or logged. It is safe for concurrent use.
type Counter struct {
	enc   map[Encoding]*encoding
	exact int
}

// New loads the embedded vocabularies (about a quarter of a second, once per
// process) and returns a Counter.
func New(opts Options) (*Counter, error) {
	enc, err := load()
	if err != nil {
		return nil, err
	}
	if opts.ExactBytes <= 0 {
		opts.ExactBytes = DefaultExactBytes
	}
	return &Counter{enc: enc, exact: opts.ExactBytes}, nil
}

// Text counts one text for model, with no message overhead.
func (c *Counter) Text(model, text string) Count {
	t := c.tally(model)
	t.add(text)
	return t.count()
}

// tally accumulates one call's count.
type tally struct {
	enc         *encoding
	basis       Basis
	remaining   int   // exact bytes left in the call's budget
	exactBytes  int64 // bytes tokenized exactly so far
	exactTokens int64 // their tokens
	tokens      int64 // exact and extrapolated
	sampled     bool
}

func (c *Counter) tally(model string) *tally {
	name, basis := EncodingFor(model)
	return &tally{enc: c.enc[name], basis: basis, remaining: c.exact}
}

func (t *tally) count() Count {
	return Count{Tokens: t.tokens, Encoding: t.enc.name, Basis: t.basis, Sampled: t.sampled, Estimated: true}
}

// add counts one text into the tally: exactly while the budget lasts, then
// by sampling (a large text) or at the call's exact ratio so far (a small
// one).
func (t *tally) add(s string) {
	if !utf8.ValidString(s) {
		s = string([]rune(s)) // as the reference codec reads text: each invalid byte is U+FFFD
	}
	var tok, by int
	switch {
	case len(s) <= t.remaining:
		tok, by = t.enc.exact(s), len(s)
		t.tokens += int64(tok)
	case len(s) <= minSample && t.exactBytes >= minSample:
		t.sampled = true
		t.tokens += ceilDiv(int64(len(s))*t.exactTokens, t.exactBytes)
		return
	default:
		t.sampled = true
		tok, by = t.enc.sample(s, min(max(t.remaining, minSample), len(s)))
		if by == 0 {
			t.tokens += int64(len(s)) // no sample: a token is at least a byte
			return
		}
		t.tokens += ceilDiv(int64(len(s))*int64(tok), int64(by))
	}
	t.remaining = max(t.remaining-by, 0)
	t.exactBytes += int64(by)
	t.exactTokens += int64(tok)
}

func ceilDiv(a, b int64) int64 {
	if b <= 0 {
		return a
	}
	return (a + b - 1) / b
}

// exact counts s's tokens; s is valid UTF-8.
func (e *encoding) exact(s string) int {
	n := 0
	for i := 0; i < len(s); {
		j := e.next(s, i)
		n += e.pieceTokens(s[i:j])
		i = j
	}
	return n
}

// windows is how many evenly spread samples a large text is counted on.
const windows = 8

// sample counts about budget bytes of s in evenly spread windows, each
// starting and ending at a cut point so that its count is exactly the
// count those bytes get in the whole text. It returns the tokens and bytes
// counted.
func (e *encoding) sample(s string, budget int) (tokens, bytes int) {
	w := max(budget/windows, 1)
	stride := (len(s) - w) / (windows - 1)
	end := 0
	for k := range windows {
		start := max(cutAt(s, k*stride), end)
		stop := cutAt(s, min(start+w, len(s)))
		if stop <= start {
			continue
		}
		tokens += e.exact(s[start:stop])
		bytes += stop - start
		end = stop
	}
	return tokens, bytes
}

// cutSearch is how far cutAt looks for a cut point.
const cutSearch = 512

// cutAt returns the first cut point at or after i: a place where both
// encodings always end a piece, so that the text's count is the sum of the
// counts of its two sides. That is before whitespace, or before a symbol
// other than an apostrophe, that follows a letter or digit. Where there is
// none nearby it falls back to a rune boundary (an approximation).
func cutAt(s string, i int) int {
	if i <= 0 || i >= len(s) {
		return max(min(i, len(s)), 0)
	}
	for j := i; j < len(s) && j < i+cutSearch; j++ {
		if isCut(s, j) {
			return j
		}
	}
	for i < len(s) && !utf8.RuneStart(s[i]) {
		i++
	}
	return i
}

func isCut(s string, j int) bool {
	var c uint8
	if b := s[j]; b < utf8.RuneSelf {
		if b == '\'' {
			return false
		}
		c = asciiClass[b]
	} else {
		r, _ := utf8.DecodeRuneInString(s[j:])
		if r == utf8.RuneError {
			return false // not a complete rune yet
		}
		c = classOf(r)
	}
	if c&^(cS|cNL) != 0 {
		return false // a letter, mark or digit
	}
	p, _ := utf8.DecodeLastRuneInString(s[:j])
	pc := classOf(p)
	return pc&(cL|cN) != 0 && pc&cM == 0
}

// lastCut returns the last cut point in s, or -1.
func lastCut(s string) int {
	for j := len(s) - 1; j > 0; j-- {
		if isCut(s, j) {
			return j
		}
	}
	return -1
}
