package openai

import (
	"bytes"
	"encoding/json"

	"github.com/custos-gateway/custos/gateway/jsondoc"
)

// Usage is the token accounting an answer reports.
type Usage struct {
	PromptTokens            int64              `json:"prompt_tokens"`
	CompletionTokens        int64              `json:"completion_tokens"`
	TotalTokens             int64              `json:"total_tokens"`
	PromptTokensDetails     *PromptDetails     `json:"prompt_tokens_details,omitempty"`
	CompletionTokensDetails *CompletionDetails `json:"completion_tokens_details,omitempty"`
}

// PromptDetails break the prompt tokens down.
type PromptDetails struct {
	CachedTokens int64 `json:"cached_tokens"`
	// CacheWriteTokens are prompt tokens written to a provider's cache
	// (Anthropic's cache_creation_input_tokens, carried through the
	// translation); billed at their own rate.
	CacheWriteTokens int64 `json:"cache_write_tokens,omitempty"`
}

// CompletionDetails break the completion tokens down.
type CompletionDetails struct {
	ReasoningTokens int64 `json:"reasoning_tokens"`
}

// CachedTokens returns the cached prompt tokens, if reported.
func (u *Usage) CachedTokens() int64 {
	if u == nil || u.PromptTokensDetails == nil {
		return 0
	}
	return u.PromptTokensDetails.CachedTokens
}

// CacheWriteTokens returns the prompt tokens written to a cache, if reported.
func (u *Usage) CacheWriteTokens() int64 {
	if u == nil || u.PromptTokensDetails == nil {
		return 0
	}
	return u.PromptTokensDetails.CacheWriteTokens
}

// ReasoningTokens returns the completion's reasoning tokens, if reported.
func (u *Usage) ReasoningTokens() int64 {
	if u == nil || u.CompletionTokensDetails == nil {
		return 0
	}
	return u.CompletionTokensDetails.ReasoningTokens
}

var usageKey = []byte(`"usage"`)

// ReadUsage returns the usage object of a completion or stream chunk, or nil
// when it has none (or the body is not an object): the top-level member
// only, found without decoding the rest.
func ReadUsage(body []byte) *Usage {
	if !bytes.Contains(body, usageKey) {
		return nil
	}
	start, end, found, err := jsondoc.Find(body, "usage")
	if err != nil || !found || body[start] != '{' {
		return nil
	}
	if u, ok := quickUsage(body[start:end]); ok {
		return u
	}
	var u Usage
	if err := json.Unmarshal(body[start:end], &u); err != nil {
		return nil
	}
	return &u
}

// DoneData is the data of the event that ends an OpenAI stream.
var DoneData = []byte("[DONE]")

// Error is the OpenAI error body: {"error":{"message","type","param","code"}}.
// Reasons, when present, lists every policy reason behind a refusal; the
// SDKs ignore fields they do not know.
type Error struct {
	Message string   `json:"message"`
	Type    string   `json:"type"`
	Param   *string  `json:"param"`
	Code    string   `json:"code"`
	Reasons []Reason `json:"reasons,omitempty"`
}

// Reason is one policy reason for a refusal.
type Reason struct {
	Code    string `json:"code"`
	Control string `json:"control,omitempty"`
	Message string `json:"message"`
}

// ErrorBody encodes an OpenAI-shaped error body.
func ErrorBody(typ, code, message, param string) []byte {
	e := Error{Message: message, Type: typ, Code: code}
	if param != "" {
		e.Param = &param
	}
	return e.Body()
}

// Body encodes e inside the {"error": ...} envelope.
func (e Error) Body() []byte {
	b, _ := json.Marshal(struct {
		Error Error `json:"error"`
	}{e})
	return b
}
