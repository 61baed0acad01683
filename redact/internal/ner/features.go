package ner

import (
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
	"unsafe"
)

// Tag is a token's class.
type Tag uint8

// Tags.
const (
	O Tag = iota
	PER
	LOC
	ORG
	NumTags
)

var tagNames = [NumTags]string{"O", "PER", "LOC", "ORG"}

func (t Tag) String() string { return tagNames[t] }

// Token is one word as the tagger sees it.
type Token struct {
	Text   string // the word, trimmed of surrounding punctuation
	Before string // what stands between the previous word and this one
}

// info is what is computed once per token.
type info struct {
	lower string
	shape string
	e     Entry
	cls   uint8 // gazetteer classes, for neighbour features: classNames[cls]
	done  bool  // everything below
	eDone bool  // e alone
	lDone bool  // lower alone
	upper bool  // starts with an upper-case letter
}

// class is the token's gazetteer classes as a feature value.
func (in *info) class() string { return classNames[in.cls] }

// Sentence holds tokens and their computed information.
type Sentence struct {
	Toks []Token
	inf  []info
	g    *Gazetteer
	// Lookup, when set, returns the gazetteer entry of token i (a caller
	// that has looked the words up already shares its cache).
	Lookup func(i int) Entry
	// forget, in training, hides the name frequencies of some tokens from
	// the features, so that the model also learns names the gazetteer
	// lacks from their shape, affixes and context.
	forget []bool
	// mem holds the lower-case forms and shapes of the tokens, which are
	// only hashed and compared while the sentence lives: written here,
	// they are not allocated one by one.
	mem []byte
	// spans is the memory of Tag's result.
	spans []Span
	live  bool // made by NewSentence and not released
}

// sentPool holds released sentences, their memory kept for reuse.
var sentPool = sync.Pool{New: func() any { return new(Sentence) }}

// NewSentence prepares tokens for tagging. Release gives its memory back.
func NewSentence(g *Gazetteer, toks []Token) *Sentence {
	s := sentPool.Get().(*Sentence)
	if cap(s.inf) < len(toks) {
		s.inf = make([]info, len(toks))
	} else {
		s.inf = s.inf[:len(toks)] // Release cleared it
	}
	s.Toks, s.g, s.live = toks, g, true
	return s
}

// Release returns the sentence's working memory for reuse, cleared (it
// held lower-case copies of the text's words); the sentence, and the spans
// Tag returned for it, must not be used after. A second Release is
// harmless only until the sentence is handed out again.
func (s *Sentence) Release() {
	if s.live {
		clear(s.inf)
		clear(s.mem)
		*s = Sentence{inf: s.inf[:0], mem: s.mem[:0], spans: s.spans[:0]}
		sentPool.Put(s)
	}
}

func (s *Sentence) entry(i int) Entry {
	in := &s.inf[i]
	if !in.eDone {
		in.eDone = true
		if s.Lookup != nil {
			in.e = s.Lookup(i)
		} else {
			in.e = s.g.Lookup(s.Toks[i].Text)
		}
	}
	return in.e
}

func (s *Sentence) at(i int) *info {
	in := &s.inf[i]
	if in.done {
		return in
	}
	in.done = true
	w := s.Toks[i].Text
	if !in.lDone {
		in.lDone = true
		in.lower = s.lowerWord(w)
	}
	s.entry(i)
	if s.forget != nil && s.forget[i] {
		in.e.First, in.e.Last = 0, 0
	}
	start := len(s.mem)
	s.mem = appendShape(s.mem, w)
	in.shape = s.memString(start)
	r, _ := utf8.DecodeRuneInString(w)
	in.upper = unicode.IsUpper(r)
	in.cls = classOf(in.e)
	return in
}

// lowerAt is the lower-case form of token i, computed alone for a feature
// that reads nothing else of the token. In training, where at forgets name
// frequencies, everything is computed as before.
func (s *Sentence) lowerAt(i int) string {
	if s.forget != nil {
		return s.at(i).lower
	}
	in := &s.inf[i]
	if !in.lDone {
		in.lDone = true
		in.lower = s.lowerWord(s.Toks[i].Text)
	}
	return in.lower
}

// lowerWord is the package's lowerWord, an ASCII word with capitals
// lower-cased into the sentence's memory rather than allocated.
func (s *Sentence) lowerWord(w string) string {
	upper := false
	for i := 0; i < len(w); i++ {
		c := w[i]
		if c >= utf8.RuneSelf {
			return lowerWord(w)
		}
		upper = upper || c >= 'A' && c <= 'Z'
	}
	if !upper {
		return w
	}
	start := len(s.mem)
	for i := 0; i < len(w); i++ {
		s.mem = append(s.mem, foldByte(w[i]))
	}
	return s.memString(start)
}

// memString is s.mem[start:] as a string. Growing mem later moves it, not
// the bytes the string reads; only Release lets them be written again.
func (s *Sentence) memString(start int) string {
	if start == len(s.mem) {
		return ""
	}
	return unsafe.String(&s.mem[start], len(s.mem)-start)
}

func lowerWord(w string) string {
	for i := 0; i < len(w); i++ {
		c := w[i]
		if c >= utf8.RuneSelf || c >= 'A' && c <= 'Z' {
			return strings.ToLower(w)
		}
	}
	return w
}

// lowerView is lowerWord for a word only compared: an ASCII word that fits
// buf is lower-cased into it, without allocating.
func lowerView(buf *[16]byte, w string) string {
	if len(w) == 0 || len(w) > len(buf) {
		return lowerWord(w)
	}
	for i := 0; i < len(w); i++ {
		c := w[i]
		if c >= utf8.RuneSelf {
			return lowerWord(w)
		}
		buf[i] = foldByte(c)
	}
	return unsafe.String(&buf[0], len(w))
}

// appendShape appends the shape of w to dst: letters map to X/x, digits
// to d, other marks are kept, repeats collapse, and at most 16 bytes are
// kept: "McDonald" → "XxXx", "J." → "X.", "O'Neil" → "X'Xx".
func appendShape(dst []byte, w string) []byte {
	n := 0
	var last byte
	for _, r := range w {
		var c byte
		switch {
		case unicode.IsUpper(r):
			c = 'X'
		case unicode.IsLower(r):
			c = 'x'
		case unicode.IsDigit(r):
			c = 'd'
		case unicode.IsLetter(r):
			c = 'L' // a letter of a script without case
		case r < utf8.RuneSelf:
			c = byte(r)
		default:
			c = '?'
		}
		if c == last {
			continue
		}
		last = c
		if n < 16 {
			dst = append(dst, c)
			n++
		}
	}
	return dst
}

// classOf returns the gazetteer classes of e as bits, an index of classNames.
func classOf(e Entry) uint8 {
	var m uint8
	if e.First > 0 {
		m |= 1
	}
	if e.Last > 0 {
		m |= 2
	}
	for k, f := range [...]uint16{City | Country | Region, Title, OrgSuffix, StreetType | StreetPre, Ordinary, Demonym} {
		if e.Flags&f != 0 {
			m |= 4 << k
		}
	}
	return m
}

// classNames holds the gazetteer classes of classOf by their bits: a
// letter per class held, in the order "flgtoswd".
var classNames = func() (t [256]string) {
	for m := range t {
		for k, c := range "flgtoswd" {
			if m&(1<<k) != 0 {
				t[m] += string(c)
			}
		}
	}
	return t
}()

// Cue words, by kind, read before a candidate.
var (
	relationCues = set("son", "daughter", "kid", "kids", "child", "children", "wife", "husband", "mother", "father", "mom", "mum",
		"dad", "brother", "sister", "friend", "partner", "boss", "colleague", "neighbor", "neighbour", "grandson",
		"granddaughter", "grandmother", "grandfather", "uncle", "aunt", "cousin", "nephew", "niece", "fiancé", "fiancée",
		"girlfriend", "boyfriend", "baby", "sohn", "tochter", "frau", "mann", "mutter", "vater", "bruder", "schwester",
		"fils", "fille", "femme", "mari", "mère", "père", "frère", "sœur", "hijo", "hija", "esposa", "esposo", "madre", "padre",
		"hermano", "hermana", "named", "called", "nurse", "doctor", "dr", "patient", "client", "customer", "manager")
	labelCues = set("name", "patient", "user", "customer", "client", "contact", "from", "to", "cc", "signed", "attn",
		"attention", "dear", "hi", "hello", "hey", "thanks", "regards", "sincerely", "cheers", "nombre", "nom", "vorname",
		"nachname", "surname", "given", "family", "author", "owner", "holder", "cardholder", "recipient", "sender",
		"physician", "provider", "referrer", "guarantor", "insured", "member", "employee", "applicant")
	placeCues = set("in", "at", "from", "to", "near", "of", "city", "town", "country", "state", "province", "county",
		"born", "lives", "living", "moved", "visit", "visiting", "based", "located", "headquartered", "à", "en", "nach",
		"aus", "bei", "de", "desde", "via")
	orgHeads = set("inc", "ltd", "llc", "llp", "plc", "corp", "corporation", "company", "co", "group", "bank", "hospital",
		"clinic", "university", "college", "school", "institute", "foundation", "partners", "associates", "solutions",
		"systems", "technologies", "technology", "services", "consulting", "insurance", "holdings", "industries",
		"labs", "laboratories", "pharma", "pharmaceuticals", "health", "healthcare", "medical", "center", "centre",
		"gmbh", "ag", "sa", "sarl", "srl", "spa", "bv", "nv", "ab", "oy", "as", "kg", "ug", "sas", "ltda", "pty",
		"trust", "fund", "capital", "ventures", "media", "network", "networks", "software", "energy", "motors",
		"airlines", "logistics", "transit", "agency", "council", "ministry", "department", "office", "club")
)

// OrgHead reports whether a lower-case word heads organization names
// ("bank", "hospital", "gmbh").
func OrgHead(w string) bool { return orgHeads.Has(w) }

func set(ws ...string) *WordSet { return NewWordSet(ws...) }

// Candidate reports whether token i may be part of a name at all; other
// tokens are tagged O without scoring. Training and tagging use the same
// rule. prev is the tag given to token i-1: a word right after a name may
// continue it ("olga krylova").
func (s *Sentence) Candidate(i int, prev Tag) bool {
	w := s.Toks[i].Text
	for k := 0; k < len(w); k++ {
		if notInName[w[k]] {
			return false
		}
	}
	r, _ := utf8.DecodeRuneInString(w)
	if !unicode.IsLetter(r) {
		return false
	}
	if unicode.IsUpper(r) {
		if utf8.RuneCountInString(w) > 1 && allUpper(w) {
			// an acronym, unless the gazetteer knows it or a place word
			// stands before it ("flew to RYSSBY")
			return s.known(i) || i > 0 && utf8.RuneCountInString(w) >= 4 && placeCues.HasLower(s.Toks[i-1].Text)
		}
		return true
	}
	if (s.nameCue(i) || prev == PER && s.Toks[i].Before == " " && len(w) >= 3) && s.entry(i).Flags&Ordinary == 0 {
		return true // "my name is vitoria", "call me višeslav", "olga krylova"
	}
	if len(w) < 2 || len(w) < 3 && r < utf8.RuneSelf || !s.g.MayName(w) {
		return false // a lower-case word that is no known name or place
	}
	if i > 0 {
		if pw := s.Toks[i-1].Text; len(pw) <= 12 {
			var buf [16]byte
			p := lowerView(&buf, pw)
			if relationCues.Has(p) || labelCues.Has(p) && strings.Contains(s.Toks[i].Before, ":") || s.g.IsTitle(p) {
				return s.entry(i).Flags&Ordinary == 0
			}
		}
	}
	return s.known(i) && (s.entry(i).Flags&Ordinary == 0 || s.nameNeighbour(i))
}

// nameCue: the words before i introduce a name ("my name is", "call me",
// "named", "Name:").
func (s *Sentence) nameCue(i int) bool {
	if i == 0 {
		return false
	}
	pw := s.Toks[i-1].Text
	if b := s.Toks[i].Before; b != " " && strings.IndexByte(b, ':') >= 0 && len(pw) <= 12 && labelCues.HasLower(pw) {
		return true
	}
	switch len(pw) {
	case 2, 3, 4, 5, 6, 7:
	default:
		return false // no cue word has another length
	}
	if c := pw[0]; c < utf8.RuneSelf && !cueFirst[c|0x20] {
		return false // no cue word starts otherwise
	}
	var buf, buf2 [16]byte
	p := lowerView(&buf, pw)
	switch p {
	case "named", "called", "i'm", "im", "surname", "nom", "nombre", "heiße", "appelle", "llamo":
		return true
	case "is", "me", "am", "name":
	default:
		return false
	}
	if i < 2 {
		return false
	}
	pp := lowerView(&buf2, s.Toks[i-2].Text)
	return p == "is" && (pp == "name" || pp == "this") || p == "me" && pp == "call" || p == "am" && pp == "i" ||
		p == "name" && (pp == "last" || pp == "first" || pp == "family" || pp == "given")
}

// notInName holds the bytes that make a token no part of a name: digits,
// '@', '_' and '/'.
var notInName = func() (t [256]bool) {
	for _, c := range "0123456789@_/" {
		t[c] = true
	}
	return t
}()

// cueFirst holds the first letters of the cue words of nameCue.
var cueFirst = func() (t [256]bool) {
	for _, c := range "ncishalm" {
		t[c] = true
	}
	return t
}()

func (s *Sentence) known(i int) bool {
	e := s.entry(i)
	return e.Name() || e.Flags&(City|Country|Region|Demonym) != 0
}

// nameNeighbour: a word next to i (across a plain space) is a given name or
// surname too, so a lower-case "john smith" is worth tagging.
func (s *Sentence) nameNeighbour(i int) bool {
	if !s.entry(i).Name() {
		return false
	}
	if i > 0 && s.Toks[i].Before == " " && s.entry(i-1).Name() {
		return true
	}
	return i+1 < len(s.Toks) && s.Toks[i+1].Before == " " && s.entry(i+1).Name()
}

// gapClass summarizes the text between two words.
func gapClass(g string) string {
	switch {
	case g == "" || g == " ":
		return "_"
	case strings.Contains(g, "\n"):
		return "nl"
	case strings.Contains(g, ":"):
		return ":"
	case strings.Contains(g, ","):
		return ","
	case strings.ContainsAny(g, ".!?"):
		return "."
	case strings.ContainsAny(g, "([{"):
		return "("
	case strings.ContainsAny(g, ")]}"):
		return ")"
	case strings.ContainsAny(g, "|^;\t"):
		return "|"
	case strings.Contains(g, "-"):
		return "-"
	case strings.ContainsAny(g, "\"'`"):
		return "q"
	}
	return "o"
}

// The features by name, each the hash state after its name.
var (
	kBias          = featName("b")
	kWord          = featName("w")
	kSuf3          = featName("s3")
	kSuf2          = featName("s2")
	kPre3          = featName("p3")
	kShape         = featName("sh")
	kGazFirst      = featName("gf")
	kGazLast       = featName("gl")
	kGazClass      = featName("gc")
	kGazClassShape = featName("gc+sh")
	kGazFreq       = featName("gfl")
	kGap           = featName("gap")
	kStart         = featName("st")
	kTag1          = featName("t1")
	kTag12         = featName("t12")
	kTag1Shape     = featName("t1sh")
	kTag1Gap       = featName("t1gap")
	kWordPrev      = featName("w-1")
	kWordPair      = featName("w-1w")
	kShapePrev     = featName("sh-1")
	kClassPrev     = featName("c-1")
	kCueTitle      = featName("cueT")
	kCueRelation   = featName("cueR")
	kCueLabel      = featName("cueL")
	kCuePlace      = featName("cueP")
	kWordPrev2     = featName("w-2")
	kCue2          = featName("cue2")
	kWordNext      = featName("w+1")
	kShapeNext     = featName("sh+1")
	kClassNext     = featName("c+1")
	kOrgNext       = featName("org+1")
	kWordNext2     = featName("w+2")
	kOrgHead       = featName("orghead")
)

// features appends the hashed features of token i given the two previous
// tags.
func (s *Sentence) features(i int, p1, p2 Tag, out []uint32) []uint32 {
	in := s.at(i)
	f := func(k feat, parts ...string) { out = append(out, k.of(parts...)) }
	out = append(out, biasFeat)
	f(kWord, in.lower)
	lw := in.lower
	if n := len(lw); n > 3 {
		f(kSuf3, suffix(lw, 3))
		f(kSuf2, suffix(lw, 2))
		f(kPre3, prefix(lw, 3))
	}
	f(kShape, in.shape)
	f(kGazFirst, runeStr['0'+in.e.First])
	f(kGazLast, runeStr['0'+in.e.Last])
	out = append(out, classFeat[in.cls])
	f(kGazClassShape, in.class(), in.shape)
	f(kGazFreq, runeStr['0'+in.e.First], runeStr['0'+in.e.Last], boolStr(in.e.Flags&Ordinary != 0), boolStr(in.upper))
	gb := gapClass(s.Toks[i].Before)
	ga := "$"
	if i+1 < len(s.Toks) {
		ga = gapClass(s.Toks[i+1].Before)
	}
	f(kGap, gb, ga)
	start := i == 0 || gb == "." || gb == "nl"
	out = append(out, startFeat[b2i(start)][in.cls], tag1Feat[p1], tag12Feat[p1][p2])
	f(kTag1Shape, p1.String(), in.shape)
	f(kTag1Gap, p1.String(), gb)
	if i > 0 {
		p := s.at(i - 1)
		f(kWordPrev, p.lower)
		f(kWordPair, p.lower, in.lower)
		f(kShapePrev, p.shape, in.shape)
		f(kClassPrev, p.class(), gb)
		switch {
		case p.e.Flags&Title != 0:
			f(kCueTitle, gb)
		case relationCues.Has(p.lower):
			f(kCueRelation, gb)
		case labelCues.Has(p.lower):
			f(kCueLabel, gb)
		case placeCues.Has(p.lower):
			f(kCuePlace, gb)
		}
		if i > 1 {
			pp := s.lowerAt(i - 2)
			f(kWordPrev2, pp)
			if relationCues.Has(pp) || s.entry(i-2).Flags&Title != 0 {
				f(kCue2, pp)
			}
		}
	} else {
		out = append(out, firstFeat)
	}
	if i+1 < len(s.Toks) {
		n := s.at(i + 1)
		f(kWordNext, n.lower)
		f(kShapeNext, n.shape)
		f(kClassNext, n.class(), ga)
		if orgHeads.Has(n.lower) {
			f(kOrgNext, ga)
		}
		if i+2 < len(s.Toks) {
			f(kWordNext2, s.lowerAt(i+2))
		}
	} else {
		out = append(out, lastFeat)
	}
	if orgHeads.Has(in.lower) {
		f(kOrgHead, boolStr(in.upper))
	}
	return out
}

// The features of few values, hashed once: kBias, kGazClass by class,
// kStart by start and class, kTag1 and kTag12 by tags, and kWordPrev and
// kWordNext at the sentence's ends.
var (
	biasFeat  = kBias.of()
	firstFeat = kWordPrev.of("^")
	lastFeat  = kWordNext.of("$")
	classFeat [256]uint32
	startFeat [2][256]uint32
	tag1Feat  [NumTags]uint32
	tag12Feat [NumTags][NumTags]uint32
	runeStr   [256]string // string(rune(v)) by v, for the gazetteer's counts
	_         = initFeats()
)

func initFeats() bool {
	for c := range classFeat {
		classFeat[c] = kGazClass.of(classNames[c])
		for b := range startFeat {
			startFeat[b][c] = kStart.of(boolStr(b == 1), classNames[c])
		}
		runeStr[c] = string(rune(c))
	}
	for t1 := range NumTags {
		tag1Feat[t1] = kTag1.of(t1.String())
		for t2 := range NumTags {
			tag12Feat[t1][t2] = kTag12.of(t1.String(), t2.String())
		}
	}
	return true
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func boolStr(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

func suffix(s string, n int) string {
	k := len(s)
	for c := 0; c < n && k > 0; c++ {
		_, size := utf8.DecodeLastRuneInString(s[:k])
		k -= size
	}
	return s[k:]
}

func prefix(s string, n int) string {
	k := 0
	for c := 0; c < n && k < len(s); c++ {
		_, size := utf8.DecodeRuneInString(s[k:])
		k += size
	}
	return s[:k]
}

// Buckets is the number of weight slots: features are hashed into them, in
// training and in tagging alike.
const Buckets = 1 << 18

const (
	fnvOffset = 2166136261
	fnvPrime  = 16777619
)

// A feature is hashed by FNV-1a over its name and values, each followed by
// a separator, and folded into a bucket.

// feat is the state of a feature's hash after its name: the name is hashed
// once, not at every token.
type feat uint32

// featName is the state after the name n.
func featName(n string) feat { return feat(mix(fnvOffset, n)) }

// of hashes the values of the feature.
func (k feat) of(parts ...string) uint32 {
	h := uint32(k)
	for _, p := range parts {
		h = mix(h, p)
	}
	return (h ^ h>>18) & (Buckets - 1)
}

// mix hashes one part and its separator into h.
func mix(h uint32, p string) uint32 {
	for i := 0; i < len(p); i++ {
		h ^= uint32(p[i])
		h *= fnvPrime
	}
	h ^= 0xff
	return h * fnvPrime
}

// Tokenize splits text the way the scanner does for prose (white space and
// field punctuation bound words; surrounding punctuation is trimmed into the
// gaps) and returns the tokens with their byte ranges. The scanner has its
// own tokenizer for every text shape; this one builds training sentences.
func Tokenize(text string) ([]Token, [][2]int) {
	var toks []Token
	var spans [][2]int
	last := 0
	i := 0
	for i < len(text) {
		r, size := utf8.DecodeRuneInString(text[i:])
		if !isWordRune(r) {
			i += size
			continue
		}
		s := i
		for i < len(text) {
			r, size := utf8.DecodeRuneInString(text[i:])
			if isWordRune(r) || (r == '\'' || r == '.' || r == '-' || r == '’') && i+size < len(text) && nextIsWord(text[i+size:]) {
				i += size
				continue
			}
			break
		}
		e := i
		toks = append(toks, Token{Text: text[s:e], Before: text[last:s]})
		spans = append(spans, [2]int{s, e})
		last = e
	}
	return toks, spans
}

func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r) }

func nextIsWord(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return isWordRune(r)
}

func allUpper(w string) bool {
	for _, r := range w {
		if unicode.IsLower(r) {
			return false
		}
	}
	return true
}
