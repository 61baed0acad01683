package pricing

import (
	"slices"
	"strconv"
	"strings"
	"time"
)

// object checks that n is an object with no duplicate keys, every required
// field and no field outside fs. An empty fieldSet allows any key (maps of
// names).
func (c *checker) object(n *node, path string, fs fieldSet) bool {
	if n == nil {
		return false
	}
	if n.kind != kindObject {
		c.add(path, "must be an object, not %s", n.kind)
		return false
	}
	for _, k := range n.dup {
		c.add(childOf(path, k, fs), "appears more than once")
	}
	if len(fs.required) == 0 && len(fs.optional) == 0 {
		return true
	}
	for _, k := range fs.required {
		if n.get(k) == nil {
			c.add(field(path, k), "is required")
		}
	}
	for _, k := range n.keys {
		if !slices.Contains(fs.required, k) && !slices.Contains(fs.optional, k) {
			c.add(childOf(path, k, fs), "is not a known field (known: %s)",
				strings.Join(append(slices.Clone(fs.required), fs.optional...), ", "))
		}
	}
	return true
}

func childOf(path, k string, fs fieldSet) string {
	if len(fs.required) == 0 && len(fs.optional) == 0 {
		return key(path, k)
	}
	return field(path, k)
}

func (c *checker) str(n *node, path string) (string, bool) {
	if n == nil {
		return "", false
	}
	if n.kind != kindString {
		c.add(path, "must be a string, not %s", n.kind)
		return "", false
	}
	return n.str, true
}

func (c *checker) optStr(n *node, path string) (string, bool) {
	if n == nil {
		return "", false
	}
	return c.str(n, path)
}

// name reads a non-empty string without surrounding space.
func (c *checker) name(n *node, path string) (string, bool) {
	s, ok := c.str(n, path)
	if ok && (s == "" || strings.TrimSpace(s) != s || len(s) > 200) {
		c.add(path, "must be a non-empty name of at most 200 characters without surrounding space")
		return "", false
	}
	return s, ok
}

func (c *checker) currency(n *node, path string) (string, bool) {
	s, ok := c.str(n, path)
	if !ok {
		return "", false
	}
	if len(s) != 3 || strings.ToUpper(s) != s || strings.IndexFunc(s, func(r rune) bool { return r < 'A' || r > 'Z' }) >= 0 {
		c.add(path, "must be an ISO 4217 currency code such as \"USD\"")
		return "", false
	}
	return s, true
}

// integer reads a whole number in [lo, hi]. Only plain digits are accepted:
// no fraction, no exponent, so that no price ever passes through a float.
func (c *checker) integer(n *node, path string, lo, hi int64, unit string) (int64, bool) {
	if n == nil {
		return 0, false
	}
	if n.kind != kindNumber {
		c.add(path, "must be an integer from %d to %d (%s), not %s", lo, hi, unit, n.kind)
		return 0, false
	}
	v, err := strconv.ParseInt(n.str, 10, 64)
	if err != nil || v < lo || v > hi {
		c.add(path, "must be an integer from %d to %d (%s), not %s", lo, hi, unit, n.str)
		return 0, false
	}
	return v, true
}

// date reads "2025-06-10" (00:00 UTC that day) or an RFC 3339 time.
func (c *checker) date(n *node, path string) (time.Time, bool) {
	s, ok := c.str(n, path)
	if !ok {
		return time.Time{}, false
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, true
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), true
	}
	c.add(path, "must be a date (2006-01-02, meaning 00:00 UTC) or an RFC 3339 time, not %q", s)
	return time.Time{}, false
}
