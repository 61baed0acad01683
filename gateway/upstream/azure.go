package upstream

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/custos-gateway/custos/gateway/sse"
)

// AzureAPIVersion is the Azure OpenAI api-version used when an endpoint
// names none.
const AzureAPIVersion = "2024-10-21"

// azure speaks Azure OpenAI: the OpenAI body at
// {base}/openai/deployments/{deployment}{path}?api-version=…, whose
// deployment picks the model, with the key in the api-key header.
type azure struct{}

func (azure) Supports(op Op) bool { return op == OpChat || op == OpEmbeddings }

func (azure) Request(ctx context.Context, t *Target, call *Call) (*http.Request, error) {
	deployment := t.Deployments[call.Model]
	if deployment == "" {
		deployment = call.Model
	}
	version := t.APIVersion
	if version == "" {
		version = AzureAPIVersion
	}
	target := strings.TrimSuffix(t.BaseURL, "/") + "/openai/deployments/" + url.PathEscape(deployment) +
		openAIPath(call.Op) + "?api-version=" + url.QueryEscape(version)
	hr, err := newPost(ctx, target, call.Body)
	if err != nil {
		return nil, err
	}
	if call.Key != "" {
		hr.Header.Set("api-key", call.Key)
	}
	return hr, nil
}

func (azure) Answer(_ *Call, body []byte) ([]byte, error) { return body, nil }

func (azure) Events(_ *Call, body io.Reader) EventSource { return sse.NewReader(body, MaxEventLine) }

func (azure) ErrorMessage(body []byte) string { return openAIErrorMessage(body) }
