package openai

import "github.com/custos-gateway/custos/gateway/jsondoc"

// MediaTypes are the content part types that carry content Custos cannot
// read as text.
var MediaTypes = []string{"image_url", "input_audio", "file", "input_image", "input_file", "image", "audio", "document"}

// ChatRules tell the walker what chat completions fields are. Every field
// not named here, known or not, is inspected as text.
var ChatRules = jsondoc.Rules{
	Embedded: []jsondoc.Pattern{
		jsondoc.P("messages[].tool_calls[].function.arguments"),
		jsondoc.P("messages[].function_call.arguments"),
	},
	Opaque: []jsondoc.Pattern{
		jsondoc.P("messages[].content[].input_audio.data"),
		jsondoc.P("messages[].content[].file.file_data"),
	},
	Media:      []jsondoc.Pattern{jsondoc.P("messages[].content[]")},
	MediaTypes: MediaTypes,
	Joined:     []jsondoc.Pattern{jsondoc.P("messages[].content")},
	Fields: []jsondoc.FieldSet{
		{At: jsondoc.P(""), Names: chatFields},
		{At: jsondoc.P("messages[]"), Names: []string{"role", "content", "name", "tool_calls", "tool_call_id", "function_call", "refusal", "audio"}},
		{At: jsondoc.P("messages[].content[]"), Names: []string{"type", "text", "image_url", "input_audio", "file", "refusal"}},
		{At: jsondoc.P("messages[].tool_calls[]"), Names: []string{"id", "type", "function"}},
		{At: jsondoc.P("messages[].tool_calls[].function"), Names: []string{"name", "arguments"}},
		{At: jsondoc.P("tools[]"), Names: []string{"type", "function"}},
		{At: jsondoc.P("tools[].function"), Names: []string{"name", "description", "parameters", "strict"}},
		{At: jsondoc.P("stream_options"), Names: streamOptionsFields},
	},
	Enums: []jsondoc.FieldSet{
		{At: jsondoc.P("messages[].role"), Names: []string{"system", "developer", "user", "assistant", "tool", "function"}},
		{At: jsondoc.P("messages[].content[].type"), Names: []string{"text", "image_url", "input_audio", "file", "refusal"}},
		{At: jsondoc.P("messages[].tool_calls[].type"), Names: []string{"function"}},
		{At: jsondoc.P("tools[].type"), Names: []string{"function"}},
	},
	Settings: jsondoc.Ps("temperature", "top_p", "max_tokens", "max_completion_tokens", "n", "top_logprobs",
		"presence_penalty", "frequency_penalty", "seed"),
}

var streamOptionsFields = []string{"include_usage"}

var chatFields = []string{
	"model", "messages", "stream", "stream_options", "tools", "tool_choice", "temperature", "top_p", "max_tokens",
	"max_completion_tokens", "n", "stop", "user", "metadata", "response_format", "seed", "logprobs", "top_logprobs",
	"presence_penalty", "frequency_penalty", "logit_bias", "parallel_tool_calls", "prediction", "store",
	"reasoning_effort", "service_tier", "modalities", "audio", "functions", "function_call", "web_search_options",
	"prompt_cache_key", "safety_identifier", "verbosity",
}

// EmbeddingsRules are the embeddings fields the walker treats specially.
var EmbeddingsRules = jsondoc.Rules{
	Fields:   []jsondoc.FieldSet{{At: jsondoc.P(""), Names: []string{"model", "input", "encoding_format", "dimensions", "user"}}},
	Settings: jsondoc.Ps("dimensions"),
}
