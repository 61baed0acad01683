package jsondoc

import "strings"

// Pattern matches paths: segments separated by dots, "*" matching any one
// key, "[]" any one index, e.g. "messages[].tool_calls[].function.arguments".
// A pattern starting with "**." matches at any depth (its rest must match
// the path's tail).
type Pattern struct {
	segs     []PathElem // Key "*" = any key; IsIndex with Index -1 = any index
	anyDepth bool
}

// P compiles a pattern; it panics on a malformed one (patterns are literals).
func P(s string) Pattern {
	var p Pattern
	if rest, ok := strings.CutPrefix(s, "**."); ok {
		p.anyDepth, s = true, rest
	}
	for _, part := range strings.Split(s, ".") {
		key, idx, _ := strings.Cut(part, "[")
		if key != "" {
			p.segs = append(p.segs, PathElem{Key: key})
		}
		for ; idx != ""; idx = strings.TrimPrefix(idx, "[") {
			if !strings.HasPrefix(idx, "]") {
				panic("jsondoc: bad pattern " + s)
			}
			idx = idx[1:]
			p.segs = append(p.segs, PathElem{Index: -1, IsIndex: true})
		}
	}
	return p
}

// Ps compiles patterns (see P).
func Ps(ss ...string) []Pattern {
	out := make([]Pattern, len(ss))
	for i, s := range ss {
		out[i] = P(s)
	}
	return out
}

// String renders the pattern as P reads it.
func (p Pattern) String() string {
	var b strings.Builder
	if p.anyDepth {
		b.WriteString("**.")
	}
	for i, s := range p.segs {
		switch {
		case s.IsIndex:
			b.WriteString("[]")
		case i > 0:
			b.WriteString("." + s.Key)
		default:
			b.WriteString(s.Key)
		}
	}
	return b.String()
}

func (p Pattern) matches(path Path) bool {
	if len(path) < len(p.segs) || (!p.anyDepth && len(path) != len(p.segs)) {
		return false
	}
	tail := path[len(path)-len(p.segs):]
	for i, s := range p.segs {
		e := tail[i]
		if s.IsIndex != e.IsIndex || (!s.IsIndex && s.Key != "*" && s.Key != e.Key) {
			return false
		}
	}
	return true
}

func match(ps []Pattern, path Path) bool {
	for _, p := range ps {
		if p.matches(path) {
			return true
		}
	}
	return false
}
