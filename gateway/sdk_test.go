package gateway_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/anthropics/anthropic-sdk-go/v2"
	anthropicopt "github.com/anthropics/anthropic-sdk-go/v2/option"
	"github.com/openai/openai-go/v3"

	"github.com/custos-gateway/custos/gateway/config"
	"github.com/custos-gateway/custos/gateway/providertest"
	"github.com/custos-gateway/custos/gateway/upstream"
)

const claudeModel = "claude-sonnet-4-5"

// startTwoProviders: gpt-4o-mini on an OpenAI-compatible simulator (the
// harness's), claude-sonnet-4-5 on an Anthropic simulator.
func startTwoProviders(t *testing.T) (*harness, *providertest.Anthropic) {
	t.Helper()
	anth := providertest.NewAnthropic(t)
	h := startGateway(t, func(c *config.Config) {
		c.Endpoints = append(c.Endpoints, config.Endpoint{
			Name: "anthropic-eu", Kind: upstream.KindAnthropic, Provider: "anthropic", BaseURL: anth.URL,
			Region: "eu-central", Models: []string{claudeModel}, Keyless: true,
		})
	})
	return h, anth
}

var weatherTool = openai.ChatCompletionToolUnionParam{OfFunction: &openai.ChatCompletionFunctionToolParam{
	Function: openai.FunctionDefinitionParam{
		Name:        "get_ward_status",
		Description: openai.String("Current bed occupancy of a ward"),
		Parameters:  openai.FunctionParameters{"type": "object", "properties": map[string]any{"ward": map[string]any{"type": "string"}}},
	},
}}

const toolArgs = `{"ward":"cardiology","floor":3}`

// OpenAI SDK → Custos → both providers, plain, streamed and with a tool call.
func TestOpenAISDKAgainstBothProviderFormats(t *testing.T) {
	h, anth := startTwoProviders(t)
	client := sdkClient(h, appKey)
	ctx := context.Background()
	for _, model := range []string{testModel, claudeModel} {
		t.Run(model, func(t *testing.T) {
			sims := map[string]interface {
				Script(...providertest.Behaviour)
			}{testModel: h.Sim, claudeModel: anth}
			sim := sims[model]
			const reply = "Ward census is stable today."
			sim.Script(providertest.Behaviour{Reply: reply}, providertest.Behaviour{Reply: reply},
				providertest.Behaviour{ToolCall: &providertest.ToolCall{ID: "call_1", Name: "get_ward_status", Arguments: toolArgs}},
				providertest.Behaviour{ToolCall: &providertest.ToolCall{ID: "call_2", Name: "get_ward_status", Arguments: toolArgs}})
			msgs := []openai.ChatCompletionMessageParamUnion{openai.SystemMessage("Be brief."), openai.UserMessage("How is the ward?")}

			resp, err := client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{Model: model, Messages: msgs})
			if err != nil {
				t.Fatal(err)
			}
			if resp.Choices[0].Message.Content != reply || resp.Usage.CompletionTokens == 0 {
				t.Errorf("plain: %q usage %+v", resp.Choices[0].Message.Content, resp.Usage)
			}

			stream := client.Chat.Completions.NewStreaming(ctx, openai.ChatCompletionNewParams{Model: model, Messages: msgs})
			var acc openai.ChatCompletionAccumulator
			for stream.Next() {
				acc.AddChunk(stream.Current())
			}
			if err := stream.Err(); err != nil || acc.Choices[0].Message.Content != reply {
				t.Errorf("stream: %q, %v", acc.Choices[0].Message.Content, err)
			}

			tools := openai.ChatCompletionNewParams{Model: model, Messages: msgs, Tools: []openai.ChatCompletionToolUnionParam{weatherTool}}
			resp, err = client.Chat.Completions.New(ctx, tools)
			if err != nil {
				t.Fatal(err)
			}
			if tc := resp.Choices[0].Message.ToolCalls; len(tc) != 1 || tc[0].Function.Name != "get_ward_status" || !sameJSON(tc[0].Function.Arguments, toolArgs) || resp.Choices[0].FinishReason != "tool_calls" {
				t.Errorf("tool call: %+v finish %q", resp.Choices[0].Message.ToolCalls, resp.Choices[0].FinishReason)
			}
			stream = client.Chat.Completions.NewStreaming(ctx, tools)
			acc = openai.ChatCompletionAccumulator{}
			for stream.Next() {
				acc.AddChunk(stream.Current())
			}
			if err := stream.Err(); err != nil {
				t.Fatal(err)
			}
			if tc := acc.Choices[0].Message.ToolCalls; len(tc) != 1 || tc[0].Function.Name != "get_ward_status" || !sameJSON(tc[0].Function.Arguments, toolArgs) {
				t.Errorf("streamed tool call: %+v", tc)
			}
		})
	}
	// What the Anthropic simulator received is a proper Messages request.
	got := anth.Received()
	if len(got) != 4 {
		t.Fatalf("anthropic simulator saw %d requests", len(got))
	}
	var req struct {
		System    string `json:"system"`
		MaxTokens int    `json:"max_tokens"`
		Messages  []struct {
			Role string `json:"role"`
		} `json:"messages"`
		Tools []struct {
			Name        string         `json:"name"`
			InputSchema map[string]any `json:"input_schema"`
		} `json:"tools"`
	}
	if err := json.Unmarshal(got[2].Body, &req); err != nil {
		t.Fatal(err)
	}
	if req.System != "Be brief." || req.MaxTokens == 0 || len(req.Messages) != 1 || req.Messages[0].Role != "user" ||
		len(req.Tools) != 1 || req.Tools[0].InputSchema["type"] != "object" || got[2].Header.Get("anthropic-version") == "" {
		t.Errorf("translated request = %s", got[2].Body)
	}
}

// Anthropic SDK → Custos /v1/messages → both providers.
func TestAnthropicSDKAgainstBothProviderFormats(t *testing.T) {
	h, anth := startTwoProviders(t)
	client := anthropic.NewClient(anthropicopt.WithBaseURL(strings.TrimSuffix(h.URL, "v1")), anthropicopt.WithAPIKey(appKey), anthropicopt.WithMaxRetries(0))
	ctx := context.Background()
	for _, model := range []string{testModel, claudeModel} {
		t.Run(model, func(t *testing.T) {
			sims := map[string]interface {
				Script(...providertest.Behaviour)
			}{testModel: h.Sim, claudeModel: anth}
			const reply = "Ward census is stable today."
			sims[model].Script(providertest.Behaviour{Reply: reply}, providertest.Behaviour{Reply: reply},
				providertest.Behaviour{ToolCall: &providertest.ToolCall{ID: "toolu_1", Name: "get_ward_status", Arguments: toolArgs}},
				providertest.Behaviour{ToolCall: &providertest.ToolCall{ID: "toolu_2", Name: "get_ward_status", Arguments: toolArgs}})
			params := anthropic.MessageNewParams{
				Model: anthropic.Model(model), MaxTokens: 512,
				System:   []anthropic.TextBlockParam{{Text: "Be brief."}},
				Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("How is the ward?"))},
			}
			msg, err := client.Messages.New(ctx, params)
			if err != nil {
				t.Fatal(err)
			}
			if len(msg.Content) != 1 || msg.Content[0].AsText().Text != reply || msg.StopReason != "end_turn" || msg.Usage.OutputTokens == 0 {
				t.Errorf("plain: %+v", msg)
			}
			stream := client.Messages.NewStreaming(ctx, params)
			var acc anthropic.Message
			for stream.Next() {
				if err := acc.Accumulate(stream.Current()); err != nil {
					t.Fatal(err)
				}
			}
			if err := stream.Err(); err != nil || len(acc.Content) != 1 || acc.Content[0].AsText().Text != reply {
				t.Errorf("stream: %+v, %v", acc.Content, err)
			}
			// The stream reports the provider's usage, the same as the plain answer.
			if acc.Usage.OutputTokens == 0 || acc.Usage.InputTokens != msg.Usage.InputTokens || acc.Usage.OutputTokens != msg.Usage.OutputTokens {
				t.Errorf("streamed usage %+v, plain usage %+v", acc.Usage, msg.Usage)
			}

			params.Tools = []anthropic.ToolUnionParam{{OfTool: &anthropic.ToolParam{Name: "get_ward_status",
				InputSchema: anthropic.ToolInputSchemaParam{Properties: map[string]any{"ward": map[string]any{"type": "string"}}}}}}
			msg, err = client.Messages.New(ctx, params)
			if err != nil {
				t.Fatal(err)
			}
			if len(msg.Content) != 1 || msg.Content[0].AsToolUse().Name != "get_ward_status" || !sameJSON(string(msg.Content[0].AsToolUse().Input), toolArgs) || msg.StopReason != "tool_use" {
				t.Errorf("tool call: %+v", msg.Content)
			}
			stream = client.Messages.NewStreaming(ctx, params)
			acc = anthropic.Message{}
			for stream.Next() {
				if err := acc.Accumulate(stream.Current()); err != nil {
					t.Fatal(err)
				}
			}
			if err := stream.Err(); err != nil || len(acc.Content) != 1 || acc.Content[0].AsToolUse().Name != "get_ward_status" || !sameJSON(string(acc.Content[0].AsToolUse().Input), toolArgs) {
				t.Errorf("streamed tool call: %+v, %v", acc.Content, err)
			}
		})
	}
	// Errors come back in the Anthropic shape.
	_, err := client.Messages.New(ctx, anthropic.MessageNewParams{Model: "gpt-3.5-turbo", MaxTokens: 10,
		Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("hi"))}})
	var apiErr *anthropic.Error
	if !errorsAs(err, &apiErr) || apiErr.StatusCode != 403 || !strings.Contains(apiErr.Error(), "permission_error") {
		t.Errorf("denied request through the Anthropic SDK: %v", err)
	}
}

func sameJSON(a, b string) bool {
	var x, y any
	return json.Unmarshal([]byte(a), &x) == nil && json.Unmarshal([]byte(b), &y) == nil && jsonEqual(x, y)
}

func jsonEqual(x, y any) bool {
	bx, _ := json.Marshal(x)
	by, _ := json.Marshal(y)
	return string(bx) == string(by)
}

// OpenAI SDK → Custos → Gemini: plain, streamed, a tool call, a cut stream.
func TestOpenAISDKAgainstGemini(t *testing.T) {
	gem := providertest.NewGemini(t)
	h := startGateway(t, func(c *config.Config) {
		c.Endpoints = append(c.Endpoints, config.Endpoint{Name: "gemini-eu", Kind: upstream.KindGemini, Provider: "google",
			BaseURL: gem.URL, Region: "eu-west", Models: []string{"gpt-4o"}, Keyless: true})
	})
	const reply = "Ward census is stable today."
	gem.Script(providertest.Behaviour{Reply: reply}, providertest.Behaviour{Reply: reply},
		providertest.Behaviour{ToolCall: &providertest.ToolCall{Name: "get_ward_status", Arguments: toolArgs}},
		providertest.Behaviour{Reply: "one two three four five", DropAfterChunks: 2})
	client := sdkClient(h, appKey)
	ctx := context.Background()
	msgs := []openai.ChatCompletionMessageParamUnion{openai.SystemMessage("Be brief."), openai.UserMessage("How is the ward?")}
	resp, err := client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{Model: "gpt-4o", Messages: msgs})
	if err != nil || resp.Choices[0].Message.Content != reply || resp.Usage.CompletionTokens == 0 {
		t.Fatalf("plain: %+v %v", resp, err)
	}
	stream := client.Chat.Completions.NewStreaming(ctx, openai.ChatCompletionNewParams{Model: "gpt-4o", Messages: msgs})
	var acc openai.ChatCompletionAccumulator
	for stream.Next() {
		acc.AddChunk(stream.Current())
	}
	if err := stream.Err(); err != nil || acc.Choices[0].Message.Content != reply || acc.Choices[0].FinishReason != "stop" {
		t.Errorf("stream: %q %v", acc.Choices[0].Message.Content, err)
	}
	resp, err = client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{Model: "gpt-4o", Messages: msgs, Tools: []openai.ChatCompletionToolUnionParam{weatherTool}})
	if err != nil || len(resp.Choices[0].Message.ToolCalls) != 1 || !sameJSON(resp.Choices[0].Message.ToolCalls[0].Function.Arguments, toolArgs) {
		t.Errorf("tool call: %+v %v", resp, err)
	}
	stream = client.Chat.Completions.NewStreaming(ctx, openai.ChatCompletionNewParams{Model: "gpt-4o", Messages: msgs})
	for stream.Next() {
	}
	if stream.Err() == nil {
		t.Error("a Gemini stream cut before its finish reason ended cleanly")
	}
	got := gem.Received()
	var req struct {
		SystemInstruction struct {
			Parts []struct{ Text string } `json:"parts"`
		} `json:"systemInstruction"`
		Contents []struct {
			Role string `json:"role"`
		} `json:"contents"`
	}
	if err := json.Unmarshal(got[0].Body, &req); err != nil || req.SystemInstruction.Parts[0].Text != "Be brief." || req.Contents[0].Role != "user" ||
		!strings.HasSuffix(got[1].Path, ":streamGenerateContent") {
		t.Errorf("translated request %s at %s / %s", got[0].Body, got[0].Path, got[1].Path)
	}
}
