package gateway

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// requestLikeAttrs are attributes of the kinds and shape logRequest builds.
func requestLikeAttrs() []slog.Attr {
	stages := []string{"authenticate", "inspect", "decide", "route", "redact", "reserve", "intent", "forward", "account"}
	times := make([]slog.Attr, 0, len(stages))
	for i, s := range stages {
		times = append(times, slog.Int64(s, int64(i*37)))
	}
	return []slog.Attr{
		slog.String("request_id", "req_01JABCDEFGHJKMNPQRSTVWXYZ"), slog.String("route", "/v1/chat/completions"),
		slog.Int("status", 200), slog.Duration("latency", 1234567*time.Nanosecond), slog.Any("stages", stages),
		{Key: "stage_us", Value: slog.GroupValue(times...)},
		slog.String("tenant", "st-marys"), slog.String("app", "bench"), slog.String("key_id", "k_a6c3b8d2ad89"),
		slog.String("model", "gpt-4o-mini"), slog.Bool("stream", false), slog.String("endpoint", "local-llm"),
		slog.String("region", "eu-west"), slog.Duration("first_byte", 345678),
		slog.String("policy_revision", "starter-2026-11-20"), slog.Any("dry_run_deny", []string{"model_not_allowed"}),
		{Key: "pii", Value: slog.GroupValue(slog.Int("EMAIL", 1), slog.Int("PERSON", 2))},
		slog.Int64("prompt_tokens", 260), slog.Int64("completion_tokens", 16), slog.Int64("cost_micros", 51),
		slog.String("currency", "USD"),
	}
}

// slogLine is what slog's own JSON handler writes for the record.
func slogLine(t *testing.T, at time.Time, level slog.Level, msg string, attrs []slog.Attr) []byte {
	var buf bytes.Buffer
	r := slog.NewRecord(at, level, msg, 0)
	r.AddAttrs(attrs...)
	if err := slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}).Handle(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestJSONLogMatchesSlog: for every attribute list the fast path takes, it
// writes slog's bytes exactly; everything else it leaves to slog. The lists
// are drawn from values of every kind, including strings and keys slog
// escapes, empty and nested groups, and lists of strings.
func TestJSONLogMatchesSlog(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	zones := []*time.Location{time.UTC, time.FixedZone("", 5*3600+1800), time.FixedZone("X", -7*3600)}
	taken, left := 0, 0
	for i := range 20000 {
		attrs := randomAttrs(rng, 0)
		if i == 0 {
			attrs = requestLikeAttrs()
		}
		at := time.Date(2026, 12, 4, 18, 0, 0, rng.IntN(2e9), zones[i%len(zones)]).Add(time.Duration(i) * time.Minute)
		level := []slog.Level{slog.LevelInfo, slog.LevelWarn, slog.LevelError, slog.LevelDebug, slog.LevelInfo + 2}[i%5]
		want := slogLine(t, at, level, "request", attrs)
		got, ok := appendLine(nil, at, level, "request", attrs)
		if !ok {
			left++
			var buf bytes.Buffer
			if done, _ := newJSONLog(&buf, slog.LevelDebug).logAttrs(level, "request", attrs); done || buf.Len() > 0 {
				t.Fatalf("case %d: fast path took %v (wrote %q)", i, attrs, buf.String())
			}
			continue
		}
		taken++
		if !bytes.Equal(got, want) {
			t.Fatalf("case %d:\n got %s\nwant %s", i, got, want)
		}
	}
	t.Logf("fast path: %d lists written, %d left to slog", taken, left)
	if taken < 2000 || left < 2000 {
		t.Fatalf("fast path took %d lists and left %d: the draw does not test both sides", taken, left)
	}
	if _, ok := appendLine(nil, time.Now(), slog.LevelInfo, "request", requestLikeAttrs()); !ok {
		t.Fatal("a request line is not taken by the fast path")
	}
}

// TestJSONLogLevel: the fast path writes at or above the handler's level
// and drops what is below, as slog does.
func TestJSONLogLevel(t *testing.T) {
	for _, tc := range []struct {
		handler, line slog.Level
		written       bool
	}{{slog.LevelInfo, slog.LevelInfo, true}, {slog.LevelInfo, slog.LevelDebug, false}, {slog.LevelWarn, slog.LevelInfo, false},
		{slog.LevelWarn, slog.LevelError, true}} {
		var buf bytes.Buffer
		done, err := newJSONLog(&buf, tc.handler).logAttrs(tc.line, "request", requestLikeAttrs())
		if !done || err != nil || (buf.Len() > 0) != tc.written {
			t.Errorf("handler %s, line %s: done %v, err %v, wrote %q", tc.handler, tc.line, done, err, buf.String())
		}
		if tc.written && !bytes.HasPrefix(buf.Bytes(), []byte(`{"time":"`)) {
			t.Errorf("line %q", buf.String())
		}
	}
}

var (
	plainTexts   = []string{"", "a", "req_01JABC", "/v1/chat/completions", "x y~!#$%&'()*+,-./:;<=>?@[]^_`{|}", "null"}
	escapedTexts = []string{`a"b`, `a\b`, "tab\t", "nl\n", "é", "\u2028", "\u2029", "\x00", "\x1f", "\x7f", "\xff", "<a>&", "\b\f"}
)

// awkwardBytes make strings slog escapes: controls, quotes, backslashes,
// pieces of UTF-8 (valid, invalid, U+2028) and HTML's specials.
const awkwardBytes = "\x00\x01\b\f\t\n\r\x1f \x7f\x80\xc3\xa9\xe2\xa8\xa9\xff\"\\<>&a"

func randomString(rng *rand.Rand) string {
	switch rng.IntN(10) {
	case 0:
		return escapedTexts[rng.IntN(len(escapedTexts))]
	case 1:
		b := make([]byte, rng.IntN(7))
		for i := range b {
			b[i] = awkwardBytes[rng.IntN(len(awkwardBytes))]
		}
		return string(b)
	}
	return plainTexts[rng.IntN(len(plainTexts))]
}

func randomKey(rng *rand.Rand) string {
	if rng.IntN(40) == 0 {
		return randomString(rng)
	}
	return []string{"k", "request_id", "stage_us", "a b"}[rng.IntN(4)]
}

type resolving struct{}

func (resolving) LogValue() slog.Value { return slog.StringValue("resolved") }

func randomAttrs(rng *rand.Rand, depth int) []slog.Attr {
	out := make([]slog.Attr, rng.IntN(7))
	for i := range out {
		out[i] = slog.Attr{Key: randomKey(rng), Value: randomValue(rng, depth)}
	}
	return out
}

func randomValue(rng *rand.Rand, depth int) slog.Value {
	switch rng.IntN(12) {
	case 0, 1:
		return slog.StringValue(randomString(rng))
	case 2:
		return slog.Int64Value([]int64{0, -1, 7, math.MaxInt64, math.MinInt64}[rng.IntN(5)])
	case 3:
		return slog.BoolValue(rng.IntN(2) == 0)
	case 4:
		return slog.DurationValue(time.Duration(rng.Int64N(1e12) - 5e11))
	case 5:
		if depth < 2 {
			return slog.GroupValue(randomAttrs(rng, depth+1)...)
		}
		return slog.GroupValue()
	case 6:
		ss := []string(nil)
		if rng.IntN(4) > 0 {
			ss = make([]string, rng.IntN(4))
			for j := range ss {
				ss[j] = randomString(rng)
			}
		}
		return slog.AnyValue(ss)
	case 7:
		return slog.Float64Value(1.5)
	case 8:
		return slog.TimeValue(time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC))
	case 9:
		return slog.AnyValue(errors.New("boom"))
	case 10:
		return slog.Uint64Value(3)
	}
	return slog.AnyValue(resolving{})
}

// BenchmarkRequestLine: the request's log line through slog's JSON handler
// against the fast path, to a discarding writer.
func BenchmarkRequestLine(b *testing.B) {
	attrs := requestLikeAttrs()
	b.Run("slog", func(b *testing.B) {
		l := slog.New(slog.NewJSONHandler(io.Discard, nil))
		b.ReportAllocs()
		for b.Loop() {
			l.LogAttrs(context.Background(), slog.LevelInfo, "request", attrs...)
		}
	})
	b.Run("fast", func(b *testing.B) {
		h := newJSONLog(io.Discard, slog.LevelInfo)
		b.ReportAllocs()
		for b.Loop() {
			_, _ = h.logAttrs(slog.LevelInfo, "request", attrs)
		}
	})
}
