package jsondoc_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/custos-gateway/custos/gateway/jsondoc"
)

func TestParseEncodeRoundTrip(t *testing.T) {
	cases := []string{
		`{}`, `[]`, `null`, `true`, `false`, `0`, `-1.5e+10`, `"x"`,
		`{"a":1,"b":[true,false,null],"c":{"d":"e"}}`,
		`{"z":1,"a":2}`, // order kept
		`"tab\tquote\"back\\slash\u0001"`,
		`"<html> & 'quotes'"`, // never HTML-escaped
		`"日本語 émoji 😀"`,
	}
	for _, in := range cases {
		v, err := jsondoc.Parse([]byte(in), jsondoc.Limits{})
		if err != nil {
			t.Errorf("Parse(%s): %v", in, err)
			continue
		}
		if got := string(jsondoc.Encode(v)); got != in {
			t.Errorf("Encode(Parse(%s)) = %s", in, got)
		}
	}
}

// The encoding means the same as the input to encoding/json.
func TestEncodingAgreesWithEncodingJSON(t *testing.T) {
	in := ` { "a" : "\u00e9\ud83d\ude00\n" , "b" : [ 1 , 2.50 , -0 ] , "c" : "\/" } `
	v, err := jsondoc.Parse([]byte(in), jsondoc.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	var want, got any
	if err := json.Unmarshal([]byte(in), &want); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(jsondoc.Encode(v), &got); err != nil {
		t.Fatal(err)
	}
	wb, _ := json.Marshal(want)
	gb, _ := json.Marshal(got)
	if !bytes.Equal(wb, gb) {
		t.Errorf("got %s, want %s", gb, wb)
	}
}

func TestParseRefuses(t *testing.T) {
	deep := strings.Repeat("[", 65) + strings.Repeat("]", 65)
	many := "[" + strings.Repeat("1,", 200) + "1]"
	cases := []struct {
		name, in string
		lim      jsondoc.Limits
		want     error
		path     string
	}{
		{"duplicate key", `{"a":1,"a":2}`, jsondoc.Limits{}, jsondoc.ErrDuplicateKey, "a"},
		{"nested duplicate", `{"m":[{"content":"x","content":"y"}]}`, jsondoc.Limits{}, jsondoc.ErrDuplicateKey, "m[0].content"},
		{"case variant", `{"text":"hi","Text":"x"}`, jsondoc.Limits{}, jsondoc.ErrCaseVariantKey, "Text"},
		{"unicode fold variant", "{\"s\":1,\"\u017f\":2}", jsondoc.Limits{}, jsondoc.ErrCaseVariantKey, "\u017f"},
		{"large object duplicate", largeObject(40) + `,"k7":0}`, jsondoc.Limits{}, jsondoc.ErrDuplicateKey, "k7"},
		{"large object case variant", largeObject(40) + `,"K7":0}`, jsondoc.Limits{}, jsondoc.ErrCaseVariantKey, "K7"},
		{"too deep", deep, jsondoc.Limits{}, jsondoc.ErrTooDeep, ""},
		{"too many values", many, jsondoc.Limits{MaxValues: 100}, jsondoc.ErrTooManyValues, ""},
		{"trailing garbage", `{} x`, jsondoc.Limits{}, jsondoc.ErrSyntax, ""},
		{"bad escape", `"\x"`, jsondoc.Limits{}, jsondoc.ErrSyntax, ""},
		{"control character", "\"a\x01\"", jsondoc.Limits{}, jsondoc.ErrSyntax, ""},
		{"leading zero", `01`, jsondoc.Limits{}, jsondoc.ErrSyntax, ""},
		{"empty", ``, jsondoc.Limits{}, jsondoc.ErrSyntax, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := jsondoc.Parse([]byte(tc.in), tc.lim)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			var pe *jsondoc.Error
			if !errors.As(err, &pe) {
				t.Fatalf("err %T is not *jsondoc.Error", err)
			}
			if tc.path != "" && pe.Path.String() != tc.path {
				t.Errorf("path %q, want %q", pe.Path, tc.path)
			}
			if strings.Contains(err.Error(), "k7") || strings.Contains(err.Error(), "Text") {
				t.Errorf("error %q names a key: keys are request text", err)
			}
		})
	}
}

func largeObject(n int) string {
	var b strings.Builder
	b.WriteString("{")
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(`"k` + itoa(i) + `":0`)
	}
	return b.String()
}

func itoa(i int) string { return strconv.Itoa(i) }

// Invalid UTF-8 becomes U+FFFD, so what is forwarded is what was inspected.
func TestInvalidUTF8IsReplaced(t *testing.T) {
	v, err := jsondoc.Parse([]byte("\"a\xffb\""), jsondoc.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if v.Str != "a\uFFFDb" {
		t.Errorf("text %q", v.Str)
	}
	if got := string(jsondoc.Encode(jsondoc.NewString("x\xffy"))); got != `"x\ufffdy"` {
		t.Errorf("encoded %s", got)
	}
}

var chatRules = jsondoc.Rules{
	Embedded:   []jsondoc.Pattern{jsondoc.P("messages[].tool_calls[].function.arguments")},
	Opaque:     []jsondoc.Pattern{jsondoc.P("messages[].content[].input_audio.data")},
	Media:      []jsondoc.Pattern{jsondoc.P("messages[].content[]")},
	MediaTypes: []string{"image_url", "input_audio"},
	Joined:     []jsondoc.Pattern{jsondoc.P("messages[].content")},
	Fields:     []jsondoc.FieldSet{{At: jsondoc.P("messages[].content[]"), Names: []string{"type", "text"}}},
	Enums:      []jsondoc.FieldSet{{At: jsondoc.P("messages[].role"), Names: []string{"user"}}},
}

func TestWalkVisitsEveryText(t *testing.T) {
	body := `{"model":"m","x-unknown":{"deep":[42,"note"]},"messages":[{"role":"user","content":[` +
		`{"type":"text","text":"part one"},{"type":"text","text":"part two"},` +
		`{"type":"input_audio","input_audio":{"data":"QUJD","format":"wav"}},{"type":"text","text":"alone"}]},` +
		`{"role":"assistant","tool_calls":[{"id":"c1","function":{"name":"f","arguments":"{\"ssn\":123456789}"}}]}]}`
	doc, err := jsondoc.Parse([]byte(body), jsondoc.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	w, err := jsondoc.Inspect(doc, &chatRules, jsondoc.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]*jsondoc.Text{}
	for _, tx := range w.Texts {
		got[tx.Text] = tx
	}
	for _, want := range []string{"m", "x-unknown", "deep", "42", "note", "part one", "part two", "alone", "wav", "c1", "f", "ssn", "123456789"} {
		if got[want] == nil {
			t.Errorf("text %q not visited", want)
		}
	}
	if got["QUJD"] != nil {
		t.Error("opaque base64 visited as text")
	}
	if w.Uninspectable != 2 { // the audio part, and its data
		t.Errorf("uninspectable = %d, want 2", w.Uninspectable)
	}
	if g1, g2 := got["part one"].Group, got["part two"].Group; g1 == 0 || g1 != g2 || got["alone"].Group == g1 {
		t.Errorf("groups: %d %d alone %d", g1, g2, got["alone"].Group)
	}
	if !got["user"].Structural || got["note"].Structural || !got["type"].Structural {
		t.Error("structural marks wrong")
	}
	if got["123456789"].Key != "ssn" {
		t.Errorf("key of a tool argument = %q", got["123456789"].Key)
	}
	got["123456789"].Set("[US_SSN_1]")
	got["part one"].Set("part [X]")
	w.Finish()
	out := string(jsondoc.Encode(doc))
	if !strings.Contains(out, `"arguments":"{\"ssn\":\"[US_SSN_1]\"}"`) || !strings.Contains(out, `"text":"part [X]"`) {
		t.Errorf("redacted tree encodes as %s", out)
	}
}

func TestWalkRefusesCaseVariantsOfKnownFields(t *testing.T) {
	doc, _ := jsondoc.Parse([]byte(`{"messages":[{"role":"user","content":[{"type":"text","Text":"hidden"}]}]}`), jsondoc.Limits{})
	_, err := jsondoc.Inspect(doc, &chatRules, jsondoc.Limits{})
	var fe *jsondoc.FieldError
	if !errors.As(err, &fe) || fe.Path.String() != "messages[0].content[0].Text" {
		t.Fatalf("err = %v", err)
	}
}

// InspectData records exactly Inspect's texts that are data, in order, and
// counts the structural ones and their bytes.
func TestInspectDataLeavesOutOnlyStructuralTexts(t *testing.T) {
	body := `{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"Jane Roe"},` +
		`{"type":"input_audio","input_audio":{"data":"QUJD"}}]},{"role":"userx","content":"user"}]}`
	walk := func(f func(*jsondoc.Value, *jsondoc.Rules, jsondoc.Limits) (*jsondoc.Walk, error)) (*jsondoc.Walk, *jsondoc.Value) {
		doc, err := jsondoc.Parse([]byte(body), jsondoc.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		w, err := f(doc, &chatRules, jsondoc.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		return w, doc
	}
	all, _ := walk(jsondoc.Inspect)
	data, doc := walk(jsondoc.InspectData)
	var want []string
	structural, structuralBytes := 0, 0
	for _, tx := range all.Texts {
		if tx.Structural {
			structural, structuralBytes = structural+1, structuralBytes+len(tx.Text)
			continue
		}
		want = append(want, fmt.Sprintf("%s|%s|%v|%d", tx.Text, tx.Key, tx.IsKey, tx.Group))
	}
	var got []string
	for _, tx := range data.Texts {
		got = append(got, fmt.Sprintf("%s|%s|%v|%d", tx.Text, tx.Key, tx.IsKey, tx.Group))
	}
	if !slices.Equal(got, want) || structural == 0 {
		t.Errorf("InspectData texts\n got %q\nwant %q (structural %d)", got, want, structural)
	}
	if data.Structural != structural || data.StructuralBytes != structuralBytes || data.Uninspectable != all.Uninspectable {
		t.Errorf("counted %d structural texts of %d bytes, %d uninspectable; want %d, %d, %d",
			data.Structural, data.StructuralBytes, data.Uninspectable, structural, structuralBytes, all.Uninspectable)
	}
	for _, tx := range data.Texts {
		if tx.Text == "Jane Roe" {
			tx.Set("[PERSON_1]")
		}
	}
	if out := string(jsondoc.Encode(doc)); !strings.Contains(out, `"text":"[PERSON_1]"`) || strings.Contains(out, "Jane") {
		t.Errorf("a data text set through InspectData: %s", out)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{`{"a":[1,2,{"b":null}]}`, `"\ud800"`, `[1e5,-0.0]`, `{"a":1,"A":2}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := jsondoc.Parse(data, jsondoc.Limits{})
		if err != nil {
			return
		}
		if !json.Valid(data) {
			t.Fatalf("accepted invalid JSON %q", data)
		}
		out := jsondoc.Encode(v)
		if !json.Valid(out) {
			t.Fatalf("encoded invalid JSON %q", out)
		}
		again, err := jsondoc.Parse(out, jsondoc.Limits{})
		if err != nil {
			t.Fatalf("re-parse: %v", err)
		}
		if !bytes.Equal(jsondoc.Encode(again), out) {
			t.Fatalf("encoding not stable")
		}
	})
}

// A set the deployment configures (WithEnum, Known): a value it accepts at
// its place is structural, any other value there is text, and the rules it
// was made from are unchanged. (A second "model" member cannot hide behind
// the first: Parse refuses duplicate keys.)
func TestConfiguredEnum(t *testing.T) {
	rules := chatRules.WithEnum(jsondoc.FieldSet{At: jsondoc.P("model"), Known: func(s string) bool { return s == "claude" }})
	if len(chatRules.Enums) != 1 || len(rules.Enums) != 2 {
		t.Fatalf("enum sets: %d in the original, %d in the copy", len(chatRules.Enums), len(rules.Enums))
	}
	cases := []struct {
		body, value string
		left        bool
	}{
		{`{"model":"claude","messages":[{"role":"user","content":"Claude Martin"}]}`, "claude", true},
		{`{"model":"Claude Martin"}`, "Claude Martin", false},
		{`{"model":"claude2"}`, "claude2", false},
		{`{"metadata":{"model":"claude"}}`, "claude", false}, // not at the top
		{`{"messages":[{"role":"user","content":"claude"}]}`, "claude", false},
		// A document a string holds restarts its paths at its root: its
		// "model" is the caller's data.
		{`{"model":"x","messages":[{"role":"assistant","tool_calls":[{"function":{"name":"f","arguments":"{\"model\":\"claude\"}"}}]}]}`, "claude", false},
	}
	for _, c := range cases {
		for _, r := range []*jsondoc.Rules{rules, &chatRules} {
			doc, err := jsondoc.Parse([]byte(c.body), jsondoc.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			w, err := jsondoc.InspectData(doc, r, jsondoc.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			left := !slices.ContainsFunc(w.Texts, func(tx *jsondoc.Text) bool { return tx.Text == c.value })
			if want := c.left && r == rules; left != want {
				t.Errorf("%s (configured set: %v): %q left out %v, want %v", c.body, r == rules, c.value, left, want)
			}
		}
	}
}

// TestSettings: a short number at a setting's place is marked a setting
// (and still walked: a value found elsewhere may appear there); a longer
// one, a string there, the same key elsewhere or inside a document a
// string holds is not.
func TestSettings(t *testing.T) {
	rules := &jsondoc.Rules{Settings: jsondoc.Ps("max_tokens", "temperature"),
		Embedded: []jsondoc.Pattern{jsondoc.P("messages[].tool_calls[].function.arguments")}}
	cases := []struct {
		body, value string
		setting     bool
	}{
		{`{"max_tokens":256}`, "256", true},
		{`{"temperature":0.75}`, "0.75", true},
		{`{"temperature":-2}`, "-2", true},
		{`{"max_tokens":1e3}`, "1e3", true},
		{`{"max_tokens":12345}`, "12345", false}, // room for data
		{`{"max_tokens":5551234567}`, "5551234567", false},
		{`{"temperature":0.125}`, "0.125", false},
		{`{"max_tokens":"256"}`, "256", false},            // a string is no setting
		{`{"metadata":{"max_tokens":45}}`, "45", false},   // not at its place
		{`{"messages":[{"max_tokens":45}]}`, "45", false}, // nor here
		{`{"seed":45}`, "45", false},                      // not a setting of these rules
		{`{"messages":[{"tool_calls":[{"function":{"arguments":"{\"max_tokens\":45}"}}]}]}`, "45", false},
	}
	for _, c := range cases {
		doc, err := jsondoc.Parse([]byte(c.body), jsondoc.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		for name, walk := range map[string]func(*jsondoc.Value, *jsondoc.Rules, jsondoc.Limits) (*jsondoc.Walk, error){
			"Inspect": jsondoc.Inspect, "InspectData": jsondoc.InspectData} {
			w, err := walk(doc, rules, jsondoc.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			i := slices.IndexFunc(w.Texts, func(tx *jsondoc.Text) bool { return tx.Text == c.value && !tx.IsKey && !tx.Context })
			if i < 0 {
				t.Fatalf("%s %s: %q not walked", name, c.body, c.value)
			}
			if tx := w.Texts[i]; tx.Setting != c.setting || tx.Structural {
				t.Errorf("%s %s: %q setting %v structural %v, want setting %v", name, c.body, c.value, tx.Setting, tx.Structural, c.setting)
			}
		}
	}
	if got := jsondoc.P("messages[].content").String(); got != "messages[].content" {
		t.Errorf("pattern renders as %q", got)
	}
}
