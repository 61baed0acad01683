package jsondoc

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// Limits bound a parse. Zero fields take the defaults.
type Limits struct {
	MaxDepth  int // nesting of arrays and objects (default 64)
	MaxValues int // values in the whole document (default 100,000)
}

// Defaults for Limits.
const (
	DefaultMaxDepth  = 64
	DefaultMaxValues = 100_000
)

// Error kinds a parse reports.
var (
	// ErrSyntax: the body is not valid JSON.
	ErrSyntax = errors.New("jsondoc: invalid JSON")
	// ErrDuplicateKey: an object names one key twice.
	ErrDuplicateKey = errors.New("jsondoc: duplicate key")
	// ErrCaseVariantKey: an object has two keys that differ only in case.
	ErrCaseVariantKey = errors.New("jsondoc: keys differ only in letter case")
	// ErrTooDeep and ErrTooManyValues: over Limits.
	ErrTooDeep       = errors.New("jsondoc: nested too deeply")
	ErrTooManyValues = errors.New("jsondoc: too many values")
)

// Error is a parse failure. Error() names the kind and byte offset only;
// Path (which holds request keys) is for the caller's own answer, never for
// logs.
type Error struct {
	Kind   error
	Offset int
	Path   Path
}

func (e *Error) Error() string { return fmt.Sprintf("%v at byte offset %d", e.Kind, e.Offset) }

func (e *Error) Unwrap() error { return e.Kind }

// Parse parses one JSON document. The returned tree's strings may share
// memory with data, which the caller must therefore never modify afterwards.
func Parse(data []byte, lim Limits) (*Value, error) {
	if lim.MaxDepth <= 0 {
		lim.MaxDepth = DefaultMaxDepth
	}
	if lim.MaxValues <= 0 {
		lim.MaxValues = DefaultMaxValues
	}
	p := &parser{lim: lim}
	if len(data) > 0 {
		p.src = unsafe.String(&data[0], len(data))
	}
	v, err := p.value(0)
	if err != nil {
		return nil, err
	}
	p.space()
	if p.pos != len(p.src) {
		return nil, p.fail(ErrSyntax)
	}
	return v, nil
}

type parser struct {
	src    string
	pos    int
	lim    Limits
	values int
	path   Path
}

func (p *parser) fail(kind error) error {
	return &Error{Kind: kind, Offset: p.pos, Path: append(Path(nil), p.path...)}
}

func (p *parser) space() {
	for p.pos < len(p.src) {
		switch p.src[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

func (p *parser) value(depth int) (*Value, error) {
	p.values++
	if p.values > p.lim.MaxValues {
		return nil, p.fail(ErrTooManyValues)
	}
	p.space()
	if p.pos >= len(p.src) {
		return nil, p.fail(ErrSyntax)
	}
	switch c := p.src[p.pos]; {
	case c == '{':
		return p.object(depth + 1)
	case c == '[':
		return p.array(depth + 1)
	case c == '"':
		s, err := p.str()
		if err != nil {
			return nil, err
		}
		return &Value{Kind: String, Str: s}, nil
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	default:
		return p.literal()
	}
}

func (p *parser) literal() (*Value, error) {
	for _, lit := range [...]struct {
		text string
		kind Kind
	}{{"true", Bool}, {"false", Bool}, {"null", Null}} {
		if strings.HasPrefix(p.src[p.pos:], lit.text) {
			p.pos += len(lit.text)
			return &Value{Kind: lit.kind, Str: lit.text}, nil
		}
	}
	return nil, p.fail(ErrSyntax)
}

func (p *parser) object(depth int) (*Value, error) {
	if depth > p.lim.MaxDepth {
		return nil, p.fail(ErrTooDeep)
	}
	p.pos++ // {
	v := &Value{Kind: Object}
	var folded map[string]struct{} // fold keys, once the object is large
	p.space()
	if p.pos < len(p.src) && p.src[p.pos] == '}' {
		p.pos++
		return v, nil
	}
	for {
		p.space()
		if p.pos >= len(p.src) || p.src[p.pos] != '"' {
			return nil, p.fail(ErrSyntax)
		}
		keyAt := p.pos
		key, err := p.str()
		if err != nil {
			return nil, err
		}
		if folded, err = p.checkKey(v, folded, key, keyAt); err != nil {
			return nil, err
		}
		p.space()
		if p.pos >= len(p.src) || p.src[p.pos] != ':' {
			return nil, p.fail(ErrSyntax)
		}
		p.pos++
		p.path = append(p.path, PathElem{Key: key})
		val, err := p.value(depth)
		if err != nil {
			return nil, err
		}
		p.path = p.path[:len(p.path)-1]
		v.Kids = append(v.Kids, Member{Key: key, Value: val})
		if done, err := p.next('}'); done || err != nil {
			return v, err
		}
	}
}

// smallObject is the member count up to which keys are compared pairwise.
const smallObject = 8

// checkKey refuses a key the object already has, exactly or in another
// case; past smallObject members it keeps a set of fold keys, so that a
// large object costs linear time.
func (p *parser) checkKey(obj *Value, folded map[string]struct{}, key string, at int) (map[string]struct{}, error) {
	if folded == nil && len(obj.Kids) >= smallObject {
		folded = make(map[string]struct{}, 2*smallObject)
		for _, m := range obj.Kids {
			folded[foldKey(m.Key)] = struct{}{}
		}
	}
	clash := false
	if folded != nil {
		fk := foldKey(key)
		_, clash = folded[fk]
		folded[fk] = struct{}{}
	} else {
		for _, m := range obj.Kids {
			clash = clash || strings.EqualFold(m.Key, key)
		}
	}
	if !clash {
		return folded, nil
	}
	kind := ErrCaseVariantKey
	for _, m := range obj.Kids {
		if m.Key == key {
			kind = ErrDuplicateKey
		}
	}
	p.pos = at
	p.path = append(p.path, PathElem{Key: key})
	err := p.fail(kind)
	p.path = p.path[:len(p.path)-1]
	return folded, err
}

// foldKey maps a key to one representative of its case-folding class:
// keys are EqualFold exactly when their fold keys are equal.
func foldKey(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return strings.ToLower(s)
	}
	var b strings.Builder
	for _, r := range s {
		min := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			if f < min {
				min = f
			}
		}
		b.WriteRune(min)
	}
	return b.String()
}

func (p *parser) array(depth int) (*Value, error) {
	if depth > p.lim.MaxDepth {
		return nil, p.fail(ErrTooDeep)
	}
	p.pos++ // [
	v := &Value{Kind: Array}
	p.space()
	if p.pos < len(p.src) && p.src[p.pos] == ']' {
		p.pos++
		return v, nil
	}
	for i := 0; ; i++ {
		p.path = append(p.path, PathElem{Index: i, IsIndex: true})
		item, err := p.value(depth)
		if err != nil {
			return nil, err
		}
		p.path = p.path[:len(p.path)-1]
		v.Kids = append(v.Kids, Member{Value: item})
		if done, err := p.next(']'); done || err != nil {
			return v, err
		}
	}
}

// next consumes a comma (more to come) or the closing byte (done).
func (p *parser) next(closing byte) (bool, error) {
	p.space()
	if p.pos >= len(p.src) {
		return false, p.fail(ErrSyntax)
	}
	switch p.src[p.pos] {
	case ',':
		p.pos++
		return false, nil
	case closing:
		p.pos++
		return true, nil
	}
	return false, p.fail(ErrSyntax)
}

func (p *parser) number() (*Value, error) {
	start := p.pos
	if p.src[p.pos] == '-' {
		p.pos++
	}
	switch {
	case p.pos < len(p.src) && p.src[p.pos] == '0':
		p.pos++
	case p.digits() == 0:
		return nil, p.fail(ErrSyntax)
	}
	if p.pos < len(p.src) && p.src[p.pos] == '.' {
		p.pos++
		if p.digits() == 0 {
			return nil, p.fail(ErrSyntax)
		}
	}
	if p.pos < len(p.src) && (p.src[p.pos] == 'e' || p.src[p.pos] == 'E') {
		p.pos++
		if p.pos < len(p.src) && (p.src[p.pos] == '+' || p.src[p.pos] == '-') {
			p.pos++
		}
		if p.digits() == 0 {
			return nil, p.fail(ErrSyntax)
		}
	}
	return &Value{Kind: Number, Str: p.src[start:p.pos]}, nil
}

func (p *parser) digits() int {
	n := 0
	for p.pos < len(p.src) && p.src[p.pos] >= '0' && p.src[p.pos] <= '9' {
		p.pos++
		n++
	}
	return n
}

// str reads a string at p.pos (on its opening quote). A string with no
// escapes and valid UTF-8 is returned as a slice of the source.
func (p *parser) str() (string, error) {
	p.pos++ // "
	start := p.pos
	if p.pos = plainUntil(p.src, p.pos); p.pos < len(p.src) {
		switch c := p.src[p.pos]; {
		case c == '"':
			s := p.src[start:p.pos]
			p.pos++
			return s, nil
		case c == '\\' || c >= 0x80:
			return p.slowStr(start)
		}
	}
	return "", p.fail(ErrSyntax) // a control character, or the end
}

// plainUntil returns the offset of the first byte at or after i that is not
// printable ASCII or is '"' or '\\' (what a JSON string cannot hold as it
// is), or len(s). It reads eight bytes at a time: every string of a
// request, and of what is forwarded, passes here.
func plainUntil(s string, i int) int {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	for ; i+8 <= len(s); i += 8 {
		b := s[i : i+8]
		w := uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
			uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
		quote, slash := w^('"'*ones), w^('\\'*ones)
		// high bits of: a byte >= 0x80, a byte < 0x20, a zero byte in quote or slash
		if (w|(w-0x20*ones)&^w|(quote-ones)&^quote|(slash-ones)&^slash)&highs != 0 {
			break
		}
	}
	for ; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x80 || c == '"' || c == '\\' {
			return i
		}
	}
	return i
}

// slowStr decodes a string with escapes or non-ASCII bytes, replacing
// invalid UTF-8 with U+FFFD.
func (p *parser) slowStr(start int) (string, error) {
	var b strings.Builder
	b.WriteString(p.src[start:p.pos])
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		switch {
		case c == '"':
			p.pos++
			return b.String(), nil
		case c == '\\':
			if err := p.escape(&b); err != nil {
				return "", err
			}
		case c < 0x20:
			return "", p.fail(ErrSyntax)
		case c < 0x80:
			b.WriteByte(c)
			p.pos++
		default:
			r, size := utf8.DecodeRuneInString(p.src[p.pos:])
			if r == utf8.RuneError && size == 1 {
				b.WriteRune(utf8.RuneError)
			} else {
				b.WriteString(p.src[p.pos : p.pos+size])
			}
			p.pos += size
		}
	}
	return "", p.fail(ErrSyntax)
}

var simpleEscapes = [256]byte{'"': '"', '\\': '\\', '/': '/', 'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t'}

func (p *parser) escape(b *strings.Builder) error {
	if p.pos+1 >= len(p.src) {
		return p.fail(ErrSyntax)
	}
	e := p.src[p.pos+1]
	if r := simpleEscapes[e]; r != 0 {
		b.WriteByte(r)
		p.pos += 2
		return nil
	}
	if e != 'u' {
		return p.fail(ErrSyntax)
	}
	r, ok := p.hex4(p.pos + 2)
	if !ok {
		return p.fail(ErrSyntax)
	}
	p.pos += 6
	if utf16.IsSurrogate(r) {
		r2 := rune(-1)
		if p.pos+1 < len(p.src) && p.src[p.pos] == '\\' && p.src[p.pos+1] == 'u' {
			if x, ok := p.hex4(p.pos + 2); ok {
				r2 = x
			}
		}
		if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
			p.pos += 6
			r = d
		} else {
			r = utf8.RuneError
		}
	}
	b.WriteRune(r)
	return nil
}

func (p *parser) hex4(at int) (rune, bool) {
	if at+4 > len(p.src) {
		return 0, false
	}
	var r rune
	for _, c := range []byte(p.src[at : at+4]) {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			r |= rune(c - 'A' + 10)
		default:
			return 0, false
		}
	}
	return r, true
}
