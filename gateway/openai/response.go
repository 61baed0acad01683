package openai

import (
	"bytes"
	"encoding/json"
)

// Usage is the token accounting an answer reports.
type Usage struct {
	PromptTokens        int64 `json:"prompt_tokens"`
	CompletionTokens    int64 `json:"completion_tokens"`
	TotalTokens         int64 `json:"total_tokens"`
	PromptTokensDetails *struct {
		CachedTokens int64 `json:"cached_tokens"`
	} `json:"prompt_tokens_details,omitempty"`
}

// CachedTokens returns the cached prompt tokens, if reported.
func (u *Usage) CachedTokens() int64 {
	if u == nil || u.PromptTokensDetails == nil {
		return 0
	}
	return u.PromptTokensDetails.CachedTokens
}

var usageKey = []byte(`"usage"`)

// ReadUsage returns the usage object of a completion or stream chunk, or nil
// when it carries none. It reads nothing else.
func ReadUsage(body []byte) *Usage {
	if !bytes.Contains(body, usageKey) {
		return nil
	}
	var v struct {
		Usage *Usage `json:"usage"`
	}
	if err := json.Unmarshal(body, &v); err != nil {
		return nil
	}
	return v.Usage
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
