package audit

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"
)

// trickyStrings are what a string member may hold: plain identifiers, and
// everything encoding/json escapes or replaces.
var trickyStrings = []string{"", "st-marys", "gpt-4o-mini", "a\"b", `back\slash`, "<script>&amp;", "tab\there",
	"line\nbreak", "\x00\x1f\x7f", "Müller", "王小明", "\u2028\u2029", "bad\xffutf8", "\xc3", "emoji 🩺"}

// fill sets every field reachable from v (pointers allocated, slices and
// maps given 1 to 3 elements) from rng, or leaves each at its zero value
// with probability zero/10: so a field added to Record is set here too,
// and an encoder that does not know it fails the comparison.
func fill(rng *rand.Rand, v reflect.Value, zero int) {
	if rng.IntN(10) < zero {
		v.SetZero()
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(rng, v.Elem(), 0)
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			zones := []*time.Location{time.UTC, time.FixedZone("x", 5*3600+30*60), time.FixedZone("y", -8*3600),
				time.FixedZone("z", 14*3600), time.FixedZone("w", -(11*3600 + 59*60 + 30))}
			t := time.Unix(rng.Int64N(4e9), rng.Int64N(1e9)).In(zones[rng.IntN(len(zones))])
			if rng.IntN(8) == 0 {
				t = t.Truncate(time.Second)
			}
			v.Set(reflect.ValueOf(t))
			return
		}
		for i := range v.NumField() {
			fill(rng, v.Field(i), zero)
		}
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), rng.IntN(4), 3) // empty but not nil, too
		for i := range s.Len() {
			fill(rng, s.Index(i), 0)
		}
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		for range rng.IntN(4) {
			k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
			fill(rng, k, 0)
			fill(rng, e, 0)
			m.SetMapIndex(k, e)
		}
		v.Set(m)
	case reflect.String:
		v.SetString(trickyStrings[rng.IntN(len(trickyStrings))])
	case reflect.Bool:
		v.SetBool(rng.IntN(2) == 0)
	case reflect.Int, reflect.Int64:
		v.SetInt([]int64{0, 1, -1, 200, 1 << 40, -1 << 62, rng.Int64()}[rng.IntN(7)])
	case reflect.Uint64:
		v.SetUint([]uint64{0, 1, 1 << 63, rng.Uint64()}[rng.IntN(4)])
	default:
		panic("fill: no case for " + v.Type().String()) // a new field type: teach fill
	}
}

// TestRecordEncoding holds appendRecord to encoding/json's bytes: the
// record's hash and the write-ahead frames are over these bytes, and
// readers (verify, export, the credit journal) decode them with
// encoding/json.
func TestRecordEncoding(t *testing.T) {
	cases := []struct {
		name string
		zero int // in 10: how often a field is left zero
		n    int
	}{{"every field set", 0, 2000}, {"some fields set", 5, 4000}, {"few fields set", 9, 2000}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(c.zero), 17))
			for i := range c.n {
				r := randomRecord(rng, c.zero)
				checkEncoding(t, i, r)
			}
		})
	}
	t.Run("zero record", func(t *testing.T) { checkEncoding(t, 0, &Record{}) })
	t.Run("times json refuses", func(t *testing.T) {
		for _, tm := range []time.Time{time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
			time.Date(2026, 1, 1, 0, 0, 0, 0, time.FixedZone("far", 25*3600)), time.Date(2026, 1, 1, 0, 0, 0, 0, time.FixedZone("far", -24*3600))} {
			r := &Record{Time: tm}
			if _, err := r.marshal(); err == nil {
				t.Errorf("%v: marshalled; encoding/json refuses it", tm)
			}
		}
		r := &Record{Time: time.Date(2026, 1, 1, 0, 0, 0, 0, time.FixedZone("near", 23*3600+59*60))}
		checkEncoding(t, 0, r)
	})
}

// randomRecord is a record whose fields fill sets (the record itself is
// never left zero).
func randomRecord(rng *rand.Rand, zero int) *Record {
	var r Record
	v := reflect.ValueOf(&r).Elem()
	for i := range v.NumField() {
		fill(rng, v.Field(i), zero)
	}
	return &r
}

func checkEncoding(t *testing.T, i int, r *Record) {
	t.Helper()
	want, wantErr := json.Marshal(r)
	got, err := r.marshal()
	if (err != nil) != (wantErr != nil) {
		t.Fatalf("record %d: error %v, encoding/json's %v", i, err, wantErr)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("record %d:\n got  %s\n want %s", i, got, want)
	}
}

// FuzzRecordEncoding: any strings, numbers and flags in the members a
// request's records carry encode as encoding/json encodes them.
func FuzzRecordEncoding(f *testing.F) {
	f.Add("st-marys", "gpt-4o-mini", "PERSON", "pseudonymize", int64(12), uint64(7), true)
	f.Add("<&>", "\u2028", "bad\xff", "\x00", int64(-1), uint64(1<<63), false)
	f.Fuzz(func(t *testing.T, a, b, c, d string, n int64, seq uint64, flag bool) {
		bal := n * 3
		r := &Record{Seq: seq, Time: time.Unix(0, n).UTC(), Kind: a, Instance: b, RequestID: c, Tenant: d,
			Stream: flag, IntentSeq: seq / 2, ModelRequested: b, Endpoint: c, PolicyRevision: a,
			Decision:     &Decision{Allow: flag, Codes: []string{a, d}, DryRun: !flag},
			PII:          map[string]PIIAction{a: {Count: int(n), Action: b}, c: {Count: 1, Action: d}},
			Tokens:       &Tokens{Prompt: n, Completion: -n, Cached: n / 2, Estimated: flag},
			Cost:         &Cost{Micros: n, Currency: d, PriceVersion: c, Estimated: !flag, Account: a},
			BalanceAfter: &bal, LatencyMS: n, Status: int(n % 600), ErrorCode: d,
			Attempts: []Attempt{{Endpoint: a, Status: 502, ErrorCode: b, LatencyMS: n}, {Endpoint: c}}}
		checkEncoding(t, 0, r)
	})
}

func BenchmarkRecordEncoding(b *testing.B) {
	bal := int64(998_266)
	r := &Record{Seq: 81234, Time: time.Now().UTC(), Kind: KindOutcome, Instance: "custos-7f9c", RequestID: "req_5f2c9a1e7b3d4c60",
		IntentSeq: 81233, Tenant: "st-marys", App: "clinical-assistant", Purpose: "treatment", KeyID: "k_450e5eab2160",
		Route: "/v1/chat/completions", ModelRequested: "gpt-4o-mini", ModelServed: "gpt-4o-mini-2024-07-18",
		Endpoint: "azure-eu-west", Provider: "azure", Region: "eu-west", PolicyRevision: "sha256:9f2c41d0e7",
		Decision: &Decision{Allow: true}, PII: map[string]PIIAction{"PERSON": {2, "pseudonymize"}, "DATE": {1, "redact"}},
		Tokens: &Tokens{Prompt: 312, Completion: 96}, Cost: &Cost{Micros: 1734, Currency: "EUR", PriceVersion: "2026-11", Account: "st-marys"},
		BalanceAfter: &bal, LatencyMS: 412, Status: 200, Attempts: []Attempt{{Endpoint: "azure-eu-west", Status: 200, LatencyMS: 410}}}
	b.Run("appendRecord", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = r.marshal()
		}
	})
	b.Run("encoding-json", func(b *testing.B) { // the baseline
		b.ReportAllocs()
		for b.Loop() {
			_, _ = json.Marshal(r)
		}
	})
}
