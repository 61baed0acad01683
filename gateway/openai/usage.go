package openai

// quickUsage reads a usage object of the plain shape providers send
// (lower-case keys without escapes, whole non-negative numbers of at most
// 18 digits, the two detail objects of the same shape, each key once)
// into the Usage encoding/json would make of it; anything else returns
// false and is left to encoding/json (FuzzQuickUsage holds the two to the
// same answer). Every answer's usage is read, and encoding/json's
// reflection cost more than the rest of reading the answer.
func quickUsage(b []byte) (*Usage, bool) {
	u := &Usage{}
	var seen uint
	ok := members(b, func(key, v []byte) bool {
		var bit uint
		var ok bool
		switch string(key) {
		case "prompt_tokens":
			bit, ok = 1, wholeNumber(v, &u.PromptTokens)
		case "completion_tokens":
			bit, ok = 2, wholeNumber(v, &u.CompletionTokens)
		case "total_tokens":
			bit, ok = 4, wholeNumber(v, &u.TotalTokens)
		case "prompt_tokens_details":
			d := &PromptDetails{}
			u.PromptTokensDetails = d
			bit, ok = 8, counts(v, []string{"cached_tokens", "cache_write_tokens"}, &d.CachedTokens, &d.CacheWriteTokens)
		case "completion_tokens_details":
			d := &CompletionDetails{}
			u.CompletionTokensDetails = d
			bit, ok = 16, counts(v, []string{"reasoning_tokens"}, &d.ReasoningTokens)
		default:
			var skip int64
			return wholeNumber(v, &skip) // a count this gateway does not read
		}
		if !ok || seen&bit != 0 {
			return false // a key twice: encoding/json merges, the last one wins
		}
		seen |= bit
		return true
	})
	return u, ok
}

// counts reads an object of whole numbers, the members named into their
// fields, each at most once, and skips the rest (counts this gateway does
// not read).
func counts(b []byte, names []string, fields ...*int64) bool {
	var seen uint
	return members(b, func(key, v []byte) bool {
		var skip int64
		p, bit := &skip, uint(0)
		for i, n := range names {
			if n == string(key) {
				p, bit = fields[i], 1<<i
			}
		}
		if !wholeNumber(v, p) || seen&bit != 0 {
			return false
		}
		seen |= bit
		return true
	})
}

// members calls f with each member of the object b, which must be all of
// b: keys of lower-case letters, digits and underscores (so that
// encoding/json's case-insensitive match of field names picks the same
// field), values a whole number or, at the top level, an object of such
// members. False: b is not of that shape, or f said so.
func members(b []byte, f func(key, v []byte) bool) bool {
	i := space(b, 0)
	if i == len(b) || b[i] != '{' {
		return false
	}
	if i = space(b, i+1); i < len(b) && b[i] == '}' {
		return space(b, i+1) == len(b)
	}
	for i < len(b) {
		k, j, ok := plainKey(b, i)
		if !ok {
			return false
		}
		if j = space(b, j); j == len(b) || b[j] != ':' {
			return false
		}
		start := space(b, j+1)
		end := valueEnd(b, start)
		if end < 0 || !f(k, b[start:end]) {
			return false
		}
		if i = space(b, end); i == len(b) {
			return false
		}
		switch b[i] {
		case '}':
			return space(b, i+1) == len(b)
		case ',':
			i = space(b, i+1)
		default:
			return false
		}
	}
	return false
}

// plainKey reads the key starting at b[i], a quote.
func plainKey(b []byte, i int) ([]byte, int, bool) {
	if i >= len(b) || b[i] != '"' {
		return nil, 0, false
	}
	for j := i + 1; j < len(b); j++ {
		switch c := b[j]; {
		case c == '"':
			return b[i+1 : j], j + 1, j > i+1
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '_':
		default:
			return nil, 0, false
		}
	}
	return nil, 0, false
}

// valueEnd is the end of the digits, or of the object without objects or
// arrays in it, at b[i]; -1 for anything else. (A brace inside a key ends
// the object early, and members then finds the key unterminated.)
func valueEnd(b []byte, i int) int {
	j := i
	if j < len(b) && b[j] == '{' {
		for j++; j < len(b) && b[j] != '}'; j++ {
			if b[j] == '{' || b[j] == '[' {
				return -1
			}
		}
		if j == len(b) {
			return -1
		}
		return j + 1
	}
	for j < len(b) && b[j] >= '0' && b[j] <= '9' {
		j++
	}
	if j == i {
		return -1
	}
	return j
}

// wholeNumber reads v, digits only, into n: no sign, no fraction or
// exponent, no leading zero, at most 18 digits (within int64).
func wholeNumber(v []byte, n *int64) bool {
	if len(v) == 0 || len(v) > 18 || (v[0] == '0' && len(v) > 1) {
		return false
	}
	var x int64
	for _, c := range v {
		if c < '0' || c > '9' {
			return false
		}
		x = x*10 + int64(c-'0')
	}
	*n = x
	return true
}

func space(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}
