package gateway

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/custos-gateway/custos/gateway/config"
)

// countingWriter records each write it is given.
type countingWriter struct {
	mu     sync.Mutex
	writes []string
}

func (w *countingWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.writes = append(w.writes, string(p))
	return len(p), nil
}

func (w *countingWriter) all() (int, string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.writes), strings.Join(w.writes, "")
}

// fastLine logs msg through the handler's fast path, as a request line is.
func fastLine(l *slog.Logger, level slog.Level, msg string) {
	if done, err := l.Handler().(attrLogger).logAttrs(level, msg, []slog.Attr{slog.Int("status", 200)}); !done || err != nil {
		panic("fast path refused a plain line")
	}
}

func TestLineBufferBatchesInfoAndWritesWarningsAtOnce(t *testing.T) {
	cases := []struct {
		name string
		// act logs through l; fire runs the armed flush timers.
		act        func(l *slog.Logger, fire func())
		writes     int
		lines      []string // in order, in what was written
		notWritten string   // a line still held
	}{
		{"info lines wait for the timer", func(l *slog.Logger, _ func()) {
			l.Info("one")
			l.Info("two")
		}, 0, nil, "two"},
		{"the timer writes them in one write", func(l *slog.Logger, fire func()) {
			l.Info("one")
			l.Info("two")
			fire()
		}, 1, []string{"one", "two"}, ""},
		{"a warning writes everything before it, and itself", func(l *slog.Logger, _ func()) {
			l.Info("one")
			l.Warn("careful")
		}, 1, []string{"one", "careful"}, ""},
		{"an error through a derived logger too", func(l *slog.Logger, _ func()) {
			l.With("k", "v").WithGroup("g").Info("one")
			l.With("k", "v").WithGroup("g").Error("failed")
		}, 1, []string{"one", "failed"}, ""},
		{"lines through the fast path wait too", func(l *slog.Logger, _ func()) {
			fastLine(l, slog.LevelInfo, "one")
			fastLine(l, slog.LevelInfo, "two")
		}, 0, nil, "two"},
		{"a warning through the fast path writes everything before it", func(l *slog.Logger, _ func()) {
			l.Info("one")
			fastLine(l, slog.LevelInfo, "two")
			fastLine(l, slog.LevelWarn, "careful")
		}, 1, []string{"one", "two", "careful"}, ""},
		{"a full buffer writes", func(l *slog.Logger, _ func()) {
			big := strings.Repeat("x", 1000)
			for range maxBufferedLog/1000 + 1 {
				l.Info(big)
			}
		}, 1, []string{"xxxx"}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := &countingWriter{}
			b := newLineBuffer(w, time.Hour)
			var timers []func()
			b.after = func(_ time.Duration, f func()) { timers = append(timers, f) }
			l := slog.New(flushAtWarn{newJSONLog(b, slog.LevelInfo), b})
			tc.act(l, func() {
				for _, f := range timers {
					f()
				}
			})
			n, out := w.all()
			if n != tc.writes {
				t.Errorf("%d writes, want %d: %q", n, tc.writes, out)
			}
			at := 0
			for _, line := range tc.lines {
				i := strings.Index(out[at:], line)
				if i < 0 {
					t.Fatalf("%q not written in order: %q", line, out)
				}
				at += i + len(line)
			}
			if tc.notWritten != "" && strings.Contains(out, tc.notWritten) {
				t.Errorf("%q written before its time: %q", tc.notWritten, out)
			}
			if err := b.Flush(); err != nil {
				t.Fatal(err)
			}
			if _, out := w.all(); !strings.HasSuffix(out, "\n") || bytes.Count([]byte(out), []byte("\n")) < len(tc.lines) {
				t.Errorf("after Flush: %q", out)
			}
		})
	}
}

// The logger a config asks for: buffered by default, each line written at
// once with flush_interval 0; the returned flush writes what waits.
func TestNewLoggerFlush(t *testing.T) {
	for _, tc := range []struct {
		interval   time.Duration
		heldBefore bool
	}{{100 * time.Millisecond, true}, {0, false}} {
		w := &countingWriter{}
		cfg := config.Defaults().Log
		cfg.FlushInterval = config.Duration(tc.interval)
		l, flush := NewLogger(cfg, w)
		l.InfoContext(context.Background(), "request")
		if n, _ := w.all(); (n == 0) != tc.heldBefore {
			t.Errorf("interval %s: %d writes before flush", tc.interval, n)
		}
		if err := flush(); err != nil {
			t.Fatal(err)
		}
		if _, out := w.all(); !strings.Contains(out, `"msg":"request"`) {
			t.Errorf("interval %s: after flush %q", tc.interval, out)
		}
		l.Info("late") // a request ending after the server stopped
		if _, out := w.all(); !strings.Contains(out, `"msg":"late"`) {
			t.Errorf("interval %s: a line after the flush was held: %q", tc.interval, out)
		}
	}
}
