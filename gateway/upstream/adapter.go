package upstream

import (
	"context"
	"io"
	"net/http"
	"slices"
	"sort"

	"github.com/custos-gateway/custos/gateway/sse"
)

// Op is the API operation a call performs.
type Op int

// Operations a provider kind may serve.
const (
	OpChat       Op = iota // chat completions (the pipeline's hub form)
	OpEmbeddings           // OpenAI embeddings
	OpResponses            // the OpenAI Responses API, where a kind serves it natively
)

// Target is how an endpoint is reached: the wire facts routing never reads.
type Target struct {
	Name    string
	Kind    string
	BaseURL string
	// APIVersion and Deployments are Azure OpenAI's api-version and the
	// deployment serving each model.
	APIVersion  string
	Deployments map[string]string
	// Keyless marks an endpoint that takes no provider key.
	Keyless bool
}

// Call is one request to a provider. Body is in the OpenAI form of Op (chat
// completions, embeddings, responses), its model field already the one the
// endpoint serves (Model); the adapter encodes it for its kind.
type Call struct {
	Op        Op
	Body      []byte
	Model     string // the model asked of the endpoint (after aliasing)
	Stream    bool
	Key       string // provider key; empty for keyless endpoints
	RequestID string
	// Header holds extra headers to send (W3C trace context, when
	// propagation to providers is configured).
	Header http.Header
}

// EventSource yields a provider's stream as OpenAI chunk events.
type EventSource interface {
	Next() (sse.Event, error)
	// Ready reports whether Next would return without waiting for the
	// provider (a relay flushes when it is not).
	Ready() bool
}

// Adapter speaks one provider kind's wire format. Requests arrive in the
// OpenAI form and answers leave in it, so the pipeline knows one format.
type Adapter interface {
	// Supports reports whether the kind serves op.
	Supports(op Op) bool
	// Request builds the HTTP request for call: URL, headers (the key in the
	// kind's own header) and the body in the kind's format.
	Request(ctx context.Context, t *Target, call *Call) (*http.Request, error)
	// Answer converts a complete 2xx answer body to the OpenAI form.
	Answer(call *Call, body []byte) ([]byte, error)
	// Events reads a streamed answer as OpenAI chunk events.
	Events(call *Call, body io.Reader) EventSource
	// ErrorMessage extracts the provider's own message from an error body,
	// or "" when it has none.
	ErrorMessage(body []byte) string
}

// kinds is the table of provider kinds: adding one is a file with its
// adapter and a line here.
var kinds = map[string]Adapter{
	KindOpenAI:     openAICompatible{responses: true},
	KindMistral:    openAICompatible{},
	KindDeepSeek:   openAICompatible{},
	KindQwen:       openAICompatible{},
	KindOpenRouter: openAICompatible{},
	KindAzure:      azure{},
	KindAnthropic:  anthropicKind{},
	KindGemini:     geminiKind{},
	KindEcho:       echo{},
	KindOllama:     ollama{},
}

// Provider kinds.
const (
	KindOpenAI     = "openai"     // OpenAI, or any OpenAI-compatible API (a local model server)
	KindAzure      = "azure"      // Azure OpenAI: deployment URLs, api-version, api-key header
	KindAnthropic  = "anthropic"  // the Anthropic Messages API
	KindGemini     = "gemini"     // Google Gemini generateContent
	KindMistral    = "mistral"    // Mistral (OpenAI-compatible wire)
	KindDeepSeek   = "deepseek"   // DeepSeek (OpenAI-compatible wire)
	KindQwen       = "qwen"       // Qwen on DashScope's compatible mode (OpenAI-compatible wire)
	KindOpenRouter = "openrouter" // OpenRouter (OpenAI-compatible wire)
	KindEcho       = "echo"       // the built-in echo provider (dev and tests)
	KindOllama     = "ollama"     // a local Ollama server (OpenAI-compatible, keyless)
)

// Lookup returns the adapter of kind.
func Lookup(kind string) (Adapter, bool) {
	a, ok := kinds[kind]
	return a, ok
}

// Kinds lists the known provider kinds, sorted.
func Kinds() []string {
	out := make([]string, 0, len(kinds))
	for k := range kinds {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Known reports whether kind is in the table.
func Known(kind string) bool { return slices.Contains(Kinds(), kind) }

// keyless is implemented by kinds that never take a provider key.
type keyless interface{ keyless() }

// NeedsKey reports whether endpoints of kind take a provider key unless
// configured keyless.
func NeedsKey(kind string) bool {
	_, ok := kinds[kind].(keyless)
	return !ok
}
