package policy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/custos-gateway/custos/policy/pricing"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
	"github.com/open-policy-agent/opa/v1/topdown"
)

// DecisionQuery is the query every request evaluates.
const DecisionQuery = "data.custos.decision"

// DefaultTimeout bounds one evaluation.
const DefaultTimeout = 50 * time.Millisecond

// Options tune an Engine.
type Options struct {
	Timeout time.Duration // per evaluation; DefaultTimeout when zero
	Logger  *slog.Logger  // nil discards
	// NoMemo evaluates every decision afresh, even for a pure policy set.
	NoMemo bool
	// OnReload, when set, is told the outcome of every reload attempt: the
	// revision serving afterwards, whether it changed, and the error of a
	// refused set (metrics; tests wait on it instead of sleeping).
	OnReload func(rev Revision, changed bool, err error)
	// OnWatching, when set, is called once Watch has its directories
	// watched, so that a change made afterwards is seen.
	OnWatching func()
}

// Engine decides requests with the current policy set. Reloads build a new
// snapshot off to the side and swap it in atomically; requests never wait
// for a reload.
type Engine struct {
	src      Source
	timeout  time.Duration
	log      *slog.Logger
	noMemo   bool
	opts     Options
	current  atomic.Pointer[snapshot]
	reloadMu sync.Mutex // serializes reloads; never taken by Decide
	loaded   atomic.Int64
	refused  atomic.Int64
}

type snapshot struct {
	query    rego.PreparedEvalQuery
	revision Revision
	memo     *memo          // nil when the set's decisions cannot be memoized
	prices   *pricing.Table // served with the set; nil when it has none
}

// New loads, compiles and checks src; it fails if the set is not servable.
func New(ctx context.Context, src Source, opts Options) (*Engine, error) {
	e, err := NewUnready(ctx, src, opts)
	if err != nil {
		return nil, err
	}
	return e, nil
}

// NewUnready is New for a source that may be fixed while the gateway runs
// (a watched directory): when the first set is refused it still returns
// the engine, with the error. Until a reload succeeds, Revision is zero and
// every decision fails closed with ErrNoPolicy.
func NewUnready(ctx context.Context, src Source, opts Options) (*Engine, error) {
	e := &Engine{src: src, timeout: opts.Timeout, log: opts.Logger, noMemo: opts.NoMemo, opts: opts}
	if e.timeout <= 0 {
		e.timeout = DefaultTimeout
	}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	snap, err := e.build(ctx)
	if err != nil {
		return e, err
	}
	e.current.Store(snap)
	return e, nil
}

// probe is evaluated against every new set before it is served: a set whose
// decision is undefined or malformed for an unknown tenant is refused.
var probe = Input{RequestID: "probe", Tenant: "\x00probe", App: "probe", Purpose: "probe", Route: "probe", Model: "probe"}

// probeTimeout bounds the probe decision: it checks that a set decides, not
// how fast (a first evaluation on a loaded machine may exceed the request
// timeout).
const probeTimeout = 10 * time.Second

func (e *Engine) build(ctx context.Context) (*snapshot, error) {
	c, err := e.src.read(ctx)
	if err != nil {
		return nil, err
	}
	if probs := denyMetadataProblems(c.bundle); len(probs) > 0 {
		return nil, fmt.Errorf("policy set %s: %s (and %d more): %w", e.src, probs[0], len(probs)-1, ErrInvalidDecision)
	}
	pq, err := prepare(ctx, c)
	if err != nil {
		return nil, fmt.Errorf("policy set %s: %w", e.src, err)
	}
	snap := &snapshot{query: pq, revision: c.revision, prices: c.prices}
	if !e.noMemo {
		snap.memo = newMemo(c.bundle)
	}
	d, err := e.evalWithin(ctx, snap, probe, max(e.timeout, probeTimeout))
	if err != nil {
		return nil, fmt.Errorf("policy set %s fails its probe decision: %w", e.src, err)
	}
	if d.Allow {
		return nil, fmt.Errorf("policy set %s allows an unknown tenant: %w", e.src, ErrInvalidDecision)
	}
	return snap, nil
}

// prepare compiles the set's decision query strictly, over a store that
// keeps the set's data as OPA values: read by every rule of every decision,
// it is then never converted again.
func prepare(ctx context.Context, c *compiled) (rego.PreparedEvalQuery, error) {
	store := inmem.NewWithOpts(inmem.OptReturnASTValuesOnRead(true))
	txn, err := store.NewTransaction(ctx, storage.WriteParams)
	if err != nil {
		return rego.PreparedEvalQuery{}, err
	}
	pq, err := rego.New(
		rego.Query(DecisionQuery),
		rego.ParsedBundle("custos", c.bundle),
		rego.Strict(true),
		rego.Store(store),
		rego.Transaction(txn),
	).PrepareForEval(ctx)
	if err != nil {
		store.Abort(ctx, txn)
		return rego.PreparedEvalQuery{}, err
	}
	return pq, store.Commit(ctx, txn)
}

// Reload re-reads the source and swaps the new set in. A set that does not
// compile or check is refused and the current one keeps serving. It reports
// whether the revision changed.
func (e *Engine) Reload(ctx context.Context) (bool, error) {
	e.reloadMu.Lock()
	defer e.reloadMu.Unlock()
	changed, err := e.reload(ctx)
	if err != nil {
		e.refused.Add(1)
	} else {
		e.loaded.Add(1)
	}
	if e.opts.OnReload != nil {
		e.opts.OnReload(e.Revision(), changed, err)
	}
	return changed, err
}

func (e *Engine) reload(ctx context.Context) (bool, error) {
	snap, err := e.build(ctx)
	if err != nil {
		e.log.Error("policy reload refused; the previous set keeps serving",
			"source", e.src.String(), "revision", e.Revision().String(), "error", err.Error())
		return false, err
	}
	old := e.current.Load()
	if old != nil && old.revision == snap.revision {
		return false, nil
	}
	e.current.Store(snap)
	e.log.Info("policy set loaded", "source", e.src.String(), "revision", snap.revision.String(),
		"prices", snap.prices.Version())
	return true, nil
}

// Reloads counts reload attempts since start: the ones that succeeded (a
// new set or the same) and the ones refused.
func (e *Engine) Reloads() (ok, refused int64) { return e.loaded.Load(), e.refused.Load() }

// Revision returns the revision of the set now serving.
func (e *Engine) Revision() Revision {
	if s := e.current.Load(); s != nil {
		return s.revision
	}
	return Revision{}
}

// Decide evaluates the decision for in. An allow returns a nil error. A deny
// from the rules returns the decision and a *DeniedError; every other
// failure returns an error wrapping one of the package's sentinels, and the
// decision must then be treated as a deny.
func (e *Engine) Decide(ctx context.Context, in Input) (Decision, error) {
	snap := e.current.Load()
	if snap == nil {
		return Decision{}, ErrNoPolicy
	}
	var d Decision
	var key string
	hit := false
	if snap.memo != nil {
		key = snap.memo.key(&in)
		var entry memoEntry
		if entry, hit = snap.memo.get(key); hit {
			d = entry.d
		}
	}
	if !hit {
		var err error
		if d, err = e.eval(ctx, snap, in); err != nil {
			return Decision{Revision: snap.revision}, err
		}
		if snap.memo != nil {
			snap.memo.put(key, memoEntry{d: d})
		}
	}
	enforceLimits(&d, &in)
	if !d.Allow {
		return d, &DeniedError{Decision: d}
	}
	return d, nil
}

// Memoized reports whether the serving set's decisions are memoized, and
// the input fields they are keyed by.
func (e *Engine) Memoized() (bool, []string) {
	s := e.current.Load()
	if s == nil || s.memo == nil {
		return false, nil
	}
	return true, slices.Clone(s.memo.fields)
}

func (e *Engine) eval(ctx context.Context, snap *snapshot, in Input) (Decision, error) {
	return e.evalWithin(ctx, snap, in, e.timeout)
}

func (e *Engine) evalWithin(ctx context.Context, snap *snapshot, in Input, timeout time.Duration) (Decision, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	halt, release := haltWhenDone(ctx)
	defer release()
	rs, err := snap.query.Eval(ctx, rego.EvalParsedInput(in.value()), rego.EvalExternalCancel(halt))
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return Decision{}, fmt.Errorf("%w after %s", ErrTimeout, timeout)
		}
		if ctx.Err() != nil {
			return Decision{}, fmt.Errorf("%w: %w", ErrEvaluation, ctx.Err())
		}
		return Decision{}, fmt.Errorf("%w: %w", ErrEvaluation, err)
	}
	switch {
	case len(rs) == 0 || len(rs[0].Expressions) == 0:
		return Decision{}, ErrUndefined
	case len(rs) > 1 || len(rs[0].Expressions) > 1:
		return Decision{}, fmt.Errorf("%w: %d results", ErrAmbiguous, len(rs))
	}
	d, err := decode(rs[0].Expressions[0].Value)
	if err != nil {
		return Decision{}, err
	}
	if err := checkActions(&d, in.Findings); err != nil {
		return Decision{}, err
	}
	d.Revision = snap.revision
	return d, nil
}

// haltWhenDone returns an evaluation cancel that fires when ctx is done
// (its deadline, or the caller gone), and the function that stops watching
// ctx. Without it OPA starts a goroutine per evaluation to watch ctx.
func haltWhenDone(ctx context.Context) (topdown.Cancel, func()) {
	halt := topdown.NewCancel()
	stop := context.AfterFunc(ctx, halt.Cancel)
	return halt, func() { stop() }
}
