package upstream

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/custos-gateway/custos/gateway/gemini"
	"github.com/custos-gateway/custos/gateway/sse"
)

// geminiKind speaks Google Gemini generateContent and
// streamGenerateContent?alt=sse, translated both ways; the model is in the
// URL and the key in x-goog-api-key.
type geminiKind struct{}

func (geminiKind) Supports(op Op) bool { return op == OpChat }

func (geminiKind) Request(ctx context.Context, t *Target, call *Call) (*http.Request, error) {
	body, err := gemini.FromOpenAI(call.Body)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUntranslatable, err)
	}
	method := ":generateContent"
	if call.Stream {
		method = ":streamGenerateContent?alt=sse"
	}
	target := strings.TrimSuffix(t.BaseURL, "/") + "/models/" + url.PathEscape(call.Model) + method
	hr, err := newPost(ctx, target, body)
	if err != nil {
		return nil, err
	}
	if call.Key != "" {
		hr.Header.Set("x-goog-api-key", call.Key)
	}
	return hr, nil
}

func (geminiKind) Answer(call *Call, body []byte) ([]byte, error) {
	return gemini.ToOpenAI(body, call.Model, time.Now().Unix())
}

func (geminiKind) Events(call *Call, body io.Reader) EventSource {
	conv := &gemini.StreamToOpenAI{Model: call.Model, Created: time.Now().Unix(), IncludeUsage: true}
	return &translatedEvents{r: sse.NewReader(body, MaxEventLine),
		translate: func(ev sse.Event) ([][]byte, error) { return conv.Event(ev.Data) }, end: conv.End}
}

func (geminiKind) ErrorMessage(body []byte) string { return openAIErrorMessage(body) }
