package jsondoc

import "strings"

// Kind is a JSON value's type.
type Kind uint8

// Value kinds.
const (
	Null Kind = iota
	Bool
	Number
	String
	Array
	Object
)

func (k Kind) String() string {
	return [...]string{"null", "boolean", "number", "string", "array", "object"}[k]
}

// Value is one node of the tree. Str holds a string's decoded text, a
// number's literal, or a boolean's "true"/"false". Kids holds an array's
// items (Key empty) or an object's members in their order.
type Value struct {
	Kind Kind
	Str  string
	Kids []Member
}

// Member is an object member or an array item.
type Member struct {
	Key   string
	Value *Value
}

// Get returns the member value of an object under key, or nil.
func (v *Value) Get(key string) *Value {
	if v == nil || v.Kind != Object {
		return nil
	}
	for i := range v.Kids {
		if v.Kids[i].Key == key {
			return v.Kids[i].Value
		}
	}
	return nil
}

// Set replaces or appends the member key of an object.
func (v *Value) Set(key string, val *Value) {
	for i := range v.Kids {
		if v.Kids[i].Key == key {
			v.Kids[i].Value = val
			return
		}
	}
	v.Kids = append(v.Kids, Member{Key: key, Value: val})
}

// Delete removes the member key of an object, if present.
func (v *Value) Delete(key string) {
	for i := range v.Kids {
		if v.Kids[i].Key == key {
			v.Kids = append(v.Kids[:i], v.Kids[i+1:]...)
			return
		}
	}
}

// Text returns a string value's text and whether v is a string.
func (v *Value) Text() (string, bool) {
	if v == nil || v.Kind != String {
		return "", false
	}
	return v.Str, true
}

// IsNull reports a missing or null value.
func (v *Value) IsNull() bool { return v == nil || v.Kind == Null }

// NewString returns a string value.
func NewString(s string) *Value { return &Value{Kind: String, Str: s} }

// NewBool returns a boolean value.
func NewBool(b bool) *Value {
	if b {
		return &Value{Kind: Bool, Str: "true"}
	}
	return &Value{Kind: Bool, Str: "false"}
}

// NewObject returns an object with the given members, in order.
func NewObject(members ...Member) *Value { return &Value{Kind: Object, Kids: members} }

// Path is a location in a tree, as errors and walkers name it.
type Path []PathElem

// PathElem is one step: an object key, or an array index when Key is empty
// and IsIndex is set.
type PathElem struct {
	Key     string
	Index   int
	IsIndex bool
}

// String renders a path as messages[3].content[0].text. Keys are request
// text; callers that show a path to anyone but the caller must use
// Redacted.
func (p Path) String() string {
	var b strings.Builder
	for i, e := range p {
		switch {
		case e.IsIndex:
			b.WriteByte('[')
			b.WriteString(itoa(e.Index))
			b.WriteByte(']')
		default:
			if i > 0 {
				b.WriteByte('.')
			}
			b.WriteString(e.Key)
		}
	}
	return b.String()
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var buf [20]byte
	i := len(buf)
	for n > 0 {
		i--
		buf[i] = byte('0' + n%10)
		n /= 10
	}
	return string(buf[i:])
}
