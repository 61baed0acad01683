package jsondoc

import (
	"strconv"
	"unicode/utf8"
)

// Encode writes v as compact JSON: members in order, numbers as their
// literals, strings escaped minimally (no HTML escaping, so the text a model
// sees keeps its <, > and &).
func Encode(v *Value) []byte { return AppendEncode(nil, v) }

// AppendEncode appends the encoding of v to dst.
func AppendEncode(dst []byte, v *Value) []byte {
	if v == nil {
		return append(dst, "null"...)
	}
	switch v.Kind {
	case Null:
		return append(dst, "null"...)
	case Bool, Number:
		return append(dst, v.Str...)
	case String:
		return AppendString(dst, v.Str)
	case Array:
		dst = append(dst, '[')
		for i := range v.Kids {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = AppendEncode(dst, v.Kids[i].Value)
		}
		return append(dst, ']')
	}
	dst = append(dst, '{')
	for i := range v.Kids {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = AppendString(dst, v.Kids[i].Key)
		dst = append(dst, ':')
		dst = AppendEncode(dst, v.Kids[i].Value)
	}
	return append(dst, '}')
}

const hexDigits = "0123456789abcdef"

// AppendString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD;
// U+2028 and U+2029 are escaped for JavaScript consumers.
func AppendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if i = plainUntil(s, i); i == len(s) {
			break
		}
		c := s[i]
		if c < utf8.RuneSelf {
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && size == 1) || r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			if r == utf8.RuneError {
				dst = append(dst, `\ufffd`...)
			} else {
				dst = append(dst, `\u`+strconv.FormatInt(int64(r), 16)...)
			}
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
