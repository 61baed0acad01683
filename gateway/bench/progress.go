package bench

import (
	"fmt"
	"io"
	"time"
)

// progress redraws one status line while a phase runs. A nil *progress
// draws nothing.
type progress struct {
	w            io.Writer
	load, target string
	live         *live
	quit, done   chan struct{}
}

func progressFor(w io.Writer, load, target string) *progress {
	if w == nil {
		return nil
	}
	return &progress{w: w, load: load, target: target}
}

func (p *progress) start(phase string, dur time.Duration, count int) {
	if p == nil {
		return
	}
	p.live = &live{}
	p.quit, p.done = make(chan struct{}), make(chan struct{})
	begin := time.Now()
	goal := dur.Round(time.Millisecond).String()
	if count > 0 {
		goal = fmt.Sprintf("%d requests", count)
	}
	go func() {
		defer close(p.done)
		tick := time.NewTicker(250 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-p.quit:
				fmt.Fprint(p.w, "\r\033[K")
				return
			case <-tick.C:
				el := time.Since(begin)
				n := p.live.done.Load()
				fmt.Fprintf(p.w, "\r\033[K%s · %s · %s %.1fs of %s · %d requests · %.0f/s · %d errors",
					p.load, p.target, phase, el.Seconds(), goal, n, float64(n)/el.Seconds(), p.live.failed.Load())
			}
		}
	}()
}

func (p *progress) stop() {
	if p == nil || p.quit == nil {
		return
	}
	close(p.quit)
	<-p.done
	p.quit = nil
}

// counters are what the phase counts into; nil without a progress line.
func (p *progress) counters() *live {
	if p == nil {
		return nil
	}
	return p.live
}
