package ner

import (
	"strings"
	"unicode/utf8"
)

// WordSet is a set of words for the cue lists read at every word: a word is
// looked for only among the members of its length and first, middle and
// last bytes, and most words are rejected by one bit test, without hashing
// the whole word as a map does.
type WordSet struct {
	present []uint64
	start   []uint32 // members of slot h are words[start[h]:start[h+1]]
	mask    uint32   // slots - 1
	words   []string
	empty   bool // "" is a member
}

// slot places a word of length n, first byte a, middle byte b and last
// byte z.
func (s *WordSet) slot(n int, a, b, z byte) uint32 {
	h := uint32(n)*0x9e3779b1 ^ uint32(a)*0x85ebca6b ^ uint32(b)*0x27d4eb2f ^ uint32(z)*0xc2b2ae35
	return (h ^ h>>15) & s.mask
}

// NewWordSet returns the set of the words.
func NewWordSet(ws ...string) *WordSet {
	s := &WordSet{}
	set := make(map[string]bool, len(ws))
	for _, w := range ws {
		set[w] = true
	}
	slots := 64 // sparse, so that most words find their slot empty
	for slots < 16*len(set) && slots < 4096 || slots < 4*len(set) {
		slots *= 2
	}
	s.mask = uint32(slots - 1)
	s.present = make([]uint64, slots/64)
	s.start = make([]uint32, slots+1)
	by := make([][]string, slots)
	for w := range set {
		if w == "" {
			s.empty = true
			continue
		}
		h := s.slot(len(w), w[0], w[len(w)/2], w[len(w)-1])
		by[h] = append(by[h], w)
		s.present[h/64] |= 1 << (h % 64)
	}
	for h := range by {
		s.start[h] = uint32(len(s.words))
		for _, w := range by[h] {
			// A copy: a word cut from a large text must not keep it alive.
			s.words = append(s.words, strings.Clone(w))
		}
	}
	s.start[slots] = uint32(len(s.words))
	return s
}

// Has reports whether w is a member.
func (s *WordSet) Has(w string) bool {
	if len(w) == 0 {
		return s.empty
	}
	h := s.slot(len(w), w[0], w[len(w)/2], w[len(w)-1])
	if s.present[h/64]&(1<<(h%64)) == 0 {
		return false
	}
	for _, x := range s.words[s.start[h]:s.start[h+1]] {
		if x == w {
			return true
		}
	}
	return false
}

// HasLower reports whether strings.ToLower(w) is a member, without
// allocating for an ASCII word.
func (s *WordSet) HasLower(w string) bool {
	if len(w) == 0 {
		return s.empty
	}
	var any byte
	for i := 0; i < len(w); i++ {
		any |= w[i]
	}
	if any >= utf8.RuneSelf {
		return s.Has(strings.ToLower(w))
	}
	h := s.slot(len(w), foldByte(w[0]), foldByte(w[len(w)/2]), foldByte(w[len(w)-1]))
	if s.present[h/64]&(1<<(h%64)) == 0 {
		return false
	}
	for _, x := range s.words[s.start[h]:s.start[h+1]] {
		if len(x) == len(w) && equalLowerASCII(x, w) {
			return true
		}
	}
	return false
}

// foldByte lower-cases an ASCII letter.
func foldByte(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// equalLowerASCII: the ASCII word w, lower-cased, is x (of the same length).
func equalLowerASCII(x, w string) bool {
	for i := 0; i < len(w); i++ {
		if x[i] != foldByte(w[i]) {
			return false
		}
	}
	return true
}
