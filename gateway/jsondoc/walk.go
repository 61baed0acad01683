package jsondoc

import (
	"errors"
	"slices"
	"strings"
)

// Text is one piece of text a tree would send: a string value, a number
// (as its literal), or an object key. Set writes a replacement back into the
// tree.
type Text struct {
	Text string
	// Key is the (lower-cased) key of the nearest object member above the
	// value, "" at the top; for an object key, the key itself.
	Key string

	node   *Value    // a string or number value
	member *Member   // an object key
	in     *embedded // the embedded document this text is in, if any

	// Group > 0 marks consecutive texts that are adjacent parts of one text
	// (a message's text content parts): they are scanned joined as well.
	Group int32
	IsKey bool
	// Structural marks a known field name or a known enum value at its
	// place (role "user", type "text"): part of the API, not of the data.
	Structural bool
	// Setting marks a short number at an API setting's place (see
	// Rules.Settings): it holds no data of its own, but it is still a
	// place where a value found elsewhere in the request may appear.
	Setting bool
	// Context marks the raw text of a string holding an embedded JSON
	// document: scanned as a whole for evidence (a label in one member, its
	// value in the next), never set (its members are set instead).
	Context bool
}

// embedded is a string value holding a JSON document.
type embedded struct {
	node  *Value // the string
	root  *Value // the document it holds
	in    *embedded
	dirty bool
}

// Set replaces the text in the tree. A number replaced by other text
// becomes a string.
func (t *Text) Set(s string) {
	if t.Context {
		return
	}
	if t.member != nil {
		t.member.Key = s
	} else {
		if t.node.Kind == Number && s != t.node.Str {
			t.node.Kind = String
		}
		t.node.Str = s
	}
	for e := t.in; e != nil; e = e.in {
		e.dirty = true
	}
}

// Rules tell the walker what a dialect's fields are. Every field not named
// here is plain text: unknown fields are inspected, never skipped.
type Rules struct {
	// Embedded: string values that hold a JSON document (tool call
	// arguments), walked as a tree of their own and re-encoded after
	// redaction; a value that is not JSON is plain text.
	Embedded []Pattern
	// Opaque: values that cannot be read as text (base64 media): counted
	// as uninspectable, not scanned.
	Opaque []Pattern
	// Media: objects that stand for content Custos cannot read (an image,
	// audio, a file) when their "type" member is one of MediaTypes; each is
	// counted as uninspectable, and its other strings are still scanned.
	Media      []Pattern
	MediaTypes []string
	// Joined: arrays whose consecutive members with a "text" string form
	// one text (content parts).
	Joined []Pattern
	// Fields: the known members of objects at a pattern. A key there that
	// differs from a known one only in letter case is refused: a provider's
	// case-insensitive decoder would read it as the known field.
	Fields []FieldSet
	// Enums: the known values of the strings at a pattern (a message's
	// role); a known value is structural, any other is text.
	Enums []FieldSet
	// Settings: numbers at these patterns are the API's settings (a token
	// limit, a temperature). A literal there of at most SettingMaxLen bytes
	// (256, 0.7, -2) is marked Text.Setting; a longer one has room for data
	// (a phone number, a date) and is text like any other number. Never
	// matched inside an embedded document, as Known is not.
	Settings []Pattern
}

// SettingMaxLen is the longest number literal Text.Setting marks.
const SettingMaxLen = 4

// FieldSet names the known members of the objects at Pattern or, in
// Rules.Enums, the known values of the strings there.
type FieldSet struct {
	At    Pattern
	Names []string
	// Known, in Enums only, accepts values besides Names: a set the
	// deployment configures rather than the API (the catalog's models). It
	// is never asked inside an embedded document.
	Known func(string) bool
}

// WithEnum returns a copy of r with one more enum set.
func (r *Rules) WithEnum(fs FieldSet) *Rules {
	c := *r
	c.Enums = append(slices.Clip(r.Enums), fs)
	return &c
}

// ErrCaseVariantField: a key differs from a known field only in case.
var ErrCaseVariantField = errors.New("jsondoc: key differs from a known field only in letter case")

// FieldError is a refused key; Path is for the caller's own answer only.
type FieldError struct {
	Path Path
}

func (e *FieldError) Error() string { return ErrCaseVariantField.Error() }

func (e *FieldError) Unwrap() error { return ErrCaseVariantField }

// Walk is the result of walking a tree.
type Walk struct {
	Texts []*Text
	// Uninspectable counts values and parts that could not be inspected.
	Uninspectable int
	// Structural and StructuralBytes count the structural texts (known
	// field names and enum values) InspectData leaves out of Texts, and
	// their bytes: part of what the request sends, never data to scan.
	Structural, StructuralBytes int
	embedded                    []*embedded // innermost first
	groups                      int32
}

// Inspect visits every string, number and key of root under rules. It
// fails only on a key refused by rules.Fields.
func Inspect(root *Value, rules *Rules, lim Limits) (*Walk, error) {
	return inspect(root, rules, lim, false)
}

// InspectData is Inspect without the structural texts, which it only
// counts: a body of many small messages then costs one record per piece
// of data, not one per key and enum value as well.
func InspectData(root *Value, rules *Rules, lim Limits) (*Walk, error) {
	return inspect(root, rules, lim, true)
}

func inspect(root *Value, rules *Rules, lim Limits, dataOnly bool) (*Walk, error) {
	w := &Walk{}
	wk := walker{rules: rules, w: w, lim: lim, dataOnly: dataOnly}
	wk.value(root, "", nil)
	if wk.err != nil {
		return nil, wk.err
	}
	return w, nil
}

// Finish re-encodes every embedded document one of whose texts was Set,
// into the string that holds it. Call it after the last Set.
func (w *Walk) Finish() {
	for _, e := range w.embedded {
		if e.dirty {
			e.node.Str = string(Encode(e.root))
		}
	}
}

type walker struct {
	rules *Rules
	w     *Walk
	lim   Limits
	path  Path
	in    *embedded
	err   error
	// dataOnly counts structural texts instead of recording them.
	dataOnly bool
}

// skipStructural counts a structural text InspectData leaves out.
func (wk *walker) skipStructural(structural bool, s string) bool {
	if !structural || !wk.dataOnly {
		return false
	}
	wk.w.Structural++
	wk.w.StructuralBytes += len(s)
	return true
}

func (wk *walker) add(t *Text) {
	t.in = wk.in
	wk.w.Texts = append(wk.w.Texts, t)
}

func (wk *walker) value(v *Value, key string, group *int32) {
	switch v.Kind {
	case String:
		if match(wk.rules.Opaque, wk.path) || isDataURI(v.Str) {
			wk.w.Uninspectable++
			return
		}
		if match(wk.rules.Embedded, wk.path) && wk.embedded(v, key) {
			return
		}
		structural := wk.known(wk.rules.Enums, v.Str)
		if wk.skipStructural(structural, v.Str) {
			return
		}
		t := &Text{Text: v.Str, Key: key, node: v, Structural: structural}
		if group != nil {
			t.Group = *group
		}
		wk.add(t)
	case Number:
		wk.add(&Text{Text: v.Str, Key: key, node: v, Setting: wk.setting(v.Str)})
	case Array:
		wk.array(v, key)
	case Object:
		wk.object(v)
	}
}

func (wk *walker) array(v *Value, key string) {
	joined := match(wk.rules.Joined, wk.path)
	group := int32(0)
	for i := range v.Kids {
		wk.path = append(wk.path, PathElem{Index: i, IsIndex: true})
		item := v.Kids[i].Value
		if joined && item.Kind == Object && item.Get("text") != nil {
			if group == 0 {
				wk.w.groups++
				group = wk.w.groups
			}
			wk.joinedPart(item, group)
		} else {
			group = 0
			wk.value(item, key, nil)
		}
		wk.path = wk.path[:len(wk.path)-1]
	}
}

// joinedPart walks a text part whose "text" joins its neighbours'.
func (wk *walker) joinedPart(part *Value, group int32) {
	for i := range part.Kids {
		m := &part.Kids[i]
		wk.keyText(m)
		wk.path = append(wk.path, PathElem{Key: m.Key})
		g := (*int32)(nil)
		if m.Key == "text" {
			g = &group
		}
		wk.value(m.Value, strings.ToLower(m.Key), g)
		wk.path = wk.path[:len(wk.path)-1]
	}
}

func (wk *walker) object(v *Value) {
	wk.checkFields(v)
	if match(wk.rules.Media, wk.path) {
		if t, ok := v.Get("type").Text(); ok && contains(wk.rules.MediaTypes, t) {
			wk.w.Uninspectable++
		}
	}
	for i := range v.Kids {
		m := &v.Kids[i]
		wk.keyText(m)
		wk.path = append(wk.path, PathElem{Key: m.Key})
		wk.value(m.Value, strings.ToLower(m.Key), nil)
		wk.path = wk.path[:len(wk.path)-1]
	}
}

func (wk *walker) keyText(m *Member) {
	structural := wk.known(wk.rules.Fields, m.Key)
	if wk.skipStructural(structural, m.Key) {
		return
	}
	wk.add(&Text{Text: m.Key, Key: strings.ToLower(m.Key), IsKey: true, member: m, Structural: structural})
}

// known reports s as one of the names a set at the current path lists.
func (wk *walker) known(sets []FieldSet, s string) bool {
	for _, fs := range sets {
		if fs.At.matches(wk.path) && (contains(fs.Names, s) || wk.configured(fs, s)) {
			return true
		}
	}
	return false
}

// configured reports s as accepted by fs.Known, outside embedded documents
// only: their paths start again at their own root, and a document a string
// holds is the caller's data, whatever its members are called.
func (wk *walker) configured(fs FieldSet, s string) bool {
	return fs.Known != nil && wk.in == nil && fs.Known(s)
}

// setting reports a short number at a setting's place, outside embedded
// documents (see Rules.Settings).
func (wk *walker) setting(lit string) bool {
	return len(lit) <= SettingMaxLen && wk.in == nil && match(wk.rules.Settings, wk.path)
}

// embedded walks a string holding a JSON document; false if it holds none.
func (wk *walker) embedded(v *Value, key string) bool {
	doc, err := Parse([]byte(v.Str), wk.lim)
	if err != nil || (doc.Kind != Object && doc.Kind != Array) {
		return false
	}
	wk.add(&Text{Text: v.Str, Key: key, Context: true})
	e := &embedded{node: v, root: doc, in: wk.in}
	saved := wk.path
	wk.in, wk.path = e, nil
	wk.value(doc, key, nil)
	wk.in, wk.path = e.in, saved
	wk.w.embedded = append(wk.w.embedded, e)
	return true
}

// checkFields refuses a key that is a known field in another letter case.
func (wk *walker) checkFields(v *Value) {
	for _, fs := range wk.rules.Fields {
		if wk.err != nil || !fs.At.matches(wk.path) {
			continue
		}
		if key, ok := CaseVariant(v, fs.Names); ok {
			wk.err = &FieldError{Path: append(append(Path(nil), wk.path...), PathElem{Key: key})}
		}
	}
}

// CaseVariant returns the last key of the object obj that names one of
// known in another letter case (the one a case-insensitive decoder that
// keeps the last of equal keys would read as that field), if any.
func CaseVariant(obj *Value, known []string) (string, bool) {
	if obj == nil || obj.Kind != Object {
		return "", false
	}
	key, found := "", false
	for _, m := range obj.Kids {
		if contains(known, m.Key) {
			continue
		}
		for _, n := range known {
			if strings.EqualFold(n, m.Key) {
				key, found = m.Key, true
			}
		}
	}
	return key, found
}

// isDataURI reports a base64 data: URI (an inline image, audio or file),
// which cannot be read as text.
func isDataURI(s string) bool {
	if !strings.HasPrefix(s, "data:") {
		return false
	}
	head := s[:min(len(s), 256)]
	return strings.Contains(head, ";base64,")
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
