package jsondoc_test

import (
	"bytes"
	"encoding/json"
	"errors"
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
