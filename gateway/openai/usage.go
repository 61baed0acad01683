package openai

import (
	"bytes"
	"encoding/json"

	"github.com/custos-gateway/custos/gateway/jsondoc"
)

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

// UsageOnlyChunk reports a stream chunk that carries usage and no choices
// (no "choices", or an empty or null one), as encoding/json reads it.
func UsageOnlyChunk(data []byte) bool {
	if empty, ok := choicesEmpty(data); ok {
		return empty
	}
	var v struct {
		Choices []struct{} `json:"choices"`
	}
	return json.Unmarshal(data, &v) == nil && len(v.Choices) == 0
}

// choicesEmpty answers UsageOnlyChunk without reflection for a valid
// object of plain keys (members') that names "choices" at most once; ok is
// false for anything else.
func choicesEmpty(data []byte) (empty, ok bool) {
	if !json.Valid(data) {
		return false, true // encoding/json refuses it too
	}
	empty, seen := true, false
	ok = members(data, func(key, v []byte) bool {
		if string(key) != "choices" {
			return true
		}
		if seen {
			return false
		}
		seen = true
		v = bytes.TrimSpace(v)
		empty = string(v) == "null" || v[0] == '[' && len(bytes.TrimSpace(v[1:len(v)-1])) == 0
		return true
	})
	return empty, ok
}

// members calls f with each member of the object b, which must be all of
// b, until f returns false: keys of lower-case letters, digits and
// underscores (so that encoding/json's case-insensitive match of field
// names picks the same field). False: b is not such an object, or f said
// so.
func members(b []byte, f func(key, v []byte) bool) bool {
	ok := true
	err := jsondoc.Members(b, func(key []byte, start, end int) bool {
		ok = plainKey(key) && f(key, b[start:end])
		return ok
	})
	return ok && err == nil
}

// plainKey: a key of lower-case letters, digits and underscores.
func plainKey(k []byte) bool {
	for _, c := range k {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return len(k) > 0
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
