// Package tokens counts tokens offline, for reservations before a request
// is forwarded and for settling a relayed completion whose provider sent no
// usage. It owns choosing an encoding per model family, counting a
// prompt's text fields with the chat format's overheads (OpenAI cookbook),
// counting a streamed completion delta by delta, and a cheap path for very
// large inputs.
//
// Every count is an estimate and says so (Count.Estimated): a provider's
// reported usage is authoritative. OpenAI models are counted with their own
// encoding (Basis Native: o200k_base for gpt-4o, gpt-4.1, gpt-4.5, gpt-5
// and the o-series; cl100k_base for gpt-4, gpt-3.5-turbo and the
// embeddings). Every other model is counted with o200k_base (Basis Proxy):
// Anthropic, Google, Mistral, DeepSeek, Qwen and Llama tokenize
// differently, so their counts are estimates from that stated encoding.
// Counts past Options.ExactBytes in one call are extrapolated from exact
// samples (Count.Sampled).
//
// The vocabularies are those embedded in github.com/tiktoken-go/tokenizer;
// the pre-tokenizer and byte-pair merge are this package's own, allocation
// free, and tested to give that module's counts, except that whitespace
// runs holding several line breaks split as a backtracking regex engine
// (tiktoken's) splits them, where that module's generated matcher differs.
//
// Text is read in memory and never kept, logged or put in an error; a
// Stream holds only the last few kilobytes of a completion until counted.
// The package speaks no HTTP.
package tokens
