// Package jsondoc is Custos's one JSON parse of a request: a strict parser
// into a small ordered tree, and the encoder that turns the tree (after
// redaction) into the bytes that are forwarded. What leaves Custos is always
// encoded from the same tree that was inspected; raw request bytes are never
// forwarded.
//
// The parser refuses what a provider might read differently from Custos:
// duplicate keys at any depth, and keys that differ only in letter case
// within one object (a case-insensitive decoder would pick either). It bounds
// nesting depth and the number of values, so that memory stays a small
// multiple of the body. Invalid UTF-8 in strings becomes U+FFFD, so what is
// forwarded is exactly what was inspected.
//
// The tree's strings are views of the body, never copies. Inspect visits
// every string, number and key; InspectData, what the gateway uses, records
// only the texts that are data and counts the structural ones (known field
// names and enum values), so a body of many small messages costs about one
// record per piece of data and its inspected form stays within about twice
// the body's size.
//
// Errors name a path (`messages[3].content[0]`) and an offset, never a
// value: the package must never put request text into an error.
package jsondoc
