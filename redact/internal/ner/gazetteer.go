package ner

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
	"unsafe"
)

// Entry is what the gazetteer knows of one lower-case word.
type Entry struct {
	First uint8 // given-name log-frequency bucket: 0 = not a given name, 1 (rare) .. 7 (most common)
	Last  uint8 // surname log-frequency bucket, likewise
	Flags uint16
}

// Entry flags.
const (
	Ordinary   uint16 = 1 << iota // an ordinary word of English or another claimed language ("will", "rose")
	City                          // a city or town
	Country                       // a country
	Region                        // a state, province, region or county
	StreetType                    // a street type written after the name ("street", "straße", "vej")
	StreetPre                     // a street type written before the name ("rue", "calle", "via")
	Unit                          // a unit designator ("apt", "suite", "piso")
	PostBox                       // a post office box word ("box", "postfach", "apartado")
	OrgSuffix                     // a company form ("inc", "gmbh", "s.a.")
	Title                         // a personal title ("mr", "dr", "frau")
	Demonym                       // a nationality or people ("german", "czech")
	Particle                      // a name particle ("van", "de", "al")
)

// Has reports whether e holds every flag in f.
func (e Entry) Has(f uint16) bool { return e.Flags&f == f }

// Name reports whether the word is a given name or a surname.
func (e Entry) Name() bool { return e.First > 0 || e.Last > 0 }

// Gazetteer maps lower-case words to entries.
type Gazetteer struct {
	m map[string]Entry // while built
	// tab holds the words of a loaded gazetteer, for lookups.
	tab *table
	n   int
	// bloom holds the names and places, so that most ordinary words are
	// known not to be one without a map lookup.
	bloom []uint64
	// titles holds the words flagged Title, a small set checked often.
	titles *WordSet
}

// IsTitle reports whether a lower-case word is a personal title.
func (g *Gazetteer) IsTitle(w string) bool { return g != nil && g.titles.Has(w) }

const bloomBits = 1 << 21

// MayName reports whether w (any case) may be a name or a place: false
// means certainly not.
func (g *Gazetteer) MayName(w string) bool {
	if g == nil || g.bloom == nil {
		return true
	}
	h1, h2 := bloomHash(w)
	for k := uint32(0); k < 3; k++ {
		b := (h1 + k*h2) & (bloomBits - 1)
		if g.bloom[b/64]&(1<<(b%64)) == 0 {
			return false
		}
	}
	return true
}

// bloomHash hashes the lower-cased ASCII letters of w (other bytes as they
// are) twice.
func bloomHash(w string) (uint32, uint32) {
	h1, h2 := uint32(2166136261), uint32(5381)
	for i := 0; i < len(w); i++ {
		c := w[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		h1 = (h1 ^ uint32(c)) * 16777619
		h2 = h2*33 + uint32(c)
	}
	return h1, h2 | 1
}

func (g *Gazetteer) buildBloom() {
	g.bloom = make([]uint64, bloomBits/64)
	var titles []string
	for k, e := range g.m {
		if e.Flags&Title != 0 {
			titles = append(titles, k)
		}
		if !e.Name() && e.Flags&(City|Country|Region|Demonym) == 0 {
			continue
		}
		h1, h2 := bloomHash(k)
		for i := uint32(0); i < 3; i++ {
			b := (h1 + i*h2) & (bloomBits - 1)
			g.bloom[b/64] |= 1 << (b % 64)
		}
	}
	g.titles = NewWordSet(titles...)
}

// Len is the number of words known.
func (g *Gazetteer) Len() int {
	if g.tab != nil {
		return g.n
	}
	return len(g.m)
}

// each calls f with every word and its entry.
func (g *Gazetteer) each(f func(k string, e Entry)) {
	if g.tab != nil {
		g.tab.each(f)
		return
	}
	for k, e := range g.m {
		f(k, e)
	}
}

// get returns the entry of a lower-case word.
func (g *Gazetteer) get(w string) Entry {
	if g.tab != nil {
		e, _ := g.tab.get(w)
		return e
	}
	return g.m[w]
}

// Lookup finds a word in any letter case.
func (g *Gazetteer) Lookup(w string) Entry {
	if g == nil || len(w) == 0 || len(w) > 48 {
		return Entry{}
	}
	var buf [48]byte
	for i := 0; i < len(w); i++ {
		c := w[i]
		if c >= utf8.RuneSelf {
			return g.get(strings.ToLower(w))
		}
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	return g.get(unsafe.String(&buf[0], len(w)))
}

// WithPrefix returns the words that start with prefix (load time).
func (g *Gazetteer) WithPrefix(prefix string) []string {
	var out []string
	g.each(func(k string, _ Entry) {
		if strings.HasPrefix(k, prefix) {
			out = append(out, k)
		}
	})
	return out
}

// Set adds flags and frequencies to a word (build time).
func (g *Gazetteer) Set(w string, e Entry) {
	if g.tab != nil {
		g.m = make(map[string]Entry, g.n)
		g.each(func(k string, e Entry) { g.m[k] = e })
		g.tab = nil
	}
	if g.m == nil {
		g.m = map[string]Entry{}
	}
	w = strings.ToLower(w)
	old := g.m[w]
	old.First = max(old.First, e.First)
	old.Last = max(old.Last, e.Last)
	old.Flags |= e.Flags
	g.m[w] = old
}

// Marshal writes the gazetteer as gzip-compressed lines "word TAB first
// TAB last TAB flags(hex)", sorted.
func (g *Gazetteer) Marshal() ([]byte, error) {
	type word struct {
		k string
		e Entry
	}
	words := make([]word, 0, g.Len())
	g.each(func(k string, e Entry) { words = append(words, word{k, e}) })
	sort.Slice(words, func(i, j int) bool { return words[i].k < words[j].k })
	var b bytes.Buffer
	zw, err := gzip.NewWriterLevel(&b, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	w := bufio.NewWriter(zw)
	for _, x := range words {
		fmt.Fprintf(w, "%s\t%d\t%d\t%x\n", x.k, x.e.First, x.e.Last, x.e.Flags)
	}
	if err := w.Flush(); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// LoadGazetteer reads what Marshal wrote.
func LoadGazetteer(data []byte) (*Gazetteer, error) {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("ner: gazetteer: %w", err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("ner: gazetteer: %w", err)
	}
	g := &Gazetteer{m: make(map[string]Entry, bytes.Count(raw, []byte{'\n'}))}
	for line := range strings.SplitSeq(string(raw), "\n") {
		if line == "" {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 4 {
			return nil, fmt.Errorf("ner: gazetteer: bad line")
		}
		first, err1 := strconv.ParseUint(f[1], 10, 8)
		last, err2 := strconv.ParseUint(f[2], 10, 8)
		flags, err3 := strconv.ParseUint(f[3], 16, 16)
		if err1 != nil || err2 != nil || err3 != nil {
			return nil, fmt.Errorf("ner: gazetteer: bad numbers")
		}
		g.m[f[0]] = Entry{First: uint8(first), Last: uint8(last), Flags: uint16(flags)}
	}
	g.buildBloom()
	if g.tab = newTable(g.m); g.tab != nil {
		g.n, g.m = len(g.m), nil
	}
	return g, nil
}
