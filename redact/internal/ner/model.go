package ner

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
)

// Model is an averaged perceptron over hashed features, one weight per
// feature and tag, quantized to 16 bits.
type Model struct {
	w     map[uint32][NumTags]int16 // a trained model's weights by feature
	flat  [][NumTags]int16          // the same by bucket, for tagging; all a loaded model keeps
	n     int                       // a loaded model's feature count
	scale float32                   // weight = int16 / scale
}

// Features is the number of features with a weight.
func (m *Model) Features() int {
	if m.w == nil {
		return m.n
	}
	return len(m.w)
}

// weights returns the weights by feature: a loaded model's are its
// buckets with any nonzero weight (a feature is its bucket).
func (m *Model) weights() map[uint32][NumTags]int16 {
	if m.w != nil {
		return m.w
	}
	w := make(map[uint32][NumTags]int16, m.n)
	for f, ws := range m.flat {
		if ws != ([NumTags]int16{}) {
			w[uint32(f)] = ws
		}
	}
	return w
}

// Span is a run of tokens [Start, End) with one tag and its margin over O.
type Span struct {
	Start, End int
	Tag        Tag
	Margin     float32
}

// Tag tags every candidate token greedily left to right and returns the
// spans of equal tags, joined across plain spaces (and the dot of an
// initial or a hyphen) but never across other punctuation. The spans are
// in the sentence's memory, valid until its Release or the next Tag of it.
func (m *Model) Tag(s *Sentence) []Span {
	spans := s.spans[:0]
	var buf [64]uint32
	p1, p2 := O, O
	for i := range s.Toks {
		t, margin := O, float32(0)
		if s.Candidate(i, p1) {
			sc := m.score(s.features(i, p1, p2, buf[:0]))
			t = argmax(sc)
			margin = sc[t] - sc[O]
		}
		if t != O {
			n := len(spans)
			if n > 0 && spans[n-1].Tag == t && spans[n-1].End == i && joins(s.Toks[i].Before) {
				spans[n-1].End = i + 1
				spans[n-1].Margin = min(spans[n-1].Margin, margin)
			} else {
				spans = append(spans, Span{Start: i, End: i + 1, Tag: t, Margin: margin})
			}
		}
		p1, p2 = t, p1
	}
	s.spans = spans
	return spans
}

// joins reports whether a gap may stand inside one name.
func joins(g string) bool {
	switch g {
	case " ", "", ". ", "-", " - ", "  ", "'", "^":
		return true
	}
	return false
}

func (m *Model) score(fs []uint32) [NumTags]float32 {
	var acc [NumTags]int32
	for _, f := range fs {
		w := &m.flat[f]
		for t := range acc {
			acc[t] += int32(w[t])
		}
	}
	var out [NumTags]float32
	for t := range out {
		out[t] = float32(acc[t]) / m.scale
	}
	return out
}

func argmax(s [NumTags]float32) Tag {
	best := O
	for t := Tag(1); t < NumTags; t++ {
		if s[t] > s[best] {
			best = t
		}
	}
	return best
}

// Marshal writes the model: gzip of the scale, the count, then per feature
// its hash and weights, sorted by hash.
func (m *Model) Marshal() ([]byte, error) {
	weights := m.weights()
	keys := make([]uint32, 0, len(weights))
	for k := range weights {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
	var b bytes.Buffer
	zw, err := gzip.NewWriterLevel(&b, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	hdr := []any{math.Float32bits(m.scale), uint32(len(keys))}
	for _, h := range hdr {
		if err := binary.Write(zw, binary.LittleEndian, h); err != nil {
			return nil, err
		}
	}
	prev := uint32(0)
	for _, k := range keys {
		if err := binary.Write(zw, binary.LittleEndian, k-prev); err != nil {
			return nil, err
		}
		prev = k
		w := weights[k]
		if err := binary.Write(zw, binary.LittleEndian, w); err != nil {
			return nil, err
		}
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// ErrModel means the embedded model could not be read.
var ErrModel = errors.New("ner: bad model")

// LoadModel reads what Marshal wrote.
func LoadModel(data []byte) (*Model, error) {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrModel, err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrModel, err)
	}
	if len(raw) < 8 {
		return nil, ErrModel
	}
	m := &Model{scale: math.Float32frombits(binary.LittleEndian.Uint32(raw))}
	n := int(binary.LittleEndian.Uint32(raw[4:]))
	rec := 4 + 2*int(NumTags)
	if len(raw) != 8+n*rec || m.scale <= 0 {
		return nil, ErrModel
	}
	m.flat, m.n = make([][NumTags]int16, Buckets), n
	prev := uint32(0)
	for i := 0; i < n; i++ {
		p := raw[8+i*rec:]
		prev += binary.LittleEndian.Uint32(p)
		if prev >= Buckets {
			return nil, ErrModel
		}
		for t := range NumTags {
			m.flat[prev][t] = int16(binary.LittleEndian.Uint16(p[4+2*t:]))
		}
	}
	return m, nil
}

// index lays a trained model's weights out by bucket for tagging.
func (m *Model) index() {
	m.flat = make([][NumTags]int16, Buckets)
	for f, w := range m.w {
		m.flat[f&(Buckets-1)] = w
	}
}
