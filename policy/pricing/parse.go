package pricing

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Bounds on values, so that a typo cannot make a price absurd and every
// cost fits in 128-bit intermediate arithmetic.
const (
	MaxRate      = 1_000_000_000_000 // micro-units per 1M tokens ($1,000,000)
	MaxFee       = 1_000_000_000_000 // micro-units per request ($1,000,000)
	MaxCapTokens = 1_000_000_000     // max_output_tokens
)

var (
	topFields   = fieldSet{required: []string{"version", "currency", "price_unit", "models"}, optional: []string{"note"}}
	modelFields = fieldSet{required: []string{"max_output_tokens", "effective"},
		optional: []string{"endpoints", "aliases", "labels", "note"}}
	endpointFields = fieldSet{required: []string{"effective"}, optional: []string{"note"}}
	rowFields      = fieldSet{required: []string{"from", "input", "output"},
		optional: []string{"until", "currency", "cached_input", "cache_write", "reasoning", "request_fee",
			"long_context", "source", "taken", "note"}}
	tierFields = fieldSet{required: []string{"above_input_tokens"},
		optional: []string{"input", "cached_input", "cache_write", "output", "reasoning"}}
)

type fieldSet struct{ required, optional []string }

// Parse validates a price table and returns it. file names the table in
// problems (e.g. "pricing/data.json"). Any problem refuses the whole table:
// the error is an *InvalidError listing each one with its field path.
func Parse(data []byte, file string) (*Table, error) {
	root, err := parseTree(data)
	if err != nil {
		return nil, &InvalidError{Problems: []Problem{{File: file, Msg: err.Error()}}}
	}
	c := &checker{file: file}
	t := c.table(root)
	if len(c.probs) > 0 {
		return nil, &InvalidError{Problems: c.probs}
	}
	return t, nil
}

type checker struct {
	file  string
	probs []Problem
}

func (c *checker) add(path, format string, args ...any) {
	c.probs = append(c.probs, Problem{File: c.file, Path: path, Msg: fmt.Sprintf(format, args...)})
}

func field(parent, name string) string {
	if parent == "" {
		return name
	}
	return parent + "." + name
}

func key(parent, name string) string { return parent + "[" + strconv.Quote(name) + "]" }

func index(parent string, i int) string { return parent + "[" + strconv.Itoa(i) + "]" }

func (c *checker) table(root *node) *Table {
	if !c.object(root, "", topFields) {
		return nil
	}
	t := &Table{models: map[string]*model{}}
	t.version, _ = c.name(root.get("version"), "version")
	t.currency, _ = c.currency(root.get("currency"), "currency")
	if u, ok := c.str(root.get("price_unit"), "price_unit"); ok && u != Unit {
		c.add("price_unit", "must be %q (integer micro-units per 1,000,000 tokens)", Unit)
	}
	c.optStr(root.get("note"), "note")
	models := root.get("models")
	if !c.object(models, "models", fieldSet{}) {
		return t
	}
	for i, name := range models.keys {
		p := key("models", name)
		if strings.TrimSpace(name) == "" {
			c.add(p, "a model name must not be empty")
			continue
		}
		if m := c.model(models.vals[i], p, name, t); m != nil {
			t.models[name] = m
			t.names = append(t.names, name)
		}
	}
	c.aliases(models, t)
	slices.Sort(t.names)
	return t
}

func (c *checker) model(n *node, path, name string, t *Table) *model {
	if !c.object(n, path, modelFields) {
		return nil
	}
	capTokens, _ := c.integer(n.get("max_output_tokens"), field(path, "max_output_tokens"), 0, MaxCapTokens, "tokens")
	m := &model{name: name}
	m.rows = c.rows(n.get("effective"), field(path, "effective"), t, name, "", capTokens)
	c.optStr(n.get("note"), field(path, "note"))
	if l := n.get("labels"); l != nil && c.object(l, field(path, "labels"), fieldSet{}) {
		for i, k := range l.keys {
			c.str(l.vals[i], key(field(path, "labels"), k))
		}
	}
	eps := n.get("endpoints")
	if eps == nil || !c.object(eps, field(path, "endpoints"), fieldSet{}) {
		return m
	}
	m.endpoints = map[string][]Price{}
	for i, ep := range eps.keys {
		p := key(field(path, "endpoints"), ep)
		if strings.TrimSpace(ep) == "" {
			c.add(p, "an endpoint name must not be empty")
			continue
		}
		if c.object(eps.vals[i], p, endpointFields) {
			c.optStr(eps.vals[i].get("note"), field(p, "note"))
			m.endpoints[ep] = c.rows(eps.vals[i].get("effective"), field(p, "effective"), t, name, ep, capTokens)
		}
	}
	return m
}

// aliases maps each model's aliases to it; an alias may not shadow a model
// or another alias.
func (c *checker) aliases(models *node, t *Table) {
	for i, name := range models.keys {
		n := models.vals[i]
		a := n.get("aliases")
		if n.kind != kindObject || a == nil {
			continue
		}
		p := field(key("models", name), "aliases")
		if a.kind != kindArray {
			c.add(p, "must be an array of model names, not %s", a.kind)
			continue
		}
		for j, v := range a.vals {
			alias, ok := c.name(v, index(p, j))
			switch {
			case !ok:
			case t.models[alias] != nil && t.models[alias].name == alias:
				c.add(index(p, j), "%q is already a model in the table", alias)
			case t.models[alias] != nil:
				c.add(index(p, j), "%q is already an alias of %q", alias, t.models[alias].name)
			case t.models[name] != nil:
				t.models[alias] = t.models[name]
			}
		}
	}
}
