package ner

import (
	"math/bits"
	"strings"
)

// table is the loaded gazetteer's word index: open addressing over 8-byte
// slots that hold where the word is in one string of all words, a hash tag
// and the entry packed together, so that a lookup reads one slot (and the
// word, on a match) where a map of strings reads a control word, a slot
// and the key.
type table struct {
	slots []tabSlot
	keys  string
	shift uint // the slot index is the hash's top bits
}

type tabSlot struct {
	at uint32 // the word is keys[off : off+n], off the high 24 bits, n the low 8
	// te is a hash tag in the bits above entryBits (its lowest bit set, so
	// te is never 0; 0 marks an empty slot) over the packed entry.
	te uint32
}

// An entry packs into entryBits: First and Last in 3 bits each, then the
// flags.
const (
	entryBits = 18
	flagBits  = entryBits - 6
)

func (s *tabSlot) key(keys string) string { return keys[s.at>>8 : s.at>>8+s.at&0xff] }

func (s *tabSlot) entry() Entry {
	return Entry{First: uint8(s.te & 7), Last: uint8(s.te >> 3 & 7), Flags: uint16(s.te >> 6 & (1<<flagBits - 1))}
}

func packEntry(e Entry) (uint32, bool) {
	if e.First > 7 || e.Last > 7 || e.Flags >= 1<<flagBits {
		return 0, false
	}
	return uint32(e.First) | uint32(e.Last)<<3 | uint32(e.Flags)<<6, true
}

func hashTag(h uint64) uint32 { return uint32(h)<<entryBits | 1<<entryBits }

// newTable indexes the words of m, or returns nil for words too many or
// too long, or entries too wide, for its slots.
func newTable(m map[string]Entry) *table {
	total := 0
	for k, e := range m {
		if _, ok := packEntry(e); !ok || len(k) > 0xff {
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
	keys.Grow(total)
	for k, e := range m {
		h := tabHash(k)
		i := h >> t.shift
		for t.slots[i].te != 0 {
			i = (i + 1) & uint64(size-1)
		}
		pe, _ := packEntry(e)
		t.slots[i] = tabSlot{at: uint32(keys.Len())<<8 | uint32(len(k)), te: hashTag(h) | pe}
		keys.WriteString(k)
	}
	t.keys = keys.String()
	return t
}

// get returns the entry of the lower-case word k.
func (t *table) get(k string) (Entry, bool) {
	h := tabHash(k)
	tag := hashTag(h)
	mask := uint64(len(t.slots) - 1)
	for i := h >> t.shift; ; i = (i + 1) & mask {
		s := &t.slots[i]
		if s.te == 0 {
			return Entry{}, false
		}
		if s.te&^(1<<entryBits-1) == tag && int(s.at&0xff) == len(k) && s.key(t.keys) == k {
			return s.entry(), true
		}
	}
}

// each calls f with every word and its entry.
func (t *table) each(f func(k string, e Entry)) {
	for i := range t.slots {
		if s := &t.slots[i]; s.te != 0 {
			f(s.key(t.keys), s.entry())
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
