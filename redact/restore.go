package redact

import "strings"

// Restorer puts pseudonymized values back into an answer that arrives in
// chunks (stream deltas). A placeholder may be split across any chunk
// boundary; the restorer holds back only a tail that could still become a
// placeholder, never more than the longest placeholder the session issued.
type Restorer struct {
	sess    *Session
	maxLen  int
	pending string
}

// NewRestorer returns a restorer for the session's placeholders.
func (s *Session) NewRestorer() *Restorer {
	return &Restorer{sess: s, maxLen: s.MaxPlaceholderLen()}
}

// Write takes the next chunk and returns the text that can be emitted now.
func (r *Restorer) Write(chunk string) string {
	if r.maxLen == 0 {
		return chunk // nothing was pseudonymized: nothing to hold back
	}
	buf := r.pending + chunk
	hold := r.holdFrom(buf)
	r.pending = buf[hold:]
	return r.Restore(buf[:hold])
}

// Flush returns whatever is held back, at the end of the stream.
func (r *Restorer) Flush() string {
	out := r.Restore(r.pending)
	r.pending = ""
	return out
}

// holdFrom returns where a possibly unfinished placeholder starts.
func (r *Restorer) holdFrom(buf string) int {
	i := strings.LastIndexByte(buf, '[')
	if i < 0 {
		return len(buf)
	}
	tail := buf[i:]
	if len(tail) >= r.maxLen || !placeholderPrefix(tail) {
		return len(buf)
	}
	return i
}

// placeholderPrefix reports whether s ("[" and what follows, no "]") could
// still grow into a placeholder such as [PERSON_12].
func placeholderPrefix(s string) bool {
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !(isUpper(c) || c == '_' || isDigit(c)) {
			return false
		}
	}
	return true
}

// Restore replaces every complete placeholder the session issued.
func (r *Restorer) Restore(s string) string {
	if strings.IndexByte(s, '[') < 0 {
		return s
	}
	var b strings.Builder
	last := 0
	for i := 0; i < len(s); i++ {
		if s[i] != '[' {
			continue
		}
		j := strings.IndexByte(s[i:], ']')
		if j < 0 {
			break
		}
		if v, ok := r.sess.Lookup(s[i : i+j+1]); ok {
			b.WriteString(s[last:i])
			b.WriteString(v)
			last = i + j + 1
			i += j
		}
	}
	b.WriteString(s[last:])
	return b.String()
}
