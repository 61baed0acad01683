package responses_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	sdk "github.com/openai/openai-go/v3/responses"

	"github.com/custos-gateway/custos/gateway/jsondoc"
	"github.com/custos-gateway/custos/gateway/responses"
)

// chatServer answers /v1/responses the way a translated endpoint would be
// answered through Custos: the request must pass FromDoc and ToChat, and
// the chat answer (or chunks) is turned back with FromChat or
// StreamFromChat.
func chatServer(t *testing.T, answer []byte, chunks [][]byte, fail bool) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		doc, err := jsondoc.Parse(body, jsondoc.Limits{})
		if err != nil {
			t.Errorf("SDK body: %v", err)
			return
		}
		req, err := responses.FromDoc(doc)
		if err != nil {
			t.Errorf("SDK body refused: %v\n%s", err, body)
			http.Error(w, "{}", http.StatusBadRequest)
			return
		}
		if _, err := responses.ToChat(body); err != nil {
			t.Errorf("SDK body untranslatable: %v\n%s", err, body)
		}
		if !req.Stream {
			out, err := responses.FromChat(answer, req, "resp_sdk", 1700000000)
			if err != nil {
				t.Error(err)
			}
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(out)
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		conv := &responses.StreamFromChat{Req: req, ID: "resp_sdk", Created: 1700000000}
		var evs []responses.Event
		for _, c := range chunks {
			evs = append(evs, conv.Chunk(c)...)
		}
		if fail {
			evs = append(evs, conv.Fail("server_error", "stream_interrupted", "the provider's stream ended early")...)
		}
		_, _ = w.Write(sseText(evs))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func sdkClient(srv *httptest.Server) openai.Client {
	return openai.NewClient(option.WithBaseURL(srv.URL+"/v1/"), option.WithAPIKey("k"), option.WithMaxRetries(0))
}

// A function tool round trip as the SDK sends it: the tool definition, the
// earlier call and its output as input items, a JSON schema format.
func sdkParams() sdk.ResponseNewParams {
	return sdk.ResponseNewParams{
		Model:        "gpt-4.1",
		Instructions: openai.String("Be brief."),
		Input: sdk.ResponseNewParamsInputUnion{OfInputItemList: sdk.ResponseInputParam{
			sdk.ResponseInputItemParamOfMessage("Weather in Lyon?", sdk.EasyInputMessageRoleUser),
			sdk.ResponseInputItemParamOfFunctionCall(`{"city":"Lyon"}`, "call_1", "weather"),
			{OfFunctionCallOutput: &sdk.ResponseInputItemFunctionCallOutputParam{CallID: openai.String("call_1"),
				Output: sdk.ResponseInputItemFunctionCallOutputOutputUnionParam{OfString: openai.String(`{"celsius":21}`)}}},
		}},
		Tools: []sdk.ToolUnionParam{sdk.ToolParamOfFunction("weather", map[string]any{
			"type": "object", "properties": map[string]any{"city": map[string]any{"type": "string"}}}, true)},
		Text: sdk.ResponseTextConfigParam{Format: sdk.ResponseFormatTextConfigParamOfJSONSchema("answer",
			map[string]any{"type": "object", "properties": map[string]any{"summary": map[string]any{"type": "string"}}})},
		MaxOutputTokens: openai.Int(200),
		Store:           openai.Bool(false),
	}
}

func TestGoSDKPlain(t *testing.T) {
	var c fromChatCase
	readCase(t, "testdata/fromchat/text.json", &c)
	srv := chatServer(t, c.Chat, nil, false)
	client := sdkClient(srv)
	r, err := client.Responses.New(context.Background(), sdkParams())
	if err != nil {
		t.Fatal(err)
	}
	if r.ID != "resp_sdk" || r.OutputText() != `{"city":"Paris"}` || r.Usage.InputTokens != 31 || r.Usage.InputTokensDetails.CachedTokens != 12 {
		t.Errorf("response %s %q %+v", r.ID, r.OutputText(), r.Usage)
	}
}

func TestGoSDKStream(t *testing.T) {
	var c streamCase
	readCase(t, "testdata/stream/tool_calls.json", &c)
	srv := chatServer(t, nil, c.payloads(), false)
	client := sdkClient(srv)
	params := sdkParams()
	stream := client.Responses.NewStreaming(context.Background(), params)
	var text, args string
	var final sdk.Response
	for stream.Next() {
		switch ev := stream.Current().AsAny().(type) {
		case sdk.ResponseTextDeltaEvent:
			text += ev.Delta
		case sdk.ResponseFunctionCallArgumentsDeltaEvent:
			args += ev.Delta
		case sdk.ResponseCompletedEvent:
			final = ev.Response
		}
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	if text != "Checking." || args != `{"city":"Lyon"}{"city":"Nice"}` || final.Usage.TotalTokens != 62 {
		t.Errorf("text %q args %q usage %+v", text, args, final.Usage)
	}
}

// A stream that fails after it started surfaces as the SDK's stream error,
// with the message Custos wrote.
func TestGoSDKStreamFailure(t *testing.T) {
	srv := chatServer(t, nil, [][]byte{[]byte(`{"choices":[{"index":0,"delta":{"content":"par"},"finish_reason":null}]}`)}, true)
	client := sdkClient(srv)
	stream := client.Responses.NewStreaming(context.Background(), sdkParams())
	sawFailed := false
	for stream.Next() {
		if _, ok := stream.Current().AsAny().(sdk.ResponseFailedEvent); ok {
			sawFailed = true
		}
	}
	err := stream.Err()
	if err == nil || !sawFailed {
		t.Fatalf("err %v, response.failed seen %v", err, sawFailed)
	}
	if got := err.Error(); !strings.Contains(got, "the provider's stream ended early") {
		t.Errorf("stream error %q", got)
	}
}
