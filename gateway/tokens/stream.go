package tokens

import (
	"unicode/utf8"
)

// flushAt is how much completion text a Stream buffers before counting up
// to its last cut point; forceAt is how much it holds at most when the text
// has no cut point (then it cuts at a rune boundary, an approximation).
const (
	flushAt = 4 << 10
	forceAt = 64 << 10
)

// Stream counts a completion as it is relayed, delta by delta, holding at
// most a few kilobytes of it: text is counted up to a cut point as it
// arrives and the counted part is dropped. The count equals counting the
// whole text at once. A Stream is not safe for concurrent use.
type Stream struct {
	enc     *encoding
	basis   Basis
	buf     []byte
	scanned int // buf[:scanned] has been searched for cut points
	cut     int // the last cut point found in buf[:scanned], or 0
	tokens  int64
	forced  bool
}

// Stream starts counting a completion of model.
func (c *Counter) Stream(model string) *Stream {
	name, basis := EncodingFor(model)
	return &Stream{enc: c.enc[name], basis: basis}
}

// Write adds a delta of completion text.
func (s *Stream) Write(delta string) {
	s.buf = append(s.buf, delta...)
	if len(s.buf) < flushAt {
		return
	}
	from := max(s.scanned-utf8.UTFMax, 0) // isCut looks back one rune
	fresh := string(s.buf[from:])
	for j := max(s.scanned, 1); j < len(s.buf); j++ {
		if isCut(fresh, j-from) {
			s.cut = j
		}
	}
	s.scanned = len(s.buf)
	cut := s.cut
	if cut == 0 {
		if len(s.buf) < forceAt {
			return
		}
		cut = len(s.buf) - utf8.UTFMax
		for cut > 0 && !utf8.RuneStart(s.buf[cut]) {
			cut--
		}
		s.forced = true
	}
	s.tokens += int64(s.enc.exact(validText(string(s.buf[:cut]))))
	n := copy(s.buf, s.buf[cut:])
	clear(s.buf[n:])
	s.buf, s.scanned, s.cut = s.buf[:n], 0, 0
}

// Close counts the rest and returns the completion's count; the buffer is
// cleared. Sampled is set when a cut had to fall inside a piece.
func (s *Stream) Close() Count {
	s.tokens += int64(s.enc.exact(validText(string(s.buf))))
	clear(s.buf)
	s.buf, s.scanned, s.cut = s.buf[:0], 0, 0
	return Count{Tokens: s.tokens, Encoding: s.enc.name, Basis: s.basis, Sampled: s.forced, Estimated: true}
}

func validText(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return string([]rune(s))
}
