package ner

import (
	"math/bits"
	"strings"
)

// table is the loaded gazetteer's word index: open addressing over slots
// that hold a hash tag, the entry and where the word is in one string of
// all words, so that a lookup reads one slot (and the word, on a match)
// where a map of strings reads a control word, a slot and the key.
type table struct {
	slots []tabSlot
	keys  string
	shift uint // the slot index is the hash's top bits
}

type tabSlot struct {
	tag uint32 // the hash's low bits, never 0; 0 marks an empty slot
	at  uint32 // the word is keys[off : off+n], off the high 24 bits, n the low 8
	e   Entry
}

func (s *tabSlot) key(keys string) string { return keys[s.at>>8 : s.at>>8+s.at&0xff] }

// newTable indexes the words of m, or returns nil for words too many or
// too long for its slots.
func newTable(m map[string]Entry) *table {
	total := 0
	for k := range m {
		if len(k) > 0xff {
			return nil
		}
		total += len(k)
	}
	if total >= 1<<24 {
		return nil
	}
	size := 1 << bits.Len(uint(2*len(m)+1))
	t := &table{slots: make([]tabSlot, size), shift: uint(64 - bits.TrailingZeros(uint(size)))}
	var keys strings.Builder
	for k, e := range m {
		h := tabHash(k)
		i := h >> t.shift
		for t.slots[i].tag != 0 {
			i = (i + 1) & uint64(size-1)
		}
		t.slots[i] = tabSlot{tag: uint32(h) | 1, at: uint32(keys.Len())<<8 | uint32(len(k)), e: e}
		keys.WriteString(k)
	}
	t.keys = keys.String()
	return t
}

// get returns the entry of the lower-case word k.
func (t *table) get(k string) (Entry, bool) {
	h := tabHash(k)
	tag := uint32(h) | 1
	mask := uint64(len(t.slots) - 1)
	for i := h >> t.shift; ; i = (i + 1) & mask {
		s := &t.slots[i]
		if s.tag == 0 {
			return Entry{}, false
		}
		if s.tag == tag && int(s.at&0xff) == len(k) && s.key(t.keys) == k {
			return s.e, true
		}
	}
}

// each calls f with every word and its entry.
func (t *table) each(f func(k string, e Entry)) {
	for i := range t.slots {
		if s := &t.slots[i]; s.tag != 0 {
			f(s.key(t.keys), s.e)
		}
	}
}

// tabHash hashes a word eight bytes at a time.
func tabHash(s string) uint64 {
	h := uint64(len(s)) * 0x9e3779b97f4a7c15
	for len(s) >= 8 {
		v := uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
			uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
		h = (h ^ v) * 0xbf58476d1ce4e5b9
		h ^= h >> 31
		s = s[8:]
	}
	if len(s) > 0 {
		var v uint64
		for i := len(s) - 1; i >= 0; i-- {
			v = v<<8 | uint64(s[i])
		}
		h = (h ^ v) * 0x94d049bb133111eb
	}
	h ^= h >> 29
	h *= 0xbf58476d1ce4e5b9
	return h ^ h>>32
}
