package upstream

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/custos-gateway/custos/gateway/anthropic"
	"github.com/custos-gateway/custos/gateway/sse"
)

// ErrUntranslatable means the request uses content the endpoint's format
// cannot carry.
var ErrUntranslatable = fmt.Errorf("upstream: request cannot be translated for the endpoint")

// anthropicKind speaks the Anthropic Messages API: the OpenAI chat form
// translated both ways, streaming events and tool calls included.
type anthropicKind struct{}

func (anthropicKind) Supports(op Op) bool { return op == OpChat }

func (anthropicKind) Request(ctx context.Context, t *Target, call *Call) (*http.Request, error) {
	body, err := anthropic.FromOpenAI(call.Body)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUntranslatable, err)
	}
	hr, err := newPost(ctx, strings.TrimSuffix(t.BaseURL, "/")+"/messages", body)
	if err != nil {
		return nil, err
	}
	hr.Header.Set("anthropic-version", anthropic.Version)
	if call.Key != "" {
		hr.Header.Set("x-api-key", call.Key)
	}
	return hr, nil
}

func (anthropicKind) Answer(_ *Call, body []byte) ([]byte, error) {
	return anthropic.ToOpenAI(body, time.Now().Unix())
}

func (anthropicKind) Events(call *Call, body io.Reader) EventSource {
	conv := &anthropic.StreamToOpenAI{Model: call.Model, Created: time.Now().Unix(), IncludeUsage: true}
	return &translatedEvents{r: sse.NewReader(body, MaxEventLine),
		translate: func(ev sse.Event) ([][]byte, error) { return conv.Event(ev.Event, ev.Data) }}
}

func (anthropicKind) ErrorMessage(body []byte) string { return openAIErrorMessage(body) }
