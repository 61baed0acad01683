package gateway

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"time"
)

// maxBufferedLog is what the log buffer holds before it writes at once.
const maxBufferedLog = 64 << 10

// lineBuffer batches log lines into few writes: a line waits at most delay
// after the first one waiting, or until maxBufferedLog bytes wait, and
// Flush writes at once. At a request a second, one write per request line
// was a third of the gateway's write calls.
type lineBuffer struct {
	mu    sync.Mutex
	w     io.Writer
	buf   []byte
	delay time.Duration
	armed bool
	done  bool                        // closed: lines are written as they come
	after func(time.Duration, func()) // time.AfterFunc; tests replace it
}

func newLineBuffer(w io.Writer, delay time.Duration) *lineBuffer {
	return &lineBuffer{w: w, delay: delay, after: func(d time.Duration, f func()) { time.AfterFunc(d, f) }}
}

// Write takes one line (slog writes each record in one call).
func (b *lineBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.buf)+len(p) > maxBufferedLog {
		if err := b.writeLocked(); err != nil {
			return 0, err
		}
	}
	if len(p) > maxBufferedLog || b.done {
		return b.w.Write(p)
	}
	b.buf = append(b.buf, p...)
	if !b.armed {
		b.armed = true
		b.after(b.delay, b.timed)
	}
	return len(p), nil
}

func (b *lineBuffer) timed() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.armed = false
	_ = b.writeLocked()
}

// Flush writes what waits.
func (b *lineBuffer) Flush() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.writeLocked()
}

// Close writes what waits; lines that come later (from requests still
// ending after the server stopped) are written as they come.
func (b *lineBuffer) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.done = true
	return b.writeLocked()
}

func (b *lineBuffer) writeLocked() error {
	if len(b.buf) == 0 {
		return nil
	}
	_, err := b.w.Write(b.buf)
	b.buf = b.buf[:0]
	return err
}

// flushAtWarn writes a record at warning level or above, and every line
// before it, before Handle returns: a warning or an error is never held.
type flushAtWarn struct {
	slog.Handler
	b *lineBuffer
}

func (h flushAtWarn) Handle(ctx context.Context, r slog.Record) error {
	err := h.Handler.Handle(ctx, r)
	if r.Level >= slog.LevelWarn {
		if ferr := h.b.Flush(); err == nil {
			err = ferr
		}
	}
	return err
}

// logAttrs writes through the handler's fast path, if it has one, and
// flushes at warning level as Handle does.
func (h flushAtWarn) logAttrs(level slog.Level, msg string, attrs []slog.Attr) (bool, error) {
	al, ok := h.Handler.(attrLogger)
	if !ok {
		return false, nil
	}
	done, err := al.logAttrs(level, msg, attrs)
	if done && level >= slog.LevelWarn {
		if ferr := h.b.Flush(); err == nil {
			err = ferr
		}
	}
	return done, err
}

func (h flushAtWarn) WithAttrs(as []slog.Attr) slog.Handler {
	return flushAtWarn{h.Handler.WithAttrs(as), h.b}
}

func (h flushAtWarn) WithGroup(name string) slog.Handler {
	return flushAtWarn{h.Handler.WithGroup(name), h.b}
}
