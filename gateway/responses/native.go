package responses

import (
	"bytes"
	"encoding/json"

	"github.com/custos-gateway/custos/gateway/openai"
)

// Usage is the token accounting of a Responses answer, in the pipeline's
// terms: prompt (input) and completion (output) tokens, the cached part of
// the prompt and the reasoning part of the completion.
type Usage struct {
	PromptTokens     int64
	CompletionTokens int64
	TotalTokens      int64
	CachedTokens     int64
	ReasoningTokens  int64
}

// OpenAI returns the counts as chat completions usage.
func (u *Usage) OpenAI() *openai.Usage {
	if u == nil {
		return nil
	}
	out := &openai.Usage{PromptTokens: u.PromptTokens, CompletionTokens: u.CompletionTokens, TotalTokens: u.TotalTokens}
	out.PromptTokensDetails = &openai.PromptDetails{CachedTokens: u.CachedTokens}
	if u.ReasoningTokens > 0 {
		out.CompletionTokensDetails = &openai.CompletionDetails{ReasoningTokens: u.ReasoningTokens}
	}
	return out
}

// responseUsage is the Responses API's usage object.
type responseUsage struct {
	InputTokens        int64 `json:"input_tokens"`
	OutputTokens       int64 `json:"output_tokens"`
	TotalTokens        int64 `json:"total_tokens"`
	InputTokensDetails struct {
		CachedTokens int64 `json:"cached_tokens"`
	} `json:"input_tokens_details"`
	OutputTokensDetails struct {
		ReasoningTokens int64 `json:"reasoning_tokens"`
	} `json:"output_tokens_details"`
}

var usageKey = []byte(`"usage"`)

// ReadUsage returns the usage of a response object, or of a stream event
// whose response carries one (response.completed, response.incomplete,
// response.failed); nil when there is none. It reads nothing else.
func ReadUsage(body []byte) *Usage {
	if !bytes.Contains(body, usageKey) {
		return nil
	}
	var v struct {
		Usage    *responseUsage `json:"usage"`
		Response *struct {
			Usage *responseUsage `json:"usage"`
		} `json:"response"`
	}
	if json.Unmarshal(body, &v) != nil {
		return nil
	}
	u := v.Usage
	if u == nil && v.Response != nil {
		u = v.Response.Usage
	}
	if u == nil {
		return nil
	}
	total := u.TotalTokens
	if total == 0 {
		total = u.InputTokens + u.OutputTokens
	}
	return &Usage{PromptTokens: u.InputTokens, CompletionTokens: u.OutputTokens, TotalTokens: total,
		CachedTokens: u.InputTokensDetails.CachedTokens, ReasoningTokens: u.OutputTokensDetails.ReasoningTokens}
}

// terminalTypes are the events that end a Responses stream. A native
// stream ends with one of them; it sends no [DONE].
var terminalTypes = [][]byte{[]byte(`"response.completed"`), []byte(`"response.incomplete"`), []byte(`"response.failed"`)}

// Terminal reports whether a stream event's data is the final event of its
// stream (response.completed, response.incomplete or response.failed).
func Terminal(data []byte) bool {
	hit := false
	for _, t := range terminalTypes {
		hit = hit || bytes.Contains(data, t)
	}
	if !hit {
		return false
	}
	var v struct {
		Type string `json:"type"`
	}
	return json.Unmarshal(data, &v) == nil && isTerminal(v.Type)
}
