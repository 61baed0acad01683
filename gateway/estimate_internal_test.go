package gateway

import (
	"bytes"
	"testing"
)

// TestCompletionReleaseClears: the buffer an answer's text was kept in is
// cleared when it goes back to the pool.
func TestCompletionReleaseClears(t *testing.T) {
	var c completionText
	c.add("", []byte(`{"choices":[{"delta":{"content":"Maria Garcia"}}]}`))
	kept := c.buf
	if !bytes.Contains(kept, []byte("Maria Garcia")) {
		t.Fatalf("the text was not kept: %q", kept)
	}
	c.release()
	if c.buf != nil || bytes.ContainsFunc(kept, func(r rune) bool { return r != 0 }) {
		t.Errorf("after release: buf %v, the kept bytes %q", c.buf != nil, kept)
	}
}
