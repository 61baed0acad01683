package bench

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// tally is what a phase, or one worker of it, measured.
type tally struct {
	latency *Histogram // intended send time to last byte, every completed request
	ttft    *Histogram // intended send time to first SSE data event, streamed successes
	lag     *Histogram // open loop: actual send time minus intended (bench's own lateness)
	ok      int64
	errors  map[string]int64
	last    time.Time // when the last request ended
}

func newTally() *tally {
	return &tally{latency: newHistogram(), ttft: newHistogram(), lag: newHistogram(), errors: map[string]int64{}}
}

func (t *tally) merge(o *tally) {
	t.latency.Merge(o.latency)
	t.ttft.Merge(o.ttft)
	t.lag.Merge(o.lag)
	t.ok += o.ok
	for k, v := range o.errors {
		t.errors[k] += v
	}
	if o.last.After(t.last) {
		t.last = o.last
	}
}

func (t *tally) add(o outcome) {
	t.latency.Record(o.end)
	if o.err != "" {
		t.errors[o.err]++
		return
	}
	t.ok++
	if o.ttft > 0 {
		t.ttft.Record(o.ttft)
	}
}

// live counts requests as they end, for the progress line.
type live struct {
	done, failed atomic.Int64
}

// phase is one stretch of load: Connections workers draw sequence numbers;
// each number is one request of the workload, in turn. Closed loop, a
// worker sends its next request when the last one ended; open loop, request
// n is due at begin + n/RPS and its times are measured from then, whether
// or not a worker was free.
type phase struct {
	c        *client
	load     Load
	begin    time.Time
	deadline time.Time // zero: stop by count
	count    int64     // 0: stop by deadline
	seq      atomic.Int64
	live     *live
}

func runPhase(ctx context.Context, c *client, l Load, dur time.Duration, count int, lv *live) *tally {
	p := &phase{c: c, load: l, begin: time.Now(), count: int64(count), live: lv}
	if count <= 0 {
		p.deadline = p.begin.Add(dur)
	}
	total := newTally()
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range l.Connections {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := p.work(ctx)
			mu.Lock()
			total.merge(t)
			mu.Unlock()
		}()
	}
	wg.Wait()
	return total
}

func (p *phase) work(ctx context.Context) *tally {
	t := newTally()
	cn := newConn(p.c.get())
	defer func() { p.c.put(cn.h) }()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for ctx.Err() == nil {
		n := p.seq.Add(1) - 1
		if p.count > 0 && n >= p.count {
			break
		}
		start := time.Now()
		if p.load.RPS > 0 {
			start = p.begin.Add(time.Duration(float64(n) * float64(time.Second) / p.load.RPS))
		}
		if !p.deadline.IsZero() && !start.Before(p.deadline) {
			break
		}
		if d := time.Until(start); d > 0 {
			timer.Reset(d)
			select {
			case <-ctx.Done():
				return t
			case <-timer.C:
			}
		}
		if p.load.RPS > 0 {
			t.lag.Record(time.Since(start))
		}
		req := &p.c.requests[n%int64(len(p.c.requests))]
		o := p.c.do(ctx, req, start, cn)
		if ctx.Err() != nil {
			break // an interrupted run's last requests are not results
		}
		t.add(o)
		t.last = time.Now()
		if p.live != nil {
			p.live.done.Add(1)
			if o.err != "" {
				p.live.failed.Add(1)
			}
		}
	}
	return t
}
