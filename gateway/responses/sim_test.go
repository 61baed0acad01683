package responses_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	sdk "github.com/openai/openai-go/v3/responses"

	"github.com/custos-gateway/custos/gateway/providertest"
	"github.com/custos-gateway/custos/gateway/responses"
	"github.com/custos-gateway/custos/gateway/sse"
)

// The simulator's Responses route, read by the OpenAI Go SDK and by this
// package's native helpers.

// stored reads the store flag a response object echoes.
func stored(t *testing.T, r *sdk.Response) bool {
	t.Helper()
	var v struct{ Store bool }
	if err := json.Unmarshal([]byte(r.RawJSON()), &v); err != nil {
		t.Fatal(err)
	}
	return v.Store
}

func simClient(url string) openai.Client {
	return openai.NewClient(option.WithBaseURL(url+"/"), option.WithAPIKey("sk-test"), option.WithMaxRetries(0))
}

func TestSimulatorPlain(t *testing.T) {
	sim := providertest.NewOpenAI(t)
	sim.Script(providertest.Behaviour{Reply: "Paris is the capital."})
	client := simClient(sim.URL)
	r, err := client.Responses.New(context.Background(), sdkParams())
	if err != nil {
		t.Fatal(err)
	}
	prompt, completion := providertest.Usage(len(providertest.ReplyChunks("Paris is the capital.")))
	if r.OutputText() != "Paris is the capital." || r.Usage.InputTokens != int64(prompt) || r.Usage.OutputTokens != int64(completion) || stored(t, r) {
		t.Errorf("text %q usage %+v store %v", r.OutputText(), r.Usage, stored(t, r))
	}
	got := sim.Received()
	if len(got) != 1 || got[0].Path != "/v1/responses" || !strings.Contains(string(got[0].Body), `"store":false`) {
		t.Fatalf("received %+v", got)
	}
	if sim.ResponsesStored(r.ID) {
		t.Error("a store:false response was kept")
	}
	raw := []byte(r.RawJSON())
	if u := responses.ReadUsage(raw); u == nil || u.PromptTokens != int64(prompt) || u.CompletionTokens != int64(completion) {
		t.Errorf("ReadUsage of the answer = %+v", u)
	}
}

// readEvents reads a Responses SSE body as events.
func readEvents(t *testing.T, body io.Reader) []responses.Event {
	t.Helper()
	rd := sse.NewReader(body, 1<<20)
	var evs []responses.Event
	for {
		ev, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return evs
		}
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, responses.Event{Name: ev.Event, Data: append([]byte(nil), ev.Data...)})
	}
}

func post(t *testing.T, url, body string) *http.Response {
	t.Helper()
	resp, err := http.Post(url+"/responses", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func TestSimulatorStream(t *testing.T) {
	sim := providertest.NewOpenAI(t)
	const reply = "Hello [PERSON_1], see you."
	sim.Script(providertest.Behaviour{Reply: reply, ChunkBytes: 3})
	resp := post(t, sim.URL, `{"model":"gpt-4.1","input":"hi","stream":true}`)
	evs := readEvents(t, resp.Body)
	final := checkStream(t, evs)
	if final.OutputText() != reply {
		t.Errorf("final text %q", final.OutputText())
	}
	prompt, completion := providertest.Usage((len(reply) + 2) / 3)
	u := responses.ReadUsage(evs[len(evs)-1].Data)
	if u == nil || u.PromptTokens != int64(prompt) || u.CompletionTokens != int64(completion) {
		t.Errorf("usage %+v", u)
	}
	// The pseudonym split across 3-byte deltas comes back whole.
	sess := session(t, "Jane Roe")
	sr := responses.NewStreamRestorer(func() responses.Restorer { return sess.NewRestorer() })
	var out []responses.Event
	for _, ev := range evs {
		out = append(out, sr.Event(ev)...)
	}
	if final := checkStream(t, out); final.OutputText() != "Hello Jane Roe, see you." {
		t.Errorf("restored final text %q", final.OutputText())
	}
}

func TestSimulatorToolCallAndSchema(t *testing.T) {
	sim := providertest.NewOpenAI(t)
	sim.Script(providertest.Behaviour{ToolCall: &providertest.ToolCall{ID: "call_9", Name: "weather", Arguments: `{"city":"Lyon"}`}},
		providertest.Behaviour{ToolCall: &providertest.ToolCall{ID: "call_9", Name: "weather", Arguments: `{"city":"Lyon"}`}})
	client := simClient(sim.URL)
	r, err := client.Responses.New(context.Background(), sdkParams())
	if err != nil {
		t.Fatal(err)
	}
	if fc := r.Output[0].AsFunctionCall(); r.Output[0].Type != "function_call" || fc.CallID != "call_9" || fc.Arguments != `{"city":"Lyon"}` {
		t.Errorf("output %+v", r.Output)
	}
	resp := post(t, sim.URL, `{"model":"m","input":"x","stream":true}`)
	final := checkStream(t, readEvents(t, resp.Body))
	if fc := final.Output[0].AsFunctionCall(); fc.Name != "weather" || fc.Arguments != `{"city":"Lyon"}` {
		t.Errorf("streamed call %+v", fc)
	}
	// No scripted reply: a JSON schema format is answered in its shape.
	r, err = client.Responses.New(context.Background(), sdkParams())
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]string
	if err := json.Unmarshal([]byte(r.OutputText()), &v); err != nil || v["summary"] == "" {
		t.Errorf("schema answer %q", r.OutputText())
	}
}

// A stored response can be continued; one that was not stored cannot,
// and the simulator says so as the API does.
func TestSimulatorPreviousResponse(t *testing.T) {
	sim := providertest.NewOpenAI(t)
	client := simClient(sim.URL)
	first, err := client.Responses.New(context.Background(), sdk.ResponseNewParams{Model: "m",
		Input: sdk.ResponseNewParamsInputUnion{OfString: openai.String("hi")}})
	if err != nil || !stored(t, first) || !sim.ResponsesStored(first.ID) {
		t.Fatalf("first: %v", err)
	}
	next := sdk.ResponseNewParams{Model: "m", PreviousResponseID: openai.String(first.ID),
		Input: sdk.ResponseNewParamsInputUnion{OfString: openai.String("and then?")}}
	if r, err := client.Responses.New(context.Background(), next); err != nil || r.PreviousResponseID != first.ID {
		t.Fatalf("continuation: %v", err)
	}
	next.PreviousResponseID = openai.String("resp_unknown")
	_, err = client.Responses.New(context.Background(), next)
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 400 || apiErr.Code != "previous_response_not_found" {
		t.Fatalf("unknown previous response: %v", err)
	}
}

func TestSimulatorFailures(t *testing.T) {
	sim := providertest.NewOpenAI(t)
	client := simClient(sim.URL)
	sim.Script(providertest.Behaviour{Status: 429, RetryAfter: "2"})
	_, err := client.Responses.New(context.Background(), sdkParams())
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 429 || apiErr.Code != "rate_limit_exceeded" {
		t.Fatalf("429: %v", err)
	}
	resp := post(t, sim.URL, `{"input":"x"}`)
	if b, _ := io.ReadAll(resp.Body); resp.StatusCode != 400 || !strings.Contains(string(b), "Missing required parameter: 'model'.") {
		t.Errorf("no model: %d %s", resp.StatusCode, b)
	}
	sim.RequireKey("sk-right")
	_, err = client.Responses.New(context.Background(), sdkParams())
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 401 {
		t.Fatalf("wrong key: %v", err)
	}
	sim.RequireKey("")
	sim.Script(providertest.Behaviour{DropAfterChunks: 2, Reply: "one two three four"})
	stream := client.Responses.NewStreaming(context.Background(), sdkParams())
	for stream.Next() {
	}
	if stream.Err() == nil {
		t.Error("a dropped stream ended without an error")
	}
	if n := len(sim.Received()); n != 4 {
		t.Errorf("received %d requests, want 4", n)
	}
}

// Every flavor serves /responses under its base URL.
func TestSimulatorFlavors(t *testing.T) {
	for _, f := range []string{providertest.FlavorMistral, providertest.FlavorDeepSeek, providertest.FlavorQwen, providertest.FlavorOpenRouter} {
		sim := providertest.NewProvider(t, f)
		resp := post(t, sim.URL, `{"model":"m","input":"x"}`)
		if resp.StatusCode != 200 {
			t.Errorf("%s: status %d", f, resp.StatusCode)
		}
	}
	az := providertest.NewProvider(t, providertest.FlavorAzure)
	if resp := post(t, az.URL+"/openai/v1", `{"model":"m","input":"x"}`); resp.StatusCode != 200 {
		t.Errorf("azure: status %d", resp.StatusCode)
	}
}
