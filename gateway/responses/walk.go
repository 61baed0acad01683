package responses

import "github.com/custos-gateway/custos/gateway/jsondoc"

// MediaTypes are the part and output types that carry content Custos cannot
// read as text (an image, a file, audio, a screenshot): each is counted
// uninspectable, its other strings still scanned.
var MediaTypes = []string{"input_image", "input_file", "input_audio", "computer_screenshot"}

// Rules tell the walker what a Responses request's fields are. Every field
// not named here, known or not, is inspected as text.
var Rules = jsondoc.Rules{
	Embedded: []jsondoc.Pattern{
		jsondoc.P("input[].arguments"), // function_call: a JSON document
		jsondoc.P("input[].output"),    // function_call_output: often JSON; plain text when not
	},
	Opaque: []jsondoc.Pattern{
		jsondoc.P("input[].encrypted_content"), // reasoning and compaction: readable by the provider only
		jsondoc.P("input[].content[].file_data"),
		jsondoc.P("input[].content[].input_audio.data"),
		jsondoc.P("input[].output[].file_data"),
	},
	Media:      []jsondoc.Pattern{jsondoc.P("input[].content[]"), jsondoc.P("input[].output[]"), jsondoc.P("input[].output")},
	MediaTypes: MediaTypes,
	Joined:     []jsondoc.Pattern{jsondoc.P("input[].content"), jsondoc.P("input[].output"), jsondoc.P("input[].summary")},
	Fields:     requestFields,
	Enums:      requestEnums,
	Settings:   jsondoc.Ps("temperature", "top_p", "max_output_tokens", "max_tool_calls", "top_logprobs"),
}

var topFields = []string{
	"background", "context_management", "conversation", "include", "input", "instructions", "max_output_tokens",
	"max_tool_calls", "metadata", "model", "moderation", "parallel_tool_calls", "previous_response_id", "prompt",
	"prompt_cache_key", "prompt_cache_options", "prompt_cache_retention", "reasoning", "safety_identifier",
	"service_tier", "store", "stream", "stream_options", "temperature", "text", "tool_choice", "tools",
	"top_logprobs", "top_p", "truncation", "user",
}

// itemFields is the union of the members of the item types.
var itemFields = []string{
	"type", "role", "content", "status", "id", "phase", "call_id", "name", "arguments", "output", "caller",
	"namespace", "summary", "encrypted_content", "action", "pending_safety_checks", "acknowledged_safety_checks",
	"queries", "results", "server_label", "approval_request_id", "approve", "reason", "error", "input", "tools",
	"created_by",
}

var partFields = []string{
	"type", "text", "refusal", "annotations", "logprobs", "image_url", "file_id", "file_data", "file_url",
	"filename", "detail", "input_audio", "prompt_cache_breakpoint",
}

var requestFields = []jsondoc.FieldSet{
	{At: jsondoc.P(""), Names: topFields},
	{At: jsondoc.P("input[]"), Names: itemFields},
	{At: jsondoc.P("input[].content[]"), Names: partFields},
	{At: jsondoc.P("input[].output[]"), Names: partFields},
	{At: jsondoc.P("input[].summary[]"), Names: []string{"type", "text"}},
	{At: jsondoc.P("input[].content[].input_audio"), Names: []string{"data", "format"}},
	{At: jsondoc.P("input[].content[].annotations[]"), Names: []string{"type", "file_id", "filename", "index", "url",
		"title", "start_index", "end_index", "container_id"}},
	{At: jsondoc.P("tools[]"), Names: []string{"type", "name", "description", "parameters", "strict", "defer_loading",
		"output_schema", "allowed_callers", "format"}},
	{At: jsondoc.P("text"), Names: []string{"format", "verbosity"}},
	{At: jsondoc.P("text.format"), Names: []string{"type", "name", "schema", "description", "strict"}},
	{At: jsondoc.P("reasoning"), Names: []string{"effort", "summary", "generate_summary", "context", "mode"}},
	{At: jsondoc.P("tool_choice"), Names: []string{"type", "name", "mode", "tools", "server_label"}},
	{At: jsondoc.P("stream_options"), Names: []string{"include_obfuscation"}},
	{At: jsondoc.P("prompt"), Names: []string{"id", "version", "variables"}},
	{At: jsondoc.P("conversation"), Names: []string{"id"}},
}

var toolTypes = []string{
	"function", "file_search", "computer", "computer_use_preview", "web_search", "web_search_2025_08_26",
	"web_search_preview", "web_search_preview_2025_03_11", "mcp", "code_interpreter", "programmatic_tool_calling",
	"image_generation", "local_shell", "shell", "custom", "namespace", "tool_search", "apply_patch",
}

var requestEnums = []jsondoc.FieldSet{
	{At: jsondoc.P("input[].role"), Names: roles},
	{At: jsondoc.P("input[].type"), Names: itemTypes},
	{At: jsondoc.P("input[].status"), Names: []string{"in_progress", "completed", "incomplete"}},
	{At: jsondoc.P("input[].phase"), Names: []string{"commentary", "final_answer"}},
	{At: jsondoc.P("input[].content[].type"), Names: []string{"input_text", "input_image", "input_file", "input_audio",
		"output_text", "refusal", "reasoning_text"}},
	{At: jsondoc.P("input[].content[].detail"), Names: []string{"auto", "low", "high", "original"}},
	{At: jsondoc.P("input[].content[].input_audio.format"), Names: []string{"mp3", "wav"}},
	{At: jsondoc.P("input[].content[].annotations[].type"), Names: []string{"file_citation", "url_citation",
		"container_file_citation", "file_path"}},
	{At: jsondoc.P("input[].output[].type"), Names: outputPart},
	{At: jsondoc.P("input[].output[].detail"), Names: []string{"auto", "low", "high", "original"}},
	{At: jsondoc.P("input[].summary[].type"), Names: []string{"summary_text"}},
	{At: jsondoc.P("tools[].type"), Names: toolTypes},
	{At: jsondoc.P("text.format.type"), Names: formatTypes},
	{At: jsondoc.P("text.verbosity"), Names: []string{"low", "medium", "high"}},
	{At: jsondoc.P("reasoning.effort"), Names: efforts},
	{At: jsondoc.P("reasoning.summary"), Names: []string{"auto", "concise", "detailed"}},
	{At: jsondoc.P("reasoning.generate_summary"), Names: []string{"auto", "concise", "detailed"}},
	{At: jsondoc.P("tool_choice"), Names: []string{"auto", "none", "required"}},
	{At: jsondoc.P("tool_choice.type"), Names: append([]string{"allowed_tools"}, toolTypes...)},
	{At: jsondoc.P("tool_choice.mode"), Names: []string{"auto", "required"}},
	{At: jsondoc.P("truncation"), Names: []string{"auto", "disabled"}},
	{At: jsondoc.P("service_tier"), Names: []string{"auto", "default", "flex", "scale", "priority"}},
	{At: jsondoc.P("prompt_cache_retention"), Names: []string{"in_memory", "24h"}},
	{At: jsondoc.P("include[]"), Names: []string{"file_search_call.results", "web_search_call.results",
		"web_search_call.action.sources", "message.input_image.image_url", "computer_call_output.output.image_url",
		"code_interpreter_call.outputs", "reasoning.encrypted_content", "message.output_text.logprobs"}},
}

// AnswerRules walk a response object (a native answer, or the snapshot in
// a lifecycle event) for restoration: function call arguments are JSON
// documents, restored value by value so that they stay valid JSON.
var AnswerRules = jsondoc.Rules{Embedded: []jsondoc.Pattern{jsondoc.P("**.arguments")}}
