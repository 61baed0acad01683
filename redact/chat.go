package redact

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"unicode/utf8"
)

// ChatPlan is the inspection of an OpenAI chat "messages" array: every
// user-controlled text field with its findings, and how many fields could
// not be inspected (images, audio, files, unknown fields). Apply rewrites the
// fields once policy has chosen the actions.
type ChatPlan struct {
	root          any
	fields        []*textField
	Uninspectable int
	forceRewrite  bool // the input held invalid UTF-8: forward what was scanned
}

// textField is one string in the decoded tree and how to set it.
type textField struct {
	text     string
	findings []Finding
	set      func(string)
	// args: a JSON document inside the string (tool call arguments),
	// rewritten through its own fields.
	args *ChatPlan
}

// Counts tallies the findings of every field by type.
func (p *ChatPlan) Counts() map[Type]int {
	m := map[Type]int{}
	for _, f := range p.fields {
		for _, x := range f.findings {
			m[x.Type]++
		}
		if f.args != nil {
			for t, n := range f.args.Counts() {
				m[t] += n
			}
		}
	}
	return m
}

// InspectChat scans every user-controlled text field of a messages array:
// string content, text content parts, names, refusals, tool and function
// call arguments (JSON inside JSON strings) and tool results.
func (sc *Scanner) InspectChat(messages []byte) (*ChatPlan, error) {
	p := &ChatPlan{forceRewrite: !utf8.Valid(messages)}
	dec := json.NewDecoder(bytes.NewReader(messages))
	dec.UseNumber()
	if err := dec.Decode(&p.root); err != nil {
		return nil, fmt.Errorf("redact: messages are not JSON: %w", err)
	}
	msgs, ok := p.root.([]any)
	if !ok {
		return nil, fmt.Errorf("redact: messages is not an array")
	}
	for _, m := range msgs {
		obj, ok := m.(map[string]any)
		if !ok {
			p.Uninspectable++
			continue
		}
		for _, k := range slices.Sorted(maps.Keys(obj)) {
			v := obj[k]
			switch k {
			case "role", "tool_call_id":
			case "content":
				sc.inspectContent(p, obj, k, v)
			case "name", "refusal":
				sc.addString(p, obj, k, v)
			case "tool_calls":
				calls, _ := v.([]any)
				for _, c := range calls {
					if co, ok := c.(map[string]any); ok {
						if fn, ok := co["function"].(map[string]any); ok {
							sc.addArgs(p, fn)
						}
					}
				}
			case "function_call":
				if fn, ok := v.(map[string]any); ok {
					sc.addArgs(p, fn)
				}
			default:
				if v != nil {
					p.Uninspectable++ // a field Custos does not know may carry anything
				}
			}
		}
	}
	return p, nil
}

func (sc *Scanner) inspectContent(p *ChatPlan, obj map[string]any, key string, v any) {
	switch c := v.(type) {
	case nil:
	case string:
		sc.addString(p, obj, key, c)
	case []any:
		for _, part := range c {
			po, ok := part.(map[string]any)
			if !ok {
				p.Uninspectable++
				continue
			}
			switch po["type"] {
			case "text":
				sc.addString(p, po, "text", po["text"])
			case "refusal":
				sc.addString(p, po, "refusal", po["refusal"])
			default:
				p.Uninspectable++ // image_url, input_audio, file: not text Custos can read
			}
		}
	default:
		p.Uninspectable++
	}
}

func (sc *Scanner) addString(p *ChatPlan, obj map[string]any, key string, v any) {
	s, ok := v.(string)
	if !ok {
		if v != nil {
			p.Uninspectable++
		}
		return
	}
	p.fields = append(p.fields, &textField{text: s, findings: sc.Scan(s), set: func(x string) { obj[key] = x }})
}

// addArgs inspects function call arguments: the strings of the JSON document
// they hold, or the plain text when they are not JSON.
func (sc *Scanner) addArgs(p *ChatPlan, fn map[string]any) {
	s, ok := fn["arguments"].(string)
	if !ok {
		return
	}
	inner, err := sc.inspectJSON(s)
	if err != nil {
		p.fields = append(p.fields, &textField{text: s, findings: sc.Scan(s), set: func(x string) { fn["arguments"] = x }})
		return
	}
	p.fields = append(p.fields, &textField{text: s, args: inner, set: func(x string) { fn["arguments"] = x }})
}

// inspectJSON collects every string value of a JSON document.
func (sc *Scanner) inspectJSON(s string) (*ChatPlan, error) {
	p := &ChatPlan{}
	dec := json.NewDecoder(bytes.NewReader([]byte(s)))
	dec.UseNumber()
	if err := dec.Decode(&p.root); err != nil {
		return nil, err
	}
	var walk func(v any, set func(any))
	walk = func(v any, set func(any)) {
		switch x := v.(type) {
		case string:
			p.fields = append(p.fields, &textField{text: x, findings: sc.Scan(x), set: func(y string) { set(y) }})
		case []any:
			for i := range x {
				walk(x[i], func(y any) { x[i] = y })
			}
		case map[string]any:
			for _, k := range slices.Sorted(maps.Keys(x)) {
				walk(x[k], func(y any) { x[k] = y })
			}
		}
	}
	walk(p.root, func(y any) { p.root = y })
	return p, nil
}

// Changed reports whether Apply would rewrite anything.
func (p *ChatPlan) Changed(actions map[Type]Action) bool {
	if p.forceRewrite {
		return true
	}
	for _, f := range p.fields {
		if f.args != nil && f.args.Changed(actions) {
			return true
		}
		for _, x := range f.findings {
			if actions[x.Type] != Allow {
				return true
			}
		}
	}
	return false
}

// Apply rewrites every field per the actions and returns the new messages
// JSON. It returns *BlockedError if any finding's action is block.
func (p *ChatPlan) Apply(sess *Session, actions map[Type]Action) ([]byte, error) {
	if err := p.apply(sess, actions); err != nil {
		return nil, err
	}
	return marshalNoEscape(p.root)
}

func (p *ChatPlan) apply(sess *Session, actions map[Type]Action) error {
	for _, f := range p.fields {
		if f.args != nil {
			if err := f.args.apply(sess, actions); err != nil {
				return err
			}
			b, err := marshalNoEscape(f.args.root)
			if err != nil {
				return err
			}
			f.set(string(b))
			continue
		}
		if len(f.findings) == 0 {
			continue
		}
		out, err := sess.Apply(f.text, f.findings, actions)
		if err != nil {
			return err
		}
		f.set(out)
	}
	return nil
}

// marshalNoEscape encodes without HTML escaping, so that text the model sees
// keeps its characters (<, >, &).
func marshalNoEscape(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}
