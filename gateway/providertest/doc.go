// Package providertest runs faithful local simulators of LLM provider APIs for
// tests and benchmarks: the OpenAI chat completions and embeddings wire
// format and its compatible variants (Mistral, DeepSeek, Qwen, OpenRouter),
// Azure OpenAI, Anthropic Messages and Gemini generateContent, each with its
// JSON answers, SSE framing, usage reporting and error bodies, plus the
// failures a gateway must survive (latency, 429 with Retry-After, 500/503,
// a connection dropped mid-stream).
//
// Simulators listen on 127.0.0.1 only. They must never be used outside tests.
package providertest
