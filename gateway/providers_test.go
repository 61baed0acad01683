package gateway_test

import (
	"context"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"

	"github.com/custos-gateway/custos/gateway/config"
	"github.com/custos-gateway/custos/gateway/providertest"
	"github.com/custos-gateway/custos/gateway/upstream"
)

// Each OpenAI-wire provider variant, through Custos with the OpenAI SDK:
// plain and streamed answers, usage, and its error body on a 503.
func TestOpenAIWireProviders(t *testing.T) {
	for _, kind := range []string{upstream.KindAzure, upstream.KindMistral, upstream.KindDeepSeek, upstream.KindQwen, upstream.KindOpenRouter, upstream.KindOllama} {
		t.Run(kind, func(t *testing.T) {
			sim := providertest.NewProvider(t, kind)
			h := startGateway(t, func(c *config.Config) {
				c.Endpoints[0].Kind = kind
				c.Endpoints[0].Provider = kind
				c.Endpoints[0].BaseURL = sim.URL
				if kind == upstream.KindAzure {
					c.Endpoints[0].Deployments = map[string]string{testModel: "prod-4o-mini"}
				}
				if kind == upstream.KindOllama {
					c.Endpoints[0].Keyless = false // the kind itself takes no key
				}
			})
			const reply = "Census stable."
			sim.Script(providertest.Behaviour{Reply: reply}, providertest.Behaviour{Reply: reply}, providertest.Behaviour{Status: 503})
			client := sdkClient(h, appKey)
			msgs := []openai.ChatCompletionMessageParamUnion{openai.UserMessage("How is the ward?")}
			resp, err := client.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{Model: testModel, Messages: msgs})
			if err != nil {
				t.Fatal(err)
			}
			if resp.Choices[0].Message.Content != reply || resp.Usage.TotalTokens == 0 {
				t.Errorf("plain: %q %+v", resp.Choices[0].Message.Content, resp.Usage)
			}
			stream := client.Chat.Completions.NewStreaming(context.Background(), openai.ChatCompletionNewParams{Model: testModel, Messages: msgs,
				StreamOptions: openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}})
			var acc openai.ChatCompletionAccumulator
			for stream.Next() {
				acc.AddChunk(stream.Current())
			}
			if err := stream.Err(); err != nil || acc.Choices[0].Message.Content != reply || acc.Usage.TotalTokens == 0 {
				t.Errorf("stream: %q usage %+v err %v", acc.Choices[0].Message.Content, acc.Usage, err)
			}
			_, err = client.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{Model: testModel, Messages: msgs})
			var apiErr *openai.Error
			if !errorsAs(err, &apiErr) || apiErr.StatusCode != 502 || apiErr.Code != "upstream_error" {
				t.Errorf("provider 503: %v", err)
			}
			got := sim.Received()
			if len(got) != 3 {
				t.Fatalf("simulator saw %d requests", len(got))
			}
			if kind == upstream.KindAzure && !strings.Contains(got[0].Path, "/openai/deployments/prod-4o-mini/chat/completions") {
				t.Errorf("azure path %s", got[0].Path)
			}
			if kind == upstream.KindOllama && (got[0].Authorization != "" || got[0].Path != "/v1/chat/completions") {
				t.Errorf("ollama: path %s, key %q", got[0].Path, got[0].Authorization)
			}
		})
	}
}
