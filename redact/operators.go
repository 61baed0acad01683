package redact

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Action is what to do with one data class.
type Action string

// Operators.
const (
	Allow        Action = "allow"
	Mask         Action = "mask"
	Pseudonymize Action = "pseudonymize"
	Hash         Action = "hash"
	Block        Action = "block"
)

// ErrBlocked means the text holds a class whose action is block; the caller
// must refuse the request. The error names types, never values.
var ErrBlocked = errors.New("redact: blocked data class present")

// BlockedError lists the blocked types found.
type BlockedError struct{ Types []Type }

func (e *BlockedError) Error() string {
	parts := make([]string, len(e.Types))
	for i, t := range e.Types {
		parts[i] = string(t)
	}
	return "redact: blocked data classes present: " + strings.Join(parts, ", ")
}

func (e *BlockedError) Unwrap() error { return ErrBlocked }

// Session holds one request's pseudonym mapping, in memory only. The same
// value gets the same placeholder within a session, across all the fields
// of the request. A Session is not safe for concurrent use.
type Session struct {
	hashKey  []byte
	byValue  map[string]string // type + NUL + value → placeholder
	byHolder map[string]string // placeholder → value
	counters map[Type]int
}

// NewSession starts a request's mapping. hashKey keys the hash operator; it
// is supplied by the caller and may be nil when hash is never chosen.
func NewSession(hashKey []byte) *Session {
	return &Session{hashKey: hashKey, byValue: map[string]string{}, byHolder: map[string]string{}, counters: map[Type]int{}}
}

// Placeholders returns the number of distinct pseudonyms issued.
func (s *Session) Placeholders() int { return len(s.byHolder) }

// Apply rewrites text, replacing each finding per its type's action
// (actions missing from the map default to pseudonymize). It returns
// *BlockedError, and no text, if any finding's action is block.
func (s *Session) Apply(text string, fs []Finding, actions map[Type]Action) (string, error) {
	var blocked []Type
	for _, f := range fs {
		if actions[f.Type] == Block {
			blocked = appendUnique(blocked, f.Type)
		}
	}
	if len(blocked) > 0 {
		return "", &BlockedError{Types: blocked}
	}
	var b strings.Builder
	b.Grow(len(text))
	last := 0
	for _, f := range fs {
		if f.Start < last || f.End > len(text) {
			continue
		}
		b.WriteString(text[last:f.Start])
		value := text[f.Start:f.End]
		act, ok := actions[f.Type]
		if !ok {
			act = Pseudonymize
		}
		switch act {
		case Allow:
			b.WriteString(value)
		case Mask:
			b.WriteString(mask(value))
		case Hash:
			b.WriteString(s.hash(f.Type, value))
		default:
			b.WriteString(s.pseudonym(f.Type, value))
		}
		last = f.End
	}
	b.WriteString(text[last:])
	return b.String(), nil
}

func (s *Session) pseudonym(t Type, value string) string {
	k := string(t) + "\x00" + value
	if p, ok := s.byValue[k]; ok {
		return p
	}
	s.counters[t]++
	p := "[" + string(t) + "_" + strconv.Itoa(s.counters[t]) + "]"
	s.byValue[k] = p
	s.byHolder[p] = value
	return p
}

// hash gives a keyed token, stable across requests for the same key.
func (s *Session) hash(t Type, value string) string {
	m := hmac.New(sha256.New, s.hashKey)
	m.Write([]byte(t))
	m.Write([]byte{0})
	m.Write([]byte(value))
	return "[" + string(t) + ":" + hex.EncodeToString(m.Sum(nil))[:16] + "]"
}

// mask keeps the last four letters or digits (two for short values) and
// hides the rest, keeping separators so the shape stays readable.
func mask(v string) string {
	alnum := 0
	for _, r := range v {
		if isAlnumRune(r) {
			alnum++
		}
	}
	keep := 4
	if alnum <= 8 {
		keep = 2
	}
	if alnum <= 4 {
		keep = 0
	}
	if at := strings.IndexByte(v, '@'); at > 0 {
		// e-mail: keep the domain, hide the mailbox
		return strings.Repeat("*", utf8.RuneCountInString(v[:at])) + v[at:]
	}
	var b strings.Builder
	seen := 0
	for _, r := range v {
		if isAlnumRune(r) {
			seen++
			if seen > alnum-keep {
				b.WriteRune(r)
			} else {
				b.WriteByte('*')
			}
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func isAlnumRune(r rune) bool {
	return r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r > 127
}

func appendUnique(ts []Type, t Type) []Type {
	for _, x := range ts {
		if x == t {
			return ts
		}
	}
	return append(ts, t)
}

// Lookup returns the value behind a placeholder issued by this session.
func (s *Session) Lookup(placeholder string) (string, bool) {
	v, ok := s.byHolder[placeholder]
	return v, ok
}

// MaxPlaceholderLen is the longest placeholder a session can issue.
func (s *Session) MaxPlaceholderLen() int {
	n := 0
	for p := range s.byHolder {
		n = max(n, len(p))
	}
	return n
}
