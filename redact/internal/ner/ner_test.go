package ner

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"
)

func smallGazetteer(t testing.TB) *Gazetteer {
	t.Helper()
	g := &Gazetteer{}
	g.Set("Anna", Entry{First: 5})
	g.Set("Kowalski", Entry{Last: 3})
	g.Set("will", Entry{First: 4, Flags: Ordinary})
	g.Set("Hamburg", Entry{Flags: City})
	g.Set("dr", Entry{Flags: Title})
	return reload(t, g)
}

// reload marshals g and loads it again, as the embedded gazetteer is.
func reload(t testing.TB, g *Gazetteer) *Gazetteer {
	t.Helper()
	b, err := g.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	g2, err := LoadGazetteer(b)
	if err != nil {
		t.Fatal(err)
	}
	return g2
}

func TestGazetteerRoundTrip(t *testing.T) {
	g := smallGazetteer(t)
	cases := []struct {
		w    string
		want Entry
	}{
		{"ANNA", Entry{First: 5}}, {"anna", Entry{First: 5}}, {"Will", Entry{First: 4, Flags: Ordinary}},
		{"hamburg", Entry{Flags: City}}, {"nobody", Entry{}},
	}
	for _, c := range cases {
		if got := g.Lookup(c.w); got != c.want {
			t.Errorf("Lookup(%q) = %+v, want %+v", c.w, got, c.want)
		}
	}
	if !g.MayName("Kowalski") || !g.MayName("HAMBURG") {
		t.Error("bloom filter lost a name or a place")
	}
	if !g.IsTitle("dr") || g.IsTitle("anna") {
		t.Error("titles wrong")
	}
	if _, err := LoadGazetteer([]byte("not gzip")); err == nil {
		t.Error("garbage accepted")
	}
}

func TestTokenize(t *testing.T) {
	toks, spans := Tokenize("Dr. O'Neil, (Anna-Maria) 42x")
	want := []string{"Dr", "O'Neil", "Anna-Maria", "42x"}
	if len(toks) != len(want) {
		t.Fatalf("tokens %+v", toks)
	}
	for i, w := range want {
		if toks[i].Text != w {
			t.Errorf("token %d = %q, want %q", i, toks[i].Text, w)
		}
	}
	if toks[1].Before != ". " || spans[2] != [2]int{13, 23} {
		t.Errorf("gaps or spans wrong: %+v %v", toks, spans)
	}
}

// A model trained on a few sentences tags names it saw in new sentences,
// and survives a marshal round trip with the same tags.
func TestTrainTagRoundTrip(t *testing.T) {
	g := smallGazetteer(t)
	var data []Example
	for _, s := range []struct {
		text string
		tags []Tag
	}{
		{"Dr Kowalski called today", []Tag{O, PER, O, O}},
		{"Anna Kowalski lives in Hamburg", []Tag{PER, PER, O, O, LOC}},
		{"Please call Anna tomorrow", []Tag{O, O, PER, O}},
		{"The Report is in Hamburg", []Tag{O, O, O, O, LOC}},
	} {
		toks, _ := Tokenize(s.text)
		data = append(data, Example{Toks: toks, Tags: s.tags})
	}
	m := Train(g, data, TrainOptions{Epochs: 10, Seed: 1})
	b, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	m2, err := LoadModel(b)
	if err != nil {
		t.Fatal(err)
	}
	toks, _ := Tokenize("Yesterday Anna Kowalski flew to Hamburg")
	for _, mm := range []*Model{m, m2} {
		spans := mm.Tag(NewSentence(g, toks))
		got := map[Tag]string{}
		for _, sp := range spans {
			for k := sp.Start; k < sp.End; k++ {
				got[sp.Tag] += toks[k].Text
			}
		}
		if got[PER] != "AnnaKowalski" || got[LOC] != "Hamburg" {
			t.Errorf("tags %+v", spans)
		}
	}
	if _, err := LoadModel([]byte{1, 2, 3}); err == nil {
		t.Error("garbage model accepted")
	}
	// A loaded model keeps only its buckets, and writes what it read.
	if m2.w != nil || m2.Features() != m.Features() {
		t.Errorf("loaded model: weights map kept %v, %d features, want %d", m2.w != nil, m2.Features(), m.Features())
	}
	b2, err := m2.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, b2) {
		t.Error("a loaded model marshals differently from the model it was read from")
	}
}

// TestTableLookups: the loaded gazetteer's table answers as the map it was
// built from, for every word, for words it lacks, and after a reload.
func TestTableLookups(t *testing.T) {
	g := &Gazetteer{}
	for i := 0; i < 5000; i++ {
		g.Set(fmt.Sprintf("w%dé%s", i, strings.Repeat("x", i%40)), Entry{First: uint8(i % 8), Last: uint8(i / 8 % 8), Flags: uint16(i % (1 << flagBits))})
	}
	want := g.m
	g2 := reload(t, g)
	if g2.tab == nil || g2.Len() != len(want) {
		t.Fatalf("loaded %d words into a table (%v), want %d", g2.Len(), g2.tab != nil, len(want))
	}
	lookupsAgree(t, g2, want)
	b, err := g.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	b2, err := g2.Marshal()
	if err != nil || !bytes.Equal(b, b2) {
		t.Errorf("a loaded gazetteer marshals otherwise (%v)", err)
	}
	// An entry too wide for a slot keeps the gazetteer in its map, which
	// answers the same.
	g.Set("wide", Entry{Flags: 1 << flagBits})
	want = g.m
	g3 := reload(t, g)
	if g3.tab != nil || g3.Len() != len(want) {
		t.Fatalf("an entry too wide for a slot: table %v, %d words, want the map of %d", g3.tab != nil, g3.Len(), len(want))
	}
	lookupsAgree(t, g3, want)
}

func lookupsAgree(t *testing.T, g2 *Gazetteer, want map[string]Entry) {
	t.Helper()
	for k, e := range want {
		if got := g2.Lookup(strings.ToUpper(k)); len(k) <= 48 && got != e {
			t.Errorf("Lookup(%q) = %+v, want %+v", k, got, e)
		}
		if got := g2.Lookup(k + "q"); got != (Entry{}) {
			t.Errorf("Lookup(%q) = %+v, want none", k+"q", got)
		}
	}
}

// TestWordSet: Has is membership and HasLower membership of the lower-case
// form, as a map of the words answers them, for members, near misses and
// words whose lower-case form is ASCII only through Unicode folding.
func TestWordSet(t *testing.T) {
	words := []string{"", "a", "in", "rue", "straße", "sikh", "mr", "dr", "called", "nationalité"}
	for i := 0; i < 3000; i++ {
		words = append(words, fmt.Sprintf("t%dx", i))
	}
	s := NewWordSet(words...)
	m := map[string]bool{}
	for _, w := range words {
		m[w] = true
	}
	probes := append([]string{"A", "IN", "Rue", "STRASSE", "STRAßE", "\u212Aa", "si\u212Ah", "Mr", "dR.", "x", "callee",
		"NATIONALITÉ", "T12X", "t3000x", "t1"}, words...)
	for _, w := range probes {
		if got := s.Has(w); got != m[w] {
			t.Errorf("Has(%q) = %v", w, got)
		}
		if got := s.HasLower(w); got != m[strings.ToLower(w)] {
			t.Errorf("HasLower(%q) = %v", w, got)
		}
	}
}

// TestSentenceMemory: the lower-case forms and shapes written into a
// sentence's memory stay right while it grows, and a released sentence
// reused for another text computes the same features as a new one.
func TestSentenceMemory(t *testing.T) {
	g := smallGazetteer(t)
	cases := []struct{ w, lower, shape string }{
		{"Anna", "anna", "Xx"},
		{"anna", "anna", "x"},
		{"MRN", "mrn", "X"},
		{"McDonald", "mcdonald", "XxXx"},
		{"J.", "j.", "X."},
		{"O'Neil", "o'neil", "X'Xx"},
		{"Müller", "müller", "Xx"},
		{"ÉLODIE", "élodie", "X"},
		{"A1b2C3d4E5f6G7h8I9", "a1b2c3d4e5f6g7h8i9", "XdxdXdxdXdxdXdxd"},
		{"王小明", "王小明", "L"},
	}
	var toks []Token
	for k := 0; k < 40; k++ { // enough words to move the memory while it fills
		for _, c := range cases {
			toks = append(toks, Token{Text: c.w, Before: " "})
		}
	}
	s := NewSentence(g, toks)
	for i := range toks {
		s.at(i)
	}
	for i := range toks {
		c := cases[i%len(cases)]
		if in := s.at(i); in.lower != c.lower || in.shape != c.shape {
			t.Errorf("token %d %q: lower %q shape %q, want %q %q", i, c.w, in.lower, in.shape, c.lower, c.shape)
		}
	}
	// Released, it keeps no token's state and no reference to the text,
	// whether or not the pool hands it out again (under -race the pool
	// drops some of what it is given).
	inf, mem := s.inf[:cap(s.inf)], s.mem[:cap(s.mem)]
	s.Release()
	for i, in := range inf {
		if in != (info{}) {
			t.Fatalf("released sentence keeps token %d: %+v", i, in)
		}
	}
	if s.Toks != nil || s.Lookup != nil || s.g != nil || s.live || len(s.mem) != 0 || len(s.spans) != 0 ||
		slices.ContainsFunc(mem, func(b byte) bool { return b != 0 }) {
		t.Fatalf("released sentence keeps references or text: %+v", s)
	}

	// A sentence of NewSentence, released after other texts, against one
	// that never was in the pool.
	feats := func(s *Sentence) string {
		var out [][]uint32
		for i := range s.Toks {
			out = append(out, s.features(i, PER, O, nil))
		}
		return fmt.Sprint(out)
	}
	toks, _ = Tokenize("Dr Kowalski met Anna in Hamburg")
	want := feats(&Sentence{Toks: toks, inf: make([]info, len(toks)), g: g})
	for _, other := range []string{"WILL Kowalski O'Neil McDonald will call", "Anna"} {
		o, _ := Tokenize(other)
		s := NewSentence(g, o)
		feats(s)
		s.Release()
		s = NewSentence(g, toks)
		if got := feats(s); got != want {
			t.Errorf("after %q, a reused sentence computes other features:\n%s\nwant\n%s", other, got, want)
		}
		s.Release()
	}
}

func BenchmarkFeatures(b *testing.B) {
	g := smallGazetteer(b)
	toks, _ := Tokenize("You are a careful assistant. Answer briefly, Dr Kowalski in Hamburg.")
	out := make([]uint32, 0, 64)
	b.ReportAllocs()
	for b.Loop() {
		s := NewSentence(g, toks)
		for i := range toks {
			out = s.features(i, PER, O, out[:0])
		}
		s.Release()
	}
}

// TestFeatureHashes: the features of some sentences, under every pair of
// previous tags, hash to what the model was trained with (the sum below
// was taken before any feature was read from a table).
func TestFeatureHashes(t *testing.T) {
	g := smallGazetteer(t)
	h := uint64(14695981039346656037)
	for _, text := range []string{
		"Dr Kowalski met Anna in Hamburg", "my name is anna, call me", "WILL O'Neil McDonald J. Kowalski-Smith",
		"Müller ÉLODIE 王小明 straße", "the Bank of Hamburg GmbH, will", "a", "",
	} {
		toks, _ := Tokenize(text)
		s := NewSentence(g, toks)
		for i := range toks {
			for p1 := range NumTags {
				for p2 := range NumTags {
					for _, f := range s.features(i, p1, p2, nil) {
						h = (h ^ uint64(f)) * 1099511628211
					}
				}
			}
		}
		s.Release()
	}
	if h != featureSum {
		t.Errorf("features hash to %#x, want %#x", h, featureSum)
	}
}

// featureSum is TestFeatureHashes's sum, taken on the form that hashed
// every feature's value at every token.
const featureSum uint64 = 0xe9d71fcce764410f
