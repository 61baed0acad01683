// Package openai owns the OpenAI wire format as Custos reads and writes it:
// parsing chat completion requests just deeply enough to inspect them while
// keeping every other field byte-for-byte, reading usage from answers and
// stream chunks, and encoding OpenAI-shaped error bodies.
//
// It must never log or put request or answer text into an error: parse errors
// name the field and byte offset, never the content.
package openai
