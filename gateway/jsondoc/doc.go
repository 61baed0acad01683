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
// Errors name a path (`messages[3].content[0]`) and an offset, never a
// value: the package must never put request text into an error.
package jsondoc
