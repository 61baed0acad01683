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
	dup, bad := false, false
	err = Members(data, func(name []byte, vs, ve int) bool {
		match, ok := nameIs(name, key)
		bad = !ok
		if !match {
			return ok
		}
		dup = found
		start, end, found = vs, ve, true
		return !dup
	})
	switch {
	case err != nil || bad:
		return 0, 0, false, ErrSyntax
	case dup:
		return 0, 0, false, ErrDuplicateKey
	}
	return start, end, found, nil
}

// Members calls fn with each top-level member of the JSON object data, in
// order: its name as written between the quotes (escapes not decoded) and
// the byte span [start, end) of its value, until fn returns false. Values
// are skipped by their brackets and strings, as Find skips them; data that
// is not an object (or, when fn never stops, has anything but whitespace
// after it) is an ErrSyntax.
func Members(data []byte, fn func(name []byte, start, end int) bool) error {
	s := scanner{data: data}
	s.space()
	if !s.eat('{') {
		return ErrSyntax
	}
	s.space()
	if s.eat('}') {
		return s.tail()
	}
	for {
		from := s.i
		if !s.skipString() {
			return ErrSyntax
		}
		name := s.data[from+1 : s.i-1]
		s.space()
		if !s.eat(':') {
			return ErrSyntax
		}
		s.space()
		vs := s.i
		if !s.skipValue(0) {
			return ErrSyntax
		}
		if !fn(name, vs, s.i) {
			return nil
		}
		s.space()
		if s.eat('}') {
			return s.tail()
		}
		if !s.eat(',') {
			return ErrSyntax
		}
		s.space()
	}
}

// nameIs reports whether a member name as written is key once unescaped,
// and false for ok when its escapes are not JSON's; only a name with
// escapes is decoded (and allocates).
func nameIs(name []byte, key string) (match, ok bool) {
	if bytes.IndexByte(name, '\\') < 0 {
		return string(name) == key, true
	}
	var k string
	quoted := make([]byte, 0, len(name)+2)
	quoted = append(append(append(quoted, '"'), name...), '"')
	if json.Unmarshal(quoted, &k) != nil {
		return false, false
	}
	return k == key, true
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
