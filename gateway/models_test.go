package gateway_test

import (
	"context"
	"strings"
	"testing"

	"github.com/anthropics/anthropic-sdk-go/v2"
	anthropicopt "github.com/anthropics/anthropic-sdk-go/v2/option"
	"github.com/openai/openai-go/v3"
)

// models.list and models.retrieve work with both SDKs, each in its shape;
// a model the caller may not use, or no endpoint serves, is 404.
func TestModelsWithBothSDKs(t *testing.T) {
	h, _ := startTwoProviders(t)
	ctx := context.Background()
	oc := sdkClient(h, appKey)
	m, err := oc.Models.Get(ctx, testModel)
	if err != nil || m.ID != testModel || m.Object != "model" || m.OwnedBy != "azure" {
		t.Errorf("OpenAI models.retrieve: %+v %v", m, err)
	}
	for _, id := range []string{unlistedModel, "gpt-nope"} {
		_, err := oc.Models.Get(ctx, id)
		var apiErr *openai.Error
		if !errorsAs(err, &apiErr) || apiErr.StatusCode != 404 || apiErr.Code != "model_not_found" {
			t.Errorf("OpenAI models.retrieve(%s): %v, want 404 model_not_found", id, err)
		}
	}
	ac := anthropic.NewClient(anthropicopt.WithBaseURL(strings.TrimSuffix(h.URL, "v1")), anthropicopt.WithAPIKey(appKey), anthropicopt.WithMaxRetries(0))
	page, err := ac.Models.List(ctx, anthropic.ModelListParams{})
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, mi := range page.Data {
		ids[mi.ID] = true
		if mi.DisplayName == "" || mi.CreatedAt.IsZero() && mi.JSON.CreatedAt.Raw() == "" {
			t.Errorf("Anthropic model info incomplete: %+v", mi)
		}
	}
	if !ids[testModel] || !ids[claudeModel] || ids[unlistedModel] {
		t.Errorf("Anthropic models.list: %v", ids)
	}
	got, err := ac.Models.Get(ctx, claudeModel, anthropic.ModelGetParams{})
	if err != nil || got.ID != claudeModel || got.Type != "model" {
		t.Errorf("Anthropic models.retrieve: %+v %v", got, err)
	}
	_, err = ac.Models.Get(ctx, "claude-nope", anthropic.ModelGetParams{})
	var aerr *anthropic.Error
	if !errorsAs(err, &aerr) || aerr.StatusCode != 404 || !strings.Contains(aerr.Error(), "not_found_error") {
		t.Errorf("Anthropic models.retrieve of an unknown model: %v", err)
	}
}

// messages.countTokens is answered by the local tokenizer after inspection
// and the policy decision; nothing reaches a provider.
func TestCountTokens(t *testing.T) {
	h, anth := startTwoProviders(t)
	ac := anthropic.NewClient(anthropicopt.WithBaseURL(strings.TrimSuffix(h.URL, "v1")), anthropicopt.WithAPIKey(appKey), anthropicopt.WithMaxRetries(0))
	ctx := context.Background()
	short, err := ac.Messages.CountTokens(ctx, anthropic.MessageCountTokensParams{Model: anthropic.Model(claudeModel),
		Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("How is the ward?"))}})
	if err != nil || short.InputTokens < 5 || short.InputTokens > 30 {
		t.Fatalf("count: %+v %v", short, err)
	}
	long, err := ac.Messages.CountTokens(ctx, anthropic.MessageCountTokensParams{Model: anthropic.Model(claudeModel),
		System:   anthropic.MessageCountTokensParamsSystemUnion{OfTextBlockArray: []anthropic.TextBlockParam{{Text: "Be brief and kind."}}},
		Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock(strings.Repeat("How is the ward? ", 20)))}})
	if err != nil || long.InputTokens <= short.InputTokens+60 {
		t.Errorf("a longer prompt counts %d, the short one %d (%v)", long.InputTokens, short.InputTokens, err)
	}
	_, err = ac.Messages.CountTokens(ctx, anthropic.MessageCountTokensParams{Model: anthropic.Model(claudeModel),
		Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("card 4111 1111 1111 1111"))}})
	var aerr *anthropic.Error
	if !errorsAs(err, &aerr) || aerr.StatusCode != 403 {
		t.Errorf("a card number in a count request: %v, want 403", err)
	}
	if h.Sim.Requests()+anth.Requests() != 0 {
		t.Errorf("a provider saw %d requests", h.Sim.Requests()+anth.Requests())
	}
}
