package anthropic

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
)

func TestToolChoiceBothWays(t *testing.T) {
	fromOpenAI := []struct{ in, want string }{
		{``, ``},
		{`"auto"`, `{"type":"auto"}`},
		{`"required"`, `{"type":"any"}`},
		{`"none"`, `{"type":"none"}`},
		{`"sometimes"`, ``},
		{`{"type":"function","function":{"name":"ward"}}`, `{"name":"ward","type":"tool"}`},
		{`{"type":"function","function":{"name":""}}`, ``},
		{`7`, ``},
	}
	for _, c := range fromOpenAI {
		if got := string(fromOpenAIToolChoice(json.RawMessage(c.in))); got != c.want {
			t.Errorf("fromOpenAIToolChoice(%s) = %s, want %s", c.in, got, c.want)
		}
	}
	toOpenAI := []struct {
		in   string
		want any // nil: left out
	}{
		{``, nil},
		{`{"type":"auto"}`, "auto"},
		{`{"type":"any"}`, "required"},
		{`{"type":"none"}`, "none"},
		{`{"type":"tool","name":"ward"}`, map[string]any{"type": "function", "function": map[string]any{"name": "ward"}}},
		{`{"type":"weird"}`, nil},
		{`"auto"`, nil},
	}
	for _, c := range toOpenAI {
		got, ok := toOpenAIToolChoice(json.RawMessage(c.in))
		if ok != (c.want != nil) || !reflect.DeepEqual(got, c.want) {
			t.Errorf("toOpenAIToolChoice(%s) = %v, %v; want %v", c.in, got, ok, c.want)
		}
	}
}

func TestStopSequences(t *testing.T) {
	cases := []struct {
		in      string
		want    []string
		refused bool
	}{
		{``, nil, false},
		{`null`, nil, false},
		{`"END"`, []string{"END"}, false},
		{`["a","b"]`, []string{"a", "b"}, false},
		{`5`, nil, true},
		{`[1]`, nil, true},
	}
	for _, c := range cases {
		got, err := stopSequences(json.RawMessage(c.in))
		if c.refused != errors.Is(err, ErrUnsupported) || !reflect.DeepEqual(got, c.want) {
			t.Errorf("stopSequences(%s) = %q, %v", c.in, got, err)
		}
	}
}
