package shared

import (
	"context"
	"fmt"
	"time"

	"github.com/custos-gateway/custos/gateway/limits"
)

// Reservation is one request's hold on a key's allowance.
type Reservation struct {
	ks      *keyState
	local   *limits.Reservation // served by the fallback
	tokens  int64
	settled bool
}

// Reserve takes one request and tokens (the request's estimate) from key's
// allowance under lim, from this replica's lease, leasing anew from the
// shared bucket when the lease is spent or over. Call it once per client
// request (failover reuses it) and Settle the reservation when the request
// ends. A refusal returns a nil Reservation, the Status (RetryAfter set)
// and an error wrapping limits.ErrLimited or limits.ErrTooLarge; nothing
// is taken.
func (l *Limiter) Reserve(ctx context.Context, key string, lim limits.Limit, tokens int64) (*Reservation, limits.Status, error) {
	if !inRange(lim.RequestsPerMinute) || !inRange(lim.TokensPerMinute) || !inRange(tokens) {
		return nil, limits.Status{}, fmt.Errorf("%w: limit %+v, tokens %d", limits.ErrInvalid, lim, tokens)
	}
	if lim.TokensPerMinute > 0 && tokens > lim.TokensPerMinute {
		return nil, windows(lim, 0, 0), fmt.Errorf("%w: %d tokens, limit %d per minute", limits.ErrTooLarge, tokens, lim.TokensPerMinute)
	}
	if lim == (limits.Limit{}) {
		return &Reservation{tokens: tokens}, limits.Status{Allowed: true}, nil
	}
	now := l.opts.Now()
	if now.UnixNano() < l.downTill.Load() {
		return l.fallback(key, lim, tokens)
	}
	ks, err := l.lockState(key)
	if err != nil {
		return nil, windows(lim, 0, 0), err
	}
	defer ks.mu.Unlock()
	if !ks.fits(lim, tokens, now) {
		cctx, cancel := context.WithTimeout(ctx, l.opts.Timeout)
		retry, err := l.lease(cctx, key, ks, lim, tokens, now)
		cancel()
		if err != nil {
			l.downTill.Store(now.Add(l.opts.RetryEvery).UnixNano())
			return l.fallback(key, lim, tokens)
		}
		if retry > 0 {
			st := ks.status(lim)
			st.RetryAfter = retry
			return nil, st, limits.ErrLimited
		}
	}
	if lim.RequestsPerMinute > 0 {
		ks.req--
	}
	if lim.TokensPerMinute > 0 {
		ks.tok -= tokens
	}
	ks.open++
	st := ks.status(lim)
	st.Allowed = true
	return &Reservation{ks: ks, tokens: tokens}, st, nil
}

// lockState returns key's state, locked (never one Sweep forgot).
func (l *Limiter) lockState(key string) (*keyState, error) {
	for {
		ks, err := l.state(key)
		if err != nil {
			return nil, err
		}
		ks.mu.Lock()
		if !ks.dead {
			return ks, nil
		}
		ks.mu.Unlock()
	}
}

func inRange(n int64) bool { return n >= 0 && n <= limits.MaxLimit }

// fits reports whether the lease, still current and under the same limit,
// covers one more request of tokens.
func (ks *keyState) fits(lim limits.Limit, tokens int64, now time.Time) bool {
	return !ks.returned && ks.lim == lim && now.Before(ks.expires) &&
		(lim.RequestsPerMinute == 0 || ks.req >= 1) && (lim.TokensPerMinute == 0 || ks.tok >= tokens)
}

// lease gives back what the replica holds of key and takes a new lease
// covering one request of tokens: it returns 0, or how long until the
// bucket would cover it.
func (l *Limiter) lease(ctx context.Context, key string, ks *keyState, lim limits.Limit, tokens int64, now time.Time) (time.Duration, error) {
	giveReq, giveTok := ks.leftovers()
	wantReq := l.LeaseSize(lim.RequestsPerMinute)
	wantTok := max(l.LeaseSize(lim.TokensPerMinute), tokens)
	var gotReq, gotTok, leftReq, leftTok, retry int64
	err := l.pool.QueryRow(ctx, `SELECT granted_req, granted_tok, req_left, tok_left, retry_ns
		FROM ratelimit_lease($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		key, lim.RequestsPerMinute, lim.TokensPerMinute, now.UnixNano(), giveReq, giveTok, 1, tokens, wantReq, wantTok,
	).Scan(&gotReq, &gotTok, &leftReq, &leftTok, &retry)
	if err != nil {
		return 0, fmt.Errorf("%w: %w", errDown, err)
	}
	l.stats.leases.Add(1)
	ks.lim, ks.req, ks.tok, ks.left, ks.owed, ks.returned = lim, gotReq, gotTok, [2]int64{leftReq, leftTok}, 0, false
	ks.expires = now.Add(l.opts.LeaseTTL)
	if retry > 0 { // nothing granted; what was held went back
		ks.returned = true
		return max(time.Duration(retry), time.Nanosecond), nil
	}
	return 0, nil
}

// leftovers is what the replica gives back of its lease: the units not
// used (minus the tokens settlements took beyond the estimates).
func (ks *keyState) leftovers() (req, tok int64) {
	if ks.lim.TokensPerMinute > 0 {
		tok = ks.owed
	}
	if ks.returned {
		return 0, tok
	}
	if ks.lim.RequestsPerMinute > 0 {
		req = ks.req
	}
	if ks.lim.TokensPerMinute > 0 {
		tok += ks.tok
	}
	return req, tok
}

func (l *Limiter) fallback(key string, lim limits.Limit, tokens int64) (*Reservation, limits.Status, error) {
	r, st, err := l.local.Reserve(key, l.share(lim), tokens)
	if err != nil {
		return nil, st, err
	}
	l.stats.fallbacks.Add(1)
	return &Reservation{local: r, tokens: tokens}, st, nil
}

// status describes the key for the headers: the bucket as the last lease
// left it plus what this replica still holds (other replicas' leases are
// not seen).
func (ks *keyState) status(lim limits.Limit) limits.Status {
	req, tok := ks.left[0], ks.left[1]
	if !ks.returned {
		req, tok = req+ks.req, tok+ks.tok
	}
	return windows(lim, req, tok)
}

func windows(lim limits.Limit, req, tok int64) limits.Status {
	w := func(limit, remaining int64) limits.Window {
		if limit == 0 {
			return limits.Window{}
		}
		remaining = min(max(remaining, 0), limit)
		return limits.Window{Limit: limit, Remaining: remaining, Reset: time.Duration((limit - remaining) * int64(limits.Period) / limit)}
	}
	return limits.Status{Requests: w(lim.RequestsPerMinute, req), Tokens: w(lim.TokensPerMinute, tok)}
}

// Settle corrects the reservation to the request's actual token count:
// tokens taken above it go back to the lease, tokens used beyond it are
// taken from it (a debt the next lease pays the bucket). Only the first
// call has an effect.
func (r *Reservation) Settle(actual int64) {
	if r == nil || r.settled {
		return
	}
	r.settled = true
	actual = min(max(actual, 0), limits.MaxLimit)
	switch {
	case r.local != nil:
		r.local.Settle(actual)
	case r.ks != nil:
		ks := r.ks
		ks.mu.Lock()
		ks.open--
		if ks.returned {
			ks.owed += r.tokens - actual // goes back with the next lease or Sweep
		} else {
			ks.tok += r.tokens - actual
		}
		ks.mu.Unlock()
	}
}

// Sweep gives back the leftovers of the leases that ended (and the token
// corrections settlements made on them) and forgets keys that hold
// nothing; it returns how many leases it gave back. Run it every few lease
// TTLs; the first error (PostgreSQL not answering) stops it.
func (l *Limiter) Sweep(ctx context.Context) (int, error) {
	now := l.opts.Now()
	l.mu.Lock()
	keys := make([]string, 0, len(l.keys))
	for k := range l.keys {
		keys = append(keys, k)
	}
	l.mu.Unlock()
	n := 0
	for _, key := range keys {
		gave, err := l.sweepKey(ctx, key, now)
		if err != nil {
			return n, err
		}
		if gave {
			n++
		}
	}
	return n, nil
}

// sweepKey gives back one key's ended lease and forgets the key when it
// holds and owes nothing.
func (l *Limiter) sweepKey(ctx context.Context, key string, now time.Time) (bool, error) {
	l.mu.Lock()
	ks := l.keys[key]
	l.mu.Unlock()
	if ks == nil {
		return false, nil
	}
	ks.mu.Lock()
	defer ks.mu.Unlock()
	if ks.dead || now.Before(ks.expires) {
		return false, nil
	}
	gave := false
	if req, tok := ks.leftovers(); req != 0 || tok != 0 {
		cctx, cancel := context.WithTimeout(ctx, l.opts.Timeout)
		_, err := l.pool.Exec(cctx, `SELECT ratelimit_lease($1, $2, $3, $4, $5, $6, 0, 0, 0, 0)`,
			key, ks.lim.RequestsPerMinute, ks.lim.TokensPerMinute, now.UnixNano(), req, tok)
		cancel()
		if err != nil {
			return false, fmt.Errorf("%w: %w", errDown, err)
		}
		l.stats.returns.Add(1)
		gave = true
	}
	ks.returned, ks.req, ks.tok, ks.owed = true, 0, 0, 0
	if ks.open == 0 {
		ks.dead = true
		l.mu.Lock()
		delete(l.keys, key)
		l.mu.Unlock()
	}
	return gave, nil
}
