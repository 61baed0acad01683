package gateway

import (
	"context"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/custos-gateway/custos/gateway/jsondoc"
)

// jsonLog is the gateway's JSON log handler: slog's own for every record,
// and beside it logAttrs, which writes a line given as attributes in the
// bytes slog's handler would write (TestJSONLogMatchesSlog) without a
// slog.Record, a caller look-up, a reflective encoder or a lock of its
// own. The request line, one per request with some twenty-five
// attributes, cost more through slog than the policy decision.
type jsonLog struct {
	slog.Handler // slog.NewJSONHandler(w, opts) with only opts.Level set
	w            io.Writer
}

// attrLogger writes a line from its attributes; false: not written (the
// caller logs it through slog instead).
type attrLogger interface {
	logAttrs(level slog.Level, msg string, attrs []slog.Attr) (bool, error)
}

// newJSONLog returns slog's JSON handler on w with level, and the fast
// path beside it. w must take concurrent writes of one line each.
func newJSONLog(w io.Writer, level slog.Leveler) jsonLog {
	return jsonLog{Handler: slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level}), w: w}
}

var lineBufs = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// logAttrs writes the line unless an attribute is of a kind it does not
// encode exactly as slog does (it encodes strings, integers, booleans,
// durations, groups of these and lists of plain strings); such a line is
// left to slog.
func (h jsonLog) logAttrs(level slog.Level, msg string, attrs []slog.Attr) (bool, error) {
	if !h.Handler.Enabled(context.Background(), level) {
		return true, nil
	}
	bp := lineBufs.Get().(*[]byte)
	b, ok := appendLine((*bp)[:0], time.Now(), level, msg, attrs)
	var err error
	if ok {
		_, err = h.w.Write(b)
	}
	*bp = b
	lineBufs.Put(bp)
	return ok, err
}

// appendLine appends the line slog's JSON handler writes for a record at
// t, of level and msg, with attrs; false: an attribute it does not write.
func appendLine(b []byte, t time.Time, level slog.Level, msg string, attrs []slog.Attr) ([]byte, bool) {
	b = append(b, `{"time":"`...)
	b = t.Round(0).AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","level":"`...)
	b = append(b, level.String()...)
	b = append(b, `","msg":`...)
	b = jsondoc.AppendString(b, msg) // slog's escaping: tested
	b, ok := appendAttrs(b, attrs, ",")
	return append(b, "}\n"...), ok
}

// appendAttrs appends attrs as slog's JSON handler does, sep before the
// first written; empty groups are left out.
func appendAttrs(b []byte, attrs []slog.Attr, sep string) ([]byte, bool) {
	for _, a := range attrs {
		if a.Key == "" {
			return b, false // slog inlines a group, or writes "", or nothing
		}
		v := a.Value
		if v.Kind() == slog.KindGroup {
			if g := v.Group(); len(g) > 0 {
				var ok bool
				if b, ok = appendAttrs(append(appendKey(b, sep, a.Key), '{'), g, ""); !ok {
					return b, false
				}
				b, sep = append(b, '}'), ","
			}
			continue
		}
		b, sep = appendKey(b, sep, a.Key), ","
		switch v.Kind() {
		case slog.KindString:
			b = jsondoc.AppendString(b, v.String())
		case slog.KindInt64:
			b = strconv.AppendInt(b, v.Int64(), 10)
		case slog.KindBool:
			b = strconv.AppendBool(b, v.Bool())
		case slog.KindDuration:
			b = strconv.AppendInt(b, int64(v.Duration()), 10)
		case slog.KindAny:
			ss, ok := v.Any().([]string)
			if !ok || !plainStrings(ss) {
				return b, false // what encoding/json makes of it is its own
			}
			b = appendJSONList(b, ss)
		default:
			return b, false
		}
	}
	return b, true
}

func appendKey(b []byte, sep, key string) []byte {
	return append(jsondoc.AppendString(append(b, sep...), key), ':')
}

// appendJSONList writes a list of plain strings as encoding/json does:
// null for nil.
func appendJSONList(b []byte, ss []string) []byte {
	if ss == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(append(append(b, '"'), s...), '"')
	}
	return append(b, ']')
}

// plainStrings: every string is printable ASCII without a quote or a
// backslash, which encoding/json writes between quotes as it is (it
// escapes some control characters unlike slog, so those are left to it).
func plainStrings(ss []string) bool {
	for _, s := range ss {
		for i := 0; i < len(s); i++ {
			if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
				return false
			}
		}
	}
	return true
}

func (h jsonLog) WithAttrs(as []slog.Attr) slog.Handler { return h.Handler.WithAttrs(as) }

func (h jsonLog) WithGroup(name string) slog.Handler { return h.Handler.WithGroup(name) }

// lockedWriter serializes writes to a writer that may not take them
// concurrently (slog's handler locks around its writes; the fast path
// shares the writer).
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
