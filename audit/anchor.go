package audit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"
)

// Anchor keeps signed checkpoints where the log file's owner cannot rewrite
// them (an append-only file on other storage, a versioned Vault KV path).
// Verify, given the anchored checkpoints, fails when the newest anchored
// head is not in the log: a tail cut with a rewritten head is then found.
type Anchor interface {
	// Anchor stores one checkpoint durably before returning nil. Calls come
	// from one goroutine, in checkpoint order.
	Anchor(ctx context.Context, cp Checkpoint) error
}

// FileAnchor appends each checkpoint as one JSON line to a file and fsyncs
// it. Mount the file from storage the gateway can append to but not
// rewrite (e.g. chattr +a, a WORM share).
type FileAnchor struct{ path string }

// NewFileAnchor anchors into the JSON-lines file at path (created if absent).
func NewFileAnchor(path string) *FileAnchor { return &FileAnchor{path: path} }

// Anchor appends cp and fsyncs.
func (a *FileAnchor) Anchor(_ context.Context, cp Checkpoint) error {
	line, err := json.Marshal(cp)
	if err != nil {
		return err
	}
	if err := appendLine(a.path, line); err != nil {
		return fmt.Errorf("audit: anchor file: %w", err)
	}
	return nil
}

func appendLine(path string, line []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(append(line, '\n')); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// maxAnchorBacklog bounds the checkpoints waiting for slow anchors; when it
// is exceeded the oldest waiting ones are dropped (a newer head proves all
// an older one did).
const maxAnchorBacklog = 256

// anchorer delivers checkpoints to the anchors off the writer goroutine, so
// that a slow or unreachable anchor never delays an append.
type anchorer struct {
	anchors []Anchor
	timeout time.Duration
	stats   *counters

	mu      sync.Mutex
	backlog []Checkpoint
	busy    bool
	idle    *sync.Cond // signalled when the backlog empties
	wake    chan struct{}
	stop    chan struct{}
	stopped chan struct{}
	lastErr error
}

func newAnchorer(anchors []Anchor, timeout time.Duration, stats *counters) *anchorer {
	a := &anchorer{anchors: anchors, timeout: timeout, stats: stats,
		wake: make(chan struct{}, 1), stop: make(chan struct{}), stopped: make(chan struct{})}
	a.idle = sync.NewCond(&a.mu)
	go a.run()
	return a
}

func (a *anchorer) enqueue(cp Checkpoint) {
	if len(a.anchors) == 0 {
		return
	}
	a.mu.Lock()
	if len(a.backlog) >= maxAnchorBacklog {
		a.backlog = a.backlog[1:]
		a.stats.anchorDropped.Add(1)
	}
	a.backlog = append(a.backlog, cp)
	a.mu.Unlock()
	select {
	case a.wake <- struct{}{}:
	default:
	}
}

func (a *anchorer) run() {
	defer close(a.stopped)
	for {
		a.mu.Lock()
		if len(a.backlog) == 0 {
			a.busy = false
			a.idle.Broadcast()
			a.mu.Unlock()
			select {
			case <-a.wake:
				continue
			case <-a.stop:
				return
			}
		}
		cp := a.backlog[0]
		a.backlog = a.backlog[1:]
		a.busy = true
		a.mu.Unlock()
		a.deliver(cp)
	}
}

func (a *anchorer) deliver(cp Checkpoint) {
	var errs []error
	for _, an := range a.anchors {
		ctx, cancel := context.WithTimeout(context.Background(), a.timeout)
		err := an.Anchor(ctx, cp)
		cancel()
		if err != nil {
			a.stats.anchorFailed.Add(1)
			a.stats.lastAnchor.Store(&failure{msg: err.Error(), at: time.Now(), err: err})
			errs = append(errs, err)
			continue
		}
		a.stats.anchorDelivered.Add(1)
	}
	err := errors.Join(errs...)
	if err == nil {
		a.stats.anchorSeq.Store(cp.Seq)
	}
	a.mu.Lock()
	a.lastErr = err
	a.mu.Unlock()
}

// close waits until every queued checkpoint was delivered, stops, and
// returns the last delivery's error.
func (a *anchorer) close() error {
	a.mu.Lock()
	for len(a.backlog) > 0 || a.busy {
		a.idle.Wait()
	}
	err := a.lastErr
	a.mu.Unlock()
	close(a.stop)
	<-a.stopped
	if err != nil {
		return fmt.Errorf("audit: anchoring the final checkpoint: %w", err)
	}
	return nil
}
