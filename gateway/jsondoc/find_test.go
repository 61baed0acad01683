package jsondoc_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/custos-gateway/custos/gateway/jsondoc"
)

func TestFind(t *testing.T) {
	cases := []struct {
		name, data, key, want string
		found                 bool
		err                   error
	}{
		{"last", `{"id":"x","choices":[{"message":{"content":"\"usage\":{}"}}],"usage":{"prompt_tokens":3}}`, "usage", `{"prompt_tokens":3}`, true, nil},
		{"nested key is not the member", `{"choices":[{"usage":{"a":1}}],"model":"m"}`, "usage", "", false, nil},
		{"null", `{"usage":null}`, "usage", "null", true, nil},
		{"escaped key", `{"us\u0061ge":{"x":1}}`, "usage", `{"x":1}`, true, nil},
		{"spaces", " { \"a\" : [ 1 , { \"b\" : \"}\" } ] , \"usage\" :\t{ }\n} ", "usage", "{ }", true, nil},
		{"empty", `{}`, "usage", "", false, nil},
		{"duplicate", `{"usage":{},"usage":{"x":1}}`, "usage", "", false, jsondoc.ErrDuplicateKey},
		{"not an object", `[{"usage":{}}]`, "usage", "", false, jsondoc.ErrSyntax},
		{"truncated", `{"usage":{"prompt_tokens":3}`, "usage", "", false, jsondoc.ErrSyntax},
		{"trailing", `{"usage":1} x`, "usage", "", false, jsondoc.ErrSyntax},
		{"key with an escape JSON has not", `{"\q":1,"usage":2}`, "usage", "", false, jsondoc.ErrSyntax},
		{"invalid UTF-8 compared as bytes", "{\"\x80\":true}", "\x80", "true", true, nil},
		{"invalid UTF-8 is no U+FFFD", "{\"\x80\":true}", "\uFFFD", "", false, nil},
	}
	for _, c := range cases {
		start, end, found, err := jsondoc.Find([]byte(c.data), c.key)
		if !errors.Is(err, c.err) || found != c.found || (found && c.data[start:end] != c.want) {
			t.Errorf("%s: %q %v %v, want %q %v %v", c.name, c.data[start:end], found, err, c.want, c.found, c.err)
		}
	}
}

// FuzzFind: on valid JSON, Find finds exactly the top-level value
// encoding/json finds, byte for byte.
func FuzzFind(f *testing.F) {
	for _, s := range []string{`{"usage":{"prompt_tokens":1}}`, `{"a":[1,{"usage":2}],"usage":"x"}`, `{"usage":null,"b":true}`,
		`{"u\"s":1}`, `{}`, `[]`, `{"usage":1,"usage":2}`} {
		f.Add([]byte(s), "usage")
	}
	f.Fuzz(func(t *testing.T, data []byte, key string) {
		start, end, found, err := jsondoc.Find(data, key)
		if !json.Valid(data) || !utf8.Valid(data) || !utf8.ValidString(key) {
			return // encoding/json replaces invalid UTF-8 in keys; Find compares bytes
		}
		var m map[string]json.RawMessage
		if json.Unmarshal(data, &m) != nil || m == nil { // null decodes into a map without error
			if err == nil {
				t.Fatalf("Find accepted %q, which is not an object", data)
			}
			return
		}
		if errors.Is(err, jsondoc.ErrDuplicateKey) {
			return // encoding/json keeps the last; Find refuses to choose
		}
		if err != nil {
			t.Fatalf("Find refused the object %q: %v", data, err)
		}
		v, ok := m[key]
		if ok != found || (found && !bytes.Equal(bytes.TrimSpace(v), data[start:end])) {
			t.Fatalf("Find(%q, %q) = %q %v, encoding/json has %q %v", data, key, data[start:end], found, v, ok)
		}
	})
}

// TestFindAllocatesOnlyForEscapedKeys: the keys Find passes are compared in
// place; only a name written with escapes is decoded.
func TestFindAllocatesOnlyForEscapedKeys(t *testing.T) {
	chunk := []byte(`{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":5,"total_tokens":8}}`)
	if n := testing.AllocsPerRun(100, func() {
		if _, _, found, err := jsondoc.Find(chunk, "usage"); !found || err != nil {
			t.Fatal(found, err)
		}
	}); n != 0 {
		t.Errorf("Find on plain keys: %v allocations, want 0", n)
	}
	escaped := []byte(`{"us\u0061ge":1}`)
	if _, _, found, err := jsondoc.Find(escaped, "usage"); !found || err != nil {
		t.Errorf("escaped key: found %v, %v", found, err)
	}
}

func TestMembers(t *testing.T) {
	for _, c := range []struct {
		name, data string
		stopAt     int // members visited before fn returns false; -1 never
		want       []string
		err        error
	}{
		{"names as written, values as spans", ` {"a":1, "b\u0063" : [1,{"x":"}"}] ,"":null} `, -1, []string{`a=1`, `b\u0063=[1,{"x":"}"}]`, `=null`}, nil},
		{"empty", `{}`, -1, nil, nil},
		{"stops when told", `{"a":1,"b":2,"c":3}`, 2, []string{`a=1`, `b=2`}, nil},
		{"stopping skips the rest unread", `{"a":1,"b":2 x`, 1, []string{`a=1`}, nil},
		{"not an object", `[1]`, -1, nil, jsondoc.ErrSyntax},
		{"no colon", `{"a" 1}`, -1, nil, jsondoc.ErrSyntax},
		{"trailing bytes", `{"a":1}]`, -1, []string{`a=1`}, jsondoc.ErrSyntax},
		{"truncated", `{"a":1,`, -1, []string{`a=1`}, jsondoc.ErrSyntax},
	} {
		var got []string
		err := jsondoc.Members([]byte(c.data), func(name []byte, start, end int) bool {
			got = append(got, string(name)+"="+c.data[start:end])
			return len(got) != c.stopAt
		})
		if !errors.Is(err, c.err) || strings.Join(got, "|") != strings.Join(c.want, "|") {
			t.Errorf("%s: %q, %v; want %q, %v", c.name, got, err, c.want, c.err)
		}
	}
}
