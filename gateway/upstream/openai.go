package upstream

import (
	"context"
	"io"
	"net/http"
	"strings"

	"github.com/custos-gateway/custos/gateway/sse"
)

// openAICompatible speaks the OpenAI wire format at <base URL>/chat/completions
// and /embeddings with a bearer key: OpenAI itself, local model servers, and
// the compatible providers (Mistral, DeepSeek, Qwen's compatible mode,
// OpenRouter), whose differences (error bodies, extra fields, keep-alive
// comments) the OpenAI form already tolerates. responses: the kind serves
// the Responses API natively at /responses (OpenAI itself); the others get
// Responses requests translated to chat completions.
type openAICompatible struct{ responses bool }

func (a openAICompatible) Supports(op Op) bool {
	return op == OpChat || op == OpEmbeddings || (op == OpResponses && a.responses)
}

func (openAICompatible) Request(ctx context.Context, t *Target, call *Call) (*http.Request, error) {
	hr, err := newPost(ctx, strings.TrimSuffix(t.BaseURL, "/")+openAIPath(call.Op), call.Body)
	if err != nil {
		return nil, err
	}
	if call.Key != "" {
		hr.Header.Set("Authorization", "Bearer "+call.Key)
	}
	return hr, nil
}

func (openAICompatible) Answer(_ *Call, body []byte) ([]byte, error) { return body, nil }

func (openAICompatible) Events(_ *Call, body io.Reader) EventSource {
	return sse.NewReader(body, MaxEventLine)
}

func (openAICompatible) ErrorMessage(body []byte) string { return openAIErrorMessage(body) }

// openAIPath is the path of op under an OpenAI-style base URL.
func openAIPath(op Op) string {
	switch op {
	case OpEmbeddings:
		return "/embeddings"
	case OpResponses:
		return "/responses"
	}
	return "/chat/completions"
}
