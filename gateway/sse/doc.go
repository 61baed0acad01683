// Package sse reads and writes Server-Sent Events as LLM providers use them:
// one event per blank-line-terminated block of "field: value" lines.
//
// It owns framing only. It must never interpret or log event data.
package sse
