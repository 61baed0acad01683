package ner

import (
	"math"
	"math/rand/v2"
)

// Example is one labeled sentence.
type Example struct {
	Toks []Token
	Tags []Tag
}

// TrainOptions tune training.
type TrainOptions struct {
	Epochs int
	Seed   uint64
	// Prune drops features whose largest averaged weight is below it.
	Prune float32
	// Forget is the share of name tokens whose gazetteer frequencies are
	// hidden from the features in a training pass.
	Forget float64
}

type fweight struct {
	w, tot [NumTags]float32
	ts     [NumTags]int
}

// Train fits an averaged perceptron on the examples.
func Train(g *Gazetteer, data []Example, opt TrainOptions) *Model {
	ws := map[uint32]*fweight{}
	step := 0
	rng := rand.New(rand.NewPCG(opt.Seed, opt.Seed^0x9e3779b97f4a7c15))
	order := make([]int, len(data))
	for i := range order {
		order[i] = i
	}
	var buf []uint32
	for ep := 0; ep < opt.Epochs; ep++ {
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		for _, k := range order {
			ex := data[k]
			s := NewSentence(g, ex.Toks)
			if opt.Forget > 0 {
				s.forget = make([]bool, len(ex.Toks))
				for i := range s.forget {
					s.forget[i] = rng.Float64() < opt.Forget
				}
			}
			p1, p2 := O, O
			for i := range ex.Toks {
				pred := O
				if s.Candidate(i, p1) {
					step++
					buf = s.features(i, p1, p2, buf[:0])
					var sc [NumTags]float32
					for _, f := range buf {
						if w := ws[f]; w != nil {
							for t := range sc {
								sc[t] += w.w[t]
							}
						}
					}
					pred = argmax(sc)
					if gold := ex.Tags[i]; pred != gold {
						for _, f := range buf {
							w := ws[f]
							if w == nil {
								w = &fweight{}
								ws[f] = w
							}
							update(w, gold, 1, step)
							update(w, pred, -1, step)
						}
					}
				}
				p1, p2 = pred, p1
			}
		}
	}
	return finish(ws, step, opt.Prune)
}

func update(w *fweight, t Tag, v float32, step int) {
	w.tot[t] += float32(step-w.ts[t]) * w.w[t]
	w.ts[t] = step
	w.w[t] += v
}

// finish averages, prunes and quantizes the weights.
func finish(ws map[uint32]*fweight, steps int, prune float32) *Model {
	avg := make(map[uint32][NumTags]float32, len(ws))
	maxAbs := float32(0)
	for f, w := range ws {
		var a [NumTags]float32
		big := float32(0)
		for t := range a {
			tot := w.tot[t] + float32(steps-w.ts[t])*w.w[t]
			a[t] = tot / float32(max(1, steps))
			big = max(big, float32(math.Abs(float64(a[t]))))
		}
		if big < prune {
			continue
		}
		avg[f] = a
		maxAbs = max(maxAbs, big)
	}
	m := &Model{w: make(map[uint32][NumTags]int16, len(avg)), scale: 1}
	if maxAbs > 0 {
		m.scale = 32000 / maxAbs
	}
	for f, a := range avg {
		var q [NumTags]int16
		for t := range a {
			q[t] = int16(math.Round(float64(a[t] * m.scale)))
		}
		m.w[f] = q
	}
	m.index()
	return m
}
