package pricing

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// node is one JSON value, decoded in document order so that duplicate keys
// are seen (encoding/json keeps the last one silently). The validator names
// every problem by the path it walked to reach the node.
type node struct {
	kind kind
	str  string   // kindString: the text; kindNumber: the literal as written
	keys []string // kindObject, in document order
	vals []*node  // kindObject: parallel to keys; kindArray: the items
	bval bool     // kindBool
	dup  []string // kindObject: keys seen more than once
	idx  map[string]int
}

type kind uint8

const (
	kindNull kind = iota
	kindBool
	kindNumber
	kindString
	kindArray
	kindObject
)

func (k kind) String() string {
	return [...]string{"null", "a boolean", "a number", "a string", "an array", "an object"}[k]
}

// maxDepth bounds nesting; a price table is four levels deep.
const maxDepth = 16

var errSyntax = errors.New("not valid JSON")

// parseTree decodes exactly one JSON value.
func parseTree(data []byte) (*node, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	root, err := readValue(dec, 0)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: data after the top-level value", errSyntax)
	}
	return root, nil
}

func readValue(dec *json.Decoder, depth int) (*node, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("%w: nested deeper than %d", errSyntax, maxDepth)
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, syntaxError(dec, err)
	}
	n := &node{}
	switch v := tok.(type) {
	case nil:
		n.kind = kindNull
	case bool:
		n.kind, n.bval = kindBool, v
	case json.Number:
		n.kind, n.str = kindNumber, v.String()
	case string:
		n.kind, n.str = kindString, v
	case json.Delim:
		if v == '[' {
			return n, readArray(dec, n, depth)
		}
		return n, readObject(dec, n, depth)
	}
	return n, nil
}

func readArray(dec *json.Decoder, n *node, depth int) error {
	n.kind = kindArray
	for dec.More() {
		item, err := readValue(dec, depth+1)
		if err != nil {
			return err
		}
		n.vals = append(n.vals, item)
	}
	if _, err := dec.Token(); err != nil { // ']'
		return syntaxError(dec, err)
	}
	return nil
}

func readObject(dec *json.Decoder, n *node, depth int) error {
	n.kind = kindObject
	n.idx = map[string]int{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return syntaxError(dec, err)
		}
		key := tok.(string) // the decoder only yields string keys inside an object
		val, err := readValue(dec, depth+1)
		if err != nil {
			return err
		}
		if _, seen := n.idx[key]; seen {
			n.dup = append(n.dup, key)
			continue
		}
		n.idx[key] = len(n.keys)
		n.keys = append(n.keys, key)
		n.vals = append(n.vals, val)
	}
	if _, err := dec.Token(); err != nil { // '}'
		return syntaxError(dec, err)
	}
	return nil
}

func syntaxError(dec *json.Decoder, err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: the document ends early", errSyntax)
	}
	return fmt.Errorf("%w: at byte %d: %w", errSyntax, dec.InputOffset(), err)
}

// get returns an object member, or nil.
func (n *node) get(key string) *node {
	if i, ok := n.idx[key]; ok {
		return n.vals[i]
	}
	return nil
}
