package gateway

import (
	"bytes"
	"testing"
)

// TestCompletionReleaseClears: the buffer an answer's text was kept in is
// cleared when it goes back to the pool (or is dropped, being large), and
// so is every array it outgrew.
func TestCompletionReleaseClears(t *testing.T) {
	var c completionText
	piece := []byte(`{"choices":[{"delta":{"content":"Maria Garcia"}}]}`)
	c.add("", piece)
	first := c.buf
	for range 4 * (64 << 10) / len(piece) { // past the pooled size: it grows, and is dropped at release
		c.add("", piece)
	}
	if cap(c.buf) <= 64<<10 || cap(first) == cap(c.buf) {
		t.Fatalf("the buffer did not grow past the pooled size: %d", cap(c.buf))
	}
	if bytes.ContainsFunc(first[:cap(first)], func(r rune) bool { return r != 0 }) {
		t.Errorf("the outgrown array still holds text")
	}
	kept := c.buf
	if !bytes.Contains(kept, []byte("Maria Garcia")) {
		t.Fatalf("the text was not kept: %q", kept)
	}
	c.release()
	if c.buf != nil || bytes.ContainsFunc(kept, func(r rune) bool { return r != 0 }) {
		t.Errorf("after release: buf %v, the kept bytes %q", c.buf != nil, kept)
	}
}
