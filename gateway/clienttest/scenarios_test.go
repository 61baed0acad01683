package clienttest_test

import (
	"github.com/custos-gateway/custos/gateway/providertest"
)

// Prompts and scripted replies. gpt-4o-mini's endpoint may receive health
// data, so its prompts carry a name and an MRN; claude-sonnet-4-5's may not,
// so its prompts carry only a name.
const (
	chartPrompt   = "Please summarise the chart of patient Maria Garcia (MRN 00412345) for the ward round."
	chartReply    = "Summary for [PERSON_1] ([MEDICAL_RECORD_NUMBER_1]) is ready."
	chartRestored = "Summary for Maria Garcia (00412345) is ready."
	notePrompt    = "Please draft a short note for patient Maria Garcia about the ward round."
	noteReply     = "Note for [PERSON_1] drafted."
	noteRestored  = "Note for Maria Garcia drafted."
	wardPrompt    = "How is the cardiology ward today?"
	wardReply     = "The cardiology ward is calm today."
	toolReply     = "Cardiology has three beds free."
	toolArgs      = `{"ward":"cardiology"}`
	schemaReply   = `{"ward":"cardiology","beds_free":3}`
)

// Values the provider must never see.
var planted = []string{"Maria Garcia", "00412345"}

// usageRule says what usage the client must read.
type usageRule int

const (
	usageLast     usageRule = iota // the simulator's numbers for the last reply
	usageSum                       // the sum over every scripted reply (an agent's run)
	usagePositive                  // a count Custos or the provider made: positive input, no output
	usageNone                      // the operation reports none
)

// want is what a scenario asserts beyond what every scenario asserts.
type want struct {
	content  string
	usage    usageRule
	calls    int // HTTP exchanges the library makes with Custos; 0 means 1
	tool     *toolCall
	models   []string // models.list: the ids, in order
	model    string   // models.retrieve: the id
	shape    string   // "anthropic" or "openai": the model objects' shape
	events   []string // stream event types that must occur, in this order
	received []string // must occur in what the model's simulator received
	// simRequests is how many requests the model's simulator must receive;
	// -1 for any number (count_tokens may be answered locally).
	simRequests int
	// noRequestID: the library exposes no request id for this call (the
	// Agents SDK's chat completions model reads none); if it ever shows
	// one, it must be Custos's.
	noRequestID bool
}

// scenario is one library operation against Custos.
type scenario struct {
	script  string // under node/
	op      string // the script's SCENARIO
	model   string
	prompt  string
	replies []providertest.Behaviour // scripted on the model's simulator, in order
	dev     bool                     // against the dev gateway (echo provider)
	want    want
}

// name is the scenario's key in pending: library/operation/model.
func (s scenario) name() string {
	lib := s.script[:len(s.script)-len(".mjs")]
	return lib + "/" + s.op + "/" + s.model
}

func reply(text string) []providertest.Behaviour { return []providertest.Behaviour{{Reply: text}} }

// toolRoundTrip: the model calls get_ward_status, then answers.
func toolRoundTrip() []providertest.Behaviour {
	return []providertest.Behaviour{
		{Reply: "calling", ToolCall: &providertest.ToolCall{ID: "call_ward_1", Name: "get_ward_status", Arguments: toolArgs}},
		{Reply: toolReply},
	}
}

var wardTool = &toolCall{Name: "get_ward_status", Arguments: toolArgs}

var scenarios = []scenario{
	// openai-node
	{script: "openai.mjs", op: "chat.completions", model: gptModel, prompt: chartPrompt, replies: reply(chartReply),
		want: want{content: chartRestored, received: []string{"[PERSON_1]", "[MEDICAL_RECORD_NUMBER_1]"}}},
	{script: "openai.mjs", op: "chat.completions", model: claudeModel, prompt: notePrompt, replies: reply(noteReply),
		want: want{content: noteRestored, received: []string{"[PERSON_1]"}}},
	{script: "openai.mjs", op: "chat.completions.stream", model: gptModel, prompt: chartPrompt, replies: reply(chartReply),
		want: want{content: chartRestored, received: []string{"[PERSON_1]"}}},
	{script: "openai.mjs", op: "models.list", model: gptModel,
		want: want{usage: usageNone, models: []string{claudeModel, gptModel}, shape: "openai"}},
	{script: "openai.mjs", op: "models.retrieve", model: gptModel,
		want: want{usage: usageNone, model: gptModel, shape: "openai"}},
	{script: "openai.mjs", op: "responses.create", model: gptModel, prompt: chartPrompt, replies: reply(chartReply),
		want: want{content: chartRestored, received: []string{"[PERSON_1]", "[MEDICAL_RECORD_NUMBER_1]", "Be brief."}}},
	{script: "openai.mjs", op: "responses.create", model: claudeModel, prompt: notePrompt, replies: reply(noteReply),
		want: want{content: noteRestored, received: []string{"[PERSON_1]", "Be brief."}}},
	{script: "openai.mjs", op: "responses.stream", model: gptModel, prompt: chartPrompt, replies: reply(chartReply),
		want: want{content: chartRestored, events: []string{"response.created", "response.output_text.delta", "response.completed"}}},
	{script: "openai.mjs", op: "responses.stream", model: claudeModel, prompt: wardPrompt, replies: reply(wardReply),
		want: want{content: wardReply, events: []string{"response.created", "response.output_text.delta", "response.completed"}}},
	{script: "openai.mjs", op: "responses.tool", model: gptModel, prompt: wardPrompt, replies: toolRoundTrip(),
		want: want{content: toolReply, calls: 2, tool: wardTool, received: []string{"get_ward_status", "beds_free"}}},
	{script: "openai.mjs", op: "responses.tool", model: claudeModel, prompt: wardPrompt, replies: toolRoundTrip(),
		want: want{content: toolReply, calls: 2, tool: wardTool, received: []string{"get_ward_status", "beds_free"}}},
	{script: "openai.mjs", op: "responses.json_schema", model: gptModel, prompt: wardPrompt, replies: reply(schemaReply),
		want: want{content: schemaReply, received: []string{"ward_status", "beds_free"}}},

	// @anthropic-ai/sdk
	{script: "anthropic.mjs", op: "messages.create", model: claudeModel, prompt: notePrompt, replies: reply(noteReply),
		want: want{content: noteRestored, received: []string{"[PERSON_1]"}}},
	{script: "anthropic.mjs", op: "messages.create", model: gptModel, prompt: chartPrompt, replies: reply(chartReply),
		want: want{content: chartRestored, received: []string{"[PERSON_1]"}}},
	{script: "anthropic.mjs", op: "messages.stream", model: claudeModel, prompt: notePrompt, replies: reply(noteReply),
		want: want{content: noteRestored, received: []string{"[PERSON_1]"}}},
	{script: "anthropic.mjs", op: "messages.stream", model: gptModel, prompt: wardPrompt, replies: reply(wardReply),
		want: want{content: wardReply}},
	{script: "anthropic.mjs", op: "messages.countTokens", model: claudeModel, prompt: notePrompt,
		want: want{usage: usagePositive, simRequests: -1}},
	{script: "anthropic.mjs", op: "models.list", model: claudeModel,
		want: want{usage: usageNone, models: []string{claudeModel, gptModel}, shape: "anthropic"}},
	{script: "anthropic.mjs", op: "models.retrieve", model: claudeModel,
		want: want{usage: usageNone, model: claudeModel, shape: "anthropic"}},

	// The Vercel AI SDK
	{script: "aisdk.mjs", op: "openai.generateText", model: gptModel, prompt: chartPrompt, replies: reply(chartReply),
		want: want{content: chartRestored, received: []string{"[PERSON_1]"}}},
	{script: "aisdk.mjs", op: "openai.streamText", model: gptModel, prompt: wardPrompt, replies: reply(wardReply),
		want: want{content: wardReply}},
	{script: "aisdk.mjs", op: "openai.chat.generateText", model: gptModel, prompt: chartPrompt, replies: reply(chartReply),
		want: want{content: chartRestored, received: []string{"[PERSON_1]"}}},
	{script: "aisdk.mjs", op: "openai.chat.streamText", model: gptModel, prompt: chartPrompt, replies: reply(chartReply),
		want: want{content: chartRestored, received: []string{"[PERSON_1]"}}},
	{script: "aisdk.mjs", op: "anthropic.generateText", model: claudeModel, prompt: notePrompt, replies: reply(noteReply),
		want: want{content: noteRestored, received: []string{"[PERSON_1]"}}},
	{script: "aisdk.mjs", op: "anthropic.streamText", model: claudeModel, prompt: wardPrompt, replies: reply(wardReply),
		want: want{content: wardReply}},

	// The OpenAI Agents SDK
	{script: "agents.mjs", op: "run.tool", model: gptModel, prompt: wardPrompt, replies: toolRoundTrip(),
		want: want{content: toolReply, usage: usageSum, calls: 2, tool: wardTool, received: []string{"get_ward_status", "beds_free"}}},
	{script: "agents.mjs", op: "run.tool.chat", model: gptModel, prompt: wardPrompt, replies: toolRoundTrip(),
		want: want{content: toolReply, usage: usageSum, calls: 2, tool: wardTool, received: []string{"get_ward_status", "beds_free"}, noRequestID: true}},

	// LangChain
	{script: "langchain.mjs", op: "chat.invoke", model: gptModel, prompt: chartPrompt, replies: reply(chartReply),
		want: want{content: chartRestored, received: []string{"[PERSON_1]"}}},
	{script: "langchain.mjs", op: "chat.stream", model: gptModel, prompt: chartPrompt, replies: reply(chartReply),
		want: want{content: chartRestored, received: []string{"[PERSON_1]"}}},
	{script: "langchain.mjs", op: "responses.invoke", model: gptModel, prompt: chartPrompt, replies: reply(chartReply),
		want: want{content: chartRestored, received: []string{"[PERSON_1]"}}},

	// openai-node on serve --dev: three calls, the first two of which the
	// provider sees alike ("Contact [EMAIL_1] today.").
	{script: "openai.mjs", op: "embeddings.create", model: "echo", dev: true,
		prompt: `[["Contact maria.garcia@example.com today."],["Contact john.smith@example.org today."],["Nothing personal here."]]`,
		want:   want{usage: usagePositive, calls: 3}},
}
