package pricing

// OpenAIUsage splits an OpenAI-shaped usage object (also Azure OpenAI,
// Mistral, DeepSeek, Qwen and OpenRouter): prompt_tokens includes
// prompt_tokens_details.cached_tokens (DeepSeek: prompt_cache_hit_tokens),
// and completion_tokens includes completion_tokens_details.reasoning_tokens.
// Inconsistent counts (a part larger than its whole) are never priced
// below what was reported: the part is kept and the remainder is zero.
func OpenAIUsage(promptTokens, cachedTokens, completionTokens, reasoningTokens int64) Usage {
	return Usage{
		Input:       max(promptTokens-cachedTokens, 0),
		CachedInput: cachedTokens,
		Output:      max(completionTokens-reasoningTokens, 0),
		Reasoning:   reasoningTokens,
	}
}

// AnthropicUsage maps Anthropic's usage: input_tokens excludes
// cache_read_input_tokens and cache_creation_input_tokens; output_tokens
// includes any thinking, which Anthropic bills at the output rate.
func AnthropicUsage(inputTokens, cacheReadTokens, cacheCreationTokens, outputTokens int64) Usage {
	return Usage{Input: inputTokens, CachedInput: cacheReadTokens, CacheWrite: cacheCreationTokens, Output: outputTokens}
}

// GeminiUsage maps Gemini's usageMetadata: promptTokenCount includes
// cachedContentTokenCount; candidatesTokenCount excludes
// thoughtsTokenCount, which Google bills at the output rate.
func GeminiUsage(promptTokens, cachedTokens, candidatesTokens, thoughtsTokens int64) Usage {
	return Usage{
		Input:       max(promptTokens-cachedTokens, 0),
		CachedInput: cachedTokens,
		Output:      candidatesTokens,
		Reasoning:   thoughtsTokens,
	}
}
