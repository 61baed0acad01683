package jsondoc

import (
	"bytes"
	"encoding/json"
)

// Find finds one member of the JSON object data is, without building a
// tree: the byte span [start, end) of the value of key. It reads the top
// level only, skipping the other members' values by their brackets and
// strings; nested values are not checked for validity beyond that. An
// object that names key twice is an ErrDuplicateKey (which value counts
// would be ambiguous), data that is not an object an ErrSyntax. Keys are
// compared as their bytes, escapes decoded; invalid UTF-8 is compared as it
// is, not replaced by U+FFFD as encoding/json does.
func Find(data []byte, key string) (start, end int, found bool, err error) {
	s := scanner{data: data}
	s.space()
	if !s.eat('{') {
		return 0, 0, false, ErrSyntax
	}
	s.space()
	if s.eat('}') {
		return 0, 0, false, s.tail()
	}
	for {
		k, ok := s.key()
		if !ok {
			return 0, 0, false, ErrSyntax
		}
		s.space()
		if !s.eat(':') {
			return 0, 0, false, ErrSyntax
		}
		s.space()
		vs := s.i
		if !s.skipValue(0) {
			return 0, 0, false, ErrSyntax
		}
		if k == key {
			if found {
				return 0, 0, false, ErrDuplicateKey
			}
			start, end, found = vs, s.i, true
		}
		s.space()
		if s.eat('}') {
			if err := s.tail(); err != nil {
				return 0, 0, false, err
			}
			return start, end, found, nil
		}
		if !s.eat(',') {
			return 0, 0, false, ErrSyntax
		}
		s.space()
	}
}

// scanner walks JSON bytes without allocating (but for escaped keys).
type scanner struct {
	data []byte
	i    int
}

func (s *scanner) space() {
	for s.i < len(s.data) && (s.data[s.i] == ' ' || s.data[s.i] == '\t' || s.data[s.i] == '\n' || s.data[s.i] == '\r') {
		s.i++
	}
}

func (s *scanner) eat(c byte) bool {
	if s.i < len(s.data) && s.data[s.i] == c {
		s.i++
		return true
	}
	return false
}

// tail accepts only whitespace after the document.
func (s *scanner) tail() error {
	s.space()
	if s.i != len(s.data) {
		return ErrSyntax
	}
	return nil
}

// key reads a member name, unescaped.
func (s *scanner) key() (string, bool) {
	from := s.i
	if !s.skipString() {
		return "", false
	}
	raw := s.data[from:s.i]
	if bytes.IndexByte(raw, '\\') < 0 {
		return string(raw[1 : len(raw)-1]), true
	}
	var k string
	if json.Unmarshal(raw, &k) != nil {
		return "", false
	}
	return k, true
}

// skipString skips a string, escapes included; control characters are
// refused as JSON refuses them.
func (s *scanner) skipString() bool {
	if !s.eat('"') {
		return false
	}
	for s.i < len(s.data) {
		switch c := s.data[s.i]; {
		case c == '"':
			s.i++
			return true
		case c == '\\':
			s.i += 2
		case c < 0x20:
			return false
		default:
			s.i++
		}
	}
	return false
}

// skipValue skips one value; depth bounds the nesting.
func (s *scanner) skipValue(depth int) bool {
	if s.i >= len(s.data) || depth > DefaultMaxDepth {
		return false
	}
	switch c := s.data[s.i]; {
	case c == '"':
		return s.skipString()
	case c == '{' || c == '[':
		return s.skipContainer(depth)
	case c == '-' || (c >= '0' && c <= '9'):
		for s.i < len(s.data) && bytes.IndexByte([]byte("+-.eE0123456789"), s.data[s.i]) >= 0 {
			s.i++
		}
		return true
	}
	for _, lit := range []string{"true", "false", "null"} {
		if bytes.HasPrefix(s.data[s.i:], []byte(lit)) {
			s.i += len(lit)
			return true
		}
	}
	return false
}

// skipContainer skips an object or an array and what it holds.
func (s *scanner) skipContainer(depth int) bool {
	open := s.data[s.i]
	closing := byte('}')
	if open == '[' {
		closing = ']'
	}
	s.i++
	s.space()
	if s.eat(closing) {
		return true
	}
	for {
		if open == '{' {
			if !s.skipString() {
				return false
			}
			s.space()
			if !s.eat(':') {
				return false
			}
			s.space()
		}
		if !s.skipValue(depth + 1) {
			return false
		}
		s.space()
		if s.eat(closing) {
			return true
		}
		if !s.eat(',') {
			return false
		}
		s.space()
	}
}
