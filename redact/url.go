package redact

import (
	"sort"
	"strings"
)

// A URL is a container: its user name and password, host, path segments,
// query values and fragment are scanned like any text, and the URL finding
// is cut around what they hold, so that an allowed URL never carries the
// personal data inside it to the provider.

// urlPart is a range of a URL to scan: bytes [s, e) of the URL.
type urlPart struct {
	s, e   int
	query  bool // '+' means a space
	secret bool // the password of the userinfo
}

// maxURLDepth bounds URLs inside URLs (a redirect target in a query value).
const maxURLDepth = 2

// urlParts splits a URL into the parts worth scanning.
func urlParts(u string) []urlPart {
	var parts []urlPart
	rest := 0
	if k := strings.Index(u, "://"); k >= 0 {
		rest = k + 3
	}
	authEnd := len(u)
	if k := strings.IndexAny(u[rest:], "/?#"); k >= 0 {
		authEnd = rest + k
	}
	host := rest
	if at := strings.LastIndexByte(u[rest:authEnd], '@'); at >= 0 {
		info := u[rest : rest+at]
		if c := strings.IndexByte(info, ':'); c >= 0 {
			parts = appendPart(parts, urlPart{s: rest, e: rest + c})
			parts = appendPart(parts, urlPart{s: rest + c + 1, e: rest + at, secret: true})
		} else {
			parts = appendPart(parts, urlPart{s: rest, e: rest + at})
		}
		host = rest + at + 1
	}
	parts = appendPart(parts, urlPart{s: host, e: authEnd})
	pathEnd := len(u)
	if k := strings.IndexAny(u[authEnd:], "?#"); k >= 0 {
		pathEnd = authEnd + k
	}
	for s := authEnd; s < pathEnd; {
		e := strings.IndexByte(u[s+1:pathEnd], '/')
		if e < 0 {
			e = pathEnd
		} else {
			e += s + 1
		}
		parts = appendPart(parts, urlPart{s: s + 1, e: e})
		s = e
	}
	for s := pathEnd; s < len(u); {
		e := strings.IndexAny(u[s+1:], "&;#")
		if e < 0 {
			e = len(u)
		} else {
			e += s + 1
		}
		v := s + 1
		if eq := strings.IndexByte(u[v:e], '='); eq >= 0 {
			v += eq + 1
		}
		parts = appendPart(parts, urlPart{s: v, e: e, query: true})
		s = e
	}
	return parts
}

func appendPart(parts []urlPart, p urlPart) []urlPart {
	if p.e > p.s {
		parts = append(parts, p)
	}
	return parts
}

// decodeURLPart decodes every percent-escape (and '+' in a query) so the
// part reads as the text it encodes.
func decodeURLPart(s string, query bool) normalized {
	if strings.IndexByte(s, '%') < 0 && (!query || strings.IndexByte(s, '+') < 0) {
		return normalized{s: s}
	}
	b := normBuilder{src: s}
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '%' && i+2 < len(s) && isHexByte(s[i+1]) && isHexByte(s[i+2]):
			b.replace(i, i+3, string([]byte{hexVal(s[i+1])<<4 | hexVal(s[i+2])}))
			i += 2
		case s[i] == '+' && query:
			b.replace(i, i+1, " ")
		}
	}
	return b.result()
}

// urlInner scans the parts of the URL at text[s:e] and returns what they
// hold, in offsets of the text.
func (st *scanState) urlInner(s, e int) []Finding {
	u := st.text[s:e]
	var out []Finding
	for _, p := range urlParts(u) {
		if p.secret {
			if p.e-p.s >= 3 {
				out = append(out, Finding{Type: Secret, Start: s + p.s, End: s + p.e, Score: 0.9})
			}
			continue
		}
		dec := decodeURLPart(u[p.s:p.e], p.query)
		n, fs := st.sc.detectNorm(dec.s, st.depth+1)
		for _, f := range fs {
			if f.Type == URL {
				continue // the host itself, or a URL in a value: the outer URL covers it
			}
			a := n.origStart(f.Start)
			b := n.origEnd(f.End)
			f.Start = s + p.s + dec.origStart(a)
			f.End = s + p.s + dec.origEnd(b)
			if f.End > f.Start {
				out = append(out, f)
			}
		}
	}
	return out
}

// splitURLs replaces each URL finding that holds other findings by the
// pieces of the URL around them plus those findings.
func splitURLs(fs []Finding, inner map[int][]Finding) []Finding {
	if len(inner) == 0 {
		return fs
	}
	var out []Finding
	for _, f := range fs {
		in, ok := inner[f.Start]
		if f.Type != URL || !ok || len(in) == 0 {
			out = append(out, f)
			continue
		}
		in = resolve(in)
		sort.Slice(in, func(i, j int) bool { return in[i].Start < in[j].Start })
		last := f.Start
		for _, x := range in {
			if x.Start < last || x.End > f.End {
				continue
			}
			if x.Start > last {
				out = append(out, Finding{Type: URL, Start: last, End: x.Start, Score: f.Score})
			}
			out = append(out, x)
			last = x.End
		}
		if last < f.End {
			out = append(out, Finding{Type: URL, Start: last, End: f.End, Score: f.Score})
		}
	}
	return out
}
