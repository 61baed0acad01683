package upstream

// ollama speaks a local Ollama server's OpenAI-compatible API (its base URL
// ends in /v1): chat completions and embeddings, and no provider key.
type ollama struct{ openAICompatible }

func (ollama) keyless() {}
