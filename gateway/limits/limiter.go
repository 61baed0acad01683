package limits

import (
	"errors"
	"fmt"
	"hash/maphash"
	"sync"
	"time"
)

var (
	// ErrLimited: the request would exceed a limit; Status says which and
	// RetryAfter when it would fit.
	ErrLimited = errors.New("limits: rate limited")
	// ErrTooLarge: the request needs more tokens than the key's whole
	// per-minute limit; it can never be allowed.
	ErrTooLarge = errors.New("limits: request larger than the token limit")
	// ErrTooManyKeys: MaxKeys keys are active at once; a new key is refused
	// rather than tracked without bound.
	ErrTooManyKeys = errors.New("limits: too many active keys")
	// ErrInvalid: a limit or token count below 0 or above MaxLimit.
	ErrInvalid = errors.New("limits: invalid argument")
)

// MaxLimit bounds limits and token counts (about 10^12 per minute), so that
// the bucket arithmetic is exact in 128 bits.
const MaxLimit = int64(1) << 40

// Limit is a key's allowance per minute; a zero field is no limit.
type Limit struct {
	RequestsPerMinute int64
	TokensPerMinute   int64
}

// Options tune a Limiter.
type Options struct {
	Now     func() time.Time // the clock; time.Now when nil
	MaxKeys int              // keys tracked at most (DefaultMaxKeys when zero)
}

// DefaultMaxKeys bounds the keys a Limiter tracks by default.
const DefaultMaxKeys = 1 << 20

const shards = 64

// Limiter enforces per-key request and token rates. It is safe for
// concurrent use. Memory is bounded: a key's bucket is dropped once it is
// full again and no reservation on it is open, which is invisible (a new
// bucket starts full), and at most MaxKeys buckets exist at once.
type Limiter struct {
	now      func() time.Time
	epoch    time.Time
	seed     maphash.Seed
	perShard int
	shards   [shards]shard
}

type shard struct {
	mu        sync.Mutex
	buckets   map[string]*bucket
	lastSweep int64
}

type bucket struct {
	req, tok gauge
	last     int64 // ns since the epoch of the last refill
	open     int   // reservations not yet settled
}

// New returns a Limiter.
func New(opts Options) *Limiter {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.MaxKeys <= 0 {
		opts.MaxKeys = DefaultMaxKeys
	}
	l := &Limiter{now: opts.Now, seed: maphash.MakeSeed(), perShard: max(opts.MaxKeys/shards, 1)}
	l.epoch = l.now()
	for i := range l.shards {
		l.shards[i].buckets = map[string]*bucket{}
	}
	return l
}

// clock returns ns since the epoch; a clock that steps back reads as the
// epoch at worst and refills never run backwards (see bucket.advance).
func (l *Limiter) clock() int64 { return max(int64(l.now().Sub(l.epoch)), 0) }

func (b *bucket) advance(now int64) {
	if now > b.last {
		b.req.refill(now - b.last)
		b.tok.refill(now - b.last)
		b.last = now
	}
}

// Reserve takes one request and tokens (the request's estimate) from key's
// allowance under lim, before anything is forwarded. Call it exactly once
// per client request, not once per upstream attempt: failover retries run
// on the same reservation, so they never bypass a limit. Settle the
// reservation when the request ends, whatever its outcome.
//
// When the request does not fit, it returns a nil Reservation, the Status
// (with RetryAfter) and an error wrapping ErrLimited, ErrTooLarge or
// ErrTooManyKeys; nothing is taken.
func (l *Limiter) Reserve(key string, lim Limit, tokens int64) (*Reservation, Status, error) {
	if !inRange(lim.RequestsPerMinute) || !inRange(lim.TokensPerMinute) || !inRange(tokens) {
		return nil, Status{}, fmt.Errorf("%w: limit %+v, tokens %d", ErrInvalid, lim, tokens)
	}
	now := l.clock()
	sh := &l.shards[maphash.String(l.seed, key)%shards]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	b, err := sh.bucket(key, lim, now, l.perShard)
	if err != nil {
		return nil, Status{Requests: Window{Limit: lim.RequestsPerMinute}, Tokens: Window{Limit: lim.TokensPerMinute}}, err
	}
	b.advance(now)
	if lim.TokensPerMinute > 0 && tokens > lim.TokensPerMinute {
		st := b.status()
		return nil, st, fmt.Errorf("%w: %d tokens, limit %d per minute", ErrTooLarge, tokens, lim.TokensPerMinute)
	}
	if !b.req.fits(1) || !b.tok.fits(tokens) {
		st := b.status()
		st.RetryAfter = max(b.req.until(1), b.tok.until(tokens))
		return nil, st, ErrLimited
	}
	b.req.take(1)
	b.tok.take(tokens)
	b.open++
	st := b.status()
	st.Allowed = true
	return &Reservation{l: l, sh: sh, b: b, tokens: tokens}, st, nil
}

func inRange(n int64) bool { return n >= 0 && n <= MaxLimit }

// bucket finds or creates key's bucket; the shard is locked.
func (sh *shard) bucket(key string, lim Limit, now int64, capacity int) (*bucket, error) {
	if b, ok := sh.buckets[key]; ok {
		b.req.setLimit(lim.RequestsPerMinute)
		b.tok.setLimit(lim.TokensPerMinute)
		return b, nil
	}
	if len(sh.buckets) >= capacity || now-sh.lastSweep >= int64(Period) {
		sh.sweep(now)
	}
	if len(sh.buckets) >= capacity {
		return nil, ErrTooManyKeys
	}
	b := &bucket{req: newGauge(lim.RequestsPerMinute), tok: newGauge(lim.TokensPerMinute), last: now}
	sh.buckets[key] = b
	return b, nil
}

// sweep drops the buckets that are full and have no open reservation.
func (sh *shard) sweep(now int64) {
	sh.lastSweep = now
	for k, b := range sh.buckets {
		b.advance(now)
		if b.open == 0 && b.req.full() && b.tok.full() {
			delete(sh.buckets, k)
		}
	}
}

// Sweep drops every bucket that is full and has no open reservation, and
// returns how many it dropped. Reserve sweeps a shard on its own when the
// shard is at capacity or was last swept a minute ago; a caller may also
// sweep on a timer to return memory sooner.
func (l *Limiter) Sweep() int {
	now, dropped := l.clock(), 0
	for i := range l.shards {
		sh := &l.shards[i]
		sh.mu.Lock()
		n := len(sh.buckets)
		sh.sweep(now)
		dropped += n - len(sh.buckets)
		sh.mu.Unlock()
	}
	return dropped
}

// Keys returns how many buckets the Limiter holds.
func (l *Limiter) Keys() int {
	n := 0
	for i := range l.shards {
		l.shards[i].mu.Lock()
		n += len(l.shards[i].buckets)
		l.shards[i].mu.Unlock()
	}
	return n
}

// Reservation is one request's hold on a key's allowance.
type Reservation struct {
	l       *Limiter
	sh      *shard
	b       *bucket
	tokens  int64
	settled bool
}

// Settle corrects the reservation to the request's actual token count
// (provider usage, or the tokenizer's count): tokens taken above it are
// given back, tokens used beyond it are taken (a debt later refills pay
// off). The request itself stays counted. Only the first call has an
// effect. Settle reads no clock: giving and taking commute with refills.
func (r *Reservation) Settle(actual int64) {
	r.sh.mu.Lock()
	defer r.sh.mu.Unlock()
	if r.settled {
		return
	}
	r.settled = true
	r.b.open--
	switch actual = min(max(actual, 0), MaxLimit); {
	case actual < r.tokens:
		r.b.tok.give(r.tokens - actual)
	case actual > r.tokens:
		r.b.tok.take(actual - r.tokens)
	}
}

// Peek returns key's status under lim now, taking nothing.
func (l *Limiter) Peek(key string, lim Limit) Status {
	now := l.clock()
	sh := &l.shards[maphash.String(l.seed, key)%shards]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	b, ok := sh.buckets[key]
	if !ok {
		g := bucket{req: newGauge(lim.RequestsPerMinute), tok: newGauge(lim.TokensPerMinute)}
		return g.status()
	}
	b.req.setLimit(lim.RequestsPerMinute)
	b.tok.setLimit(lim.TokensPerMinute)
	b.advance(now)
	return b.status()
}
