package redact

import (
	"errors"
	"fmt"
)

// ErrTooManyFindings reports a request holding more findings than the
// scanner's MaxFindings: the scan stopped there, so its result must not be
// used to forward anything.
var ErrTooManyFindings = errors.New("redact: too many findings")

// A long text is scanned in windows so that the scanner's working memory
// (words, sentences, candidates) stays bounded whatever the text's size. A
// window reads segOverlap bytes of context on either side of its own part
// and keeps the findings that start in that part; the overlap is wider
// than any identifier, label or PEM block the detectors read.
const (
	segWindow  = 256 << 10
	segOverlap = 8 << 10
)

// limit counts findings against Options.MaxFindings over one Inspect or
// Scan call, and carries the call's view of the Options.Cache (nil: none).
type limit struct {
	max, n int
	cache  *scoped
}

func (l *limit) take(n int) error {
	l.n += n
	if l.max > 0 && l.n > l.max {
		return fmt.Errorf("%w: more than %d", ErrTooManyFindings, l.max)
	}
	return nil
}

// detectText scans text, in windows when it is long. A windowed result is
// in offsets of text as given and comes with text itself as its
// "normalized" form (no edits), so that mapping back is the identity.
func (sc *Scanner) detectText(text string, lim *limit) (normalized, []Finding, error) {
	k, keep := lim.cache.key(text)
	if keep {
		if fs, taken, ok := lim.cache.c.get(k, len(text)); ok {
			return normalizedFor(text), fs, lim.take(taken)
		}
	}
	before := lim.n
	n, fs, err := sc.scanText(text, lim)
	if err == nil && keep {
		lim.cache.c.put(k, cacheEntry{fs: fs, size: len(text), taken: lim.n - before})
	}
	return n, fs, err
}

// normalizedFor is the normalized form detectText returns with text's
// findings: text's own, or text itself when it is read in windows.
func normalizedFor(text string) normalized {
	if long(text) {
		return normalized{s: text}
	}
	return normalize(text)
}

// scanText is detectText without the cache.
func (sc *Scanner) scanText(text string, lim *limit) (normalized, []Finding, error) {
	if !long(text) {
		n, fs := sc.detectNorm(text, 0)
		return n, fs, lim.take(len(fs))
	}
	var out []Finding
	for lo := 0; lo < len(text); {
		hi := windowEnd(text, lo)
		a, b := cutBefore(text, lo-segOverlap), cutAt(text, hi+segOverlap)
		n, fs := sc.detectNorm(text[a:b], 0)
		kept := 0
		for _, f := range mapBack(n, fs) {
			if f.Start+a >= lo && f.Start+a < hi {
				f.Start, f.End = f.Start+a, f.End+a
				out = append(out, f)
				kept++
			}
		}
		if err := lim.take(kept); err != nil {
			return normalized{s: text}, nil, err
		}
		lo = hi
	}
	return normalized{s: text}, resolve(out), nil
}

// long reports whether text is read in windows.
func long(text string) bool { return len(text) > segWindow+2*segOverlap }

// windowEnd is where the window of text that starts at lo ends: the whole
// text when it is not long.
func windowEnd(text string, lo int) int {
	if !long(text) {
		return len(text)
	}
	return cutAt(text, lo+segWindow)
}

// cutAt is the first offset at or after p where a window may end: after
// an ASCII space or line break, so that no word is split (within a word
// of more than segOverlap bytes, which no detector matches, anywhere).
func cutAt(text string, p int) int {
	if p >= len(text) {
		return len(text)
	}
	for q := p; q < len(text) && q < p+segOverlap; q++ {
		if isSpace(text[q]) {
			return q + 1
		}
	}
	return runeStart(text, p)
}

// cutBefore is the last such offset at or before p.
func cutBefore(text string, p int) int {
	if p <= 0 {
		return 0
	}
	for q := p; q > 0 && q > p-segOverlap; q-- {
		if isSpace(text[q-1]) {
			return q
		}
	}
	return runeStart(text, p)
}

// runeStart moves p back to the start of the UTF-8 sequence it falls in.
func runeStart(text string, p int) int {
	for k := 0; k < 3 && p > 0 && p < len(text) && text[p]&0xC0 == 0x80; k++ {
		p--
	}
	return p
}
