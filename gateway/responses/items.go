package responses

import (
	"fmt"
	"slices"

	"github.com/custos-gateway/custos/gateway/jsondoc"
	"github.com/custos-gateway/custos/gateway/openai"
)

// itemTypes are the input item types the Responses API defines. Items of
// the types FromDoc does not check further (built-in tool calls and their
// outputs) still pass to native endpoints, every field inspected; ToChat
// refuses them.
var itemTypes = []string{
	"message", "function_call", "function_call_output", "reasoning", "item_reference",
	"file_search_call", "computer_call", "computer_call_output", "web_search_call", "tool_search_call",
	"tool_search_output", "additional_tools", "compaction", "compaction_trigger", "image_generation_call",
	"code_interpreter_call", "local_shell_call", "local_shell_call_output", "shell_call", "shell_call_output",
	"apply_patch_call", "apply_patch_call_output", "mcp_list_tools", "mcp_approval_request",
	"mcp_approval_response", "mcp_call", "custom_tool_call", "custom_tool_call_output", "program", "program_output",
}

// roles are the message roles; partTypes the content part types each takes.
var (
	roles     = []string{"user", "system", "developer", "assistant"}
	inputPart = []string{"input_text", "input_image", "input_file", "input_audio"}
	partTypes = map[string][]string{
		"user": inputPart, "system": inputPart, "developer": inputPart,
		"assistant": {"output_text", "refusal", "input_text"},
	}
	outputPart = []string{"input_text", "input_image", "input_file"}
)

// readInput checks input: a string, or an array of items. It is required
// unless the request continues provider-side state.
func readInput(r *Request) error {
	in := r.Doc.Get("input")
	switch {
	case in.IsNull():
		if r.PreviousResponseID == "" && !r.Conversation && !r.Prompt {
			return &openai.RequestError{Code: "missing_input", Param: "input", Msg: "you must provide an input parameter"}
		}
		return nil
	case in.Kind == jsondoc.String:
		r.Items = 1
		return nil
	case in.Kind != jsondoc.Array:
		return invalid("input", "input must be a string or an array of input items")
	}
	r.Items = len(in.Kids)
	if r.Items == 0 && r.PreviousResponseID == "" && !r.Conversation && !r.Prompt {
		return invalid("input", "input must hold at least one item")
	}
	for i, m := range in.Kids {
		if err := checkItem(r, m.Value, fmt.Sprintf("input[%d]", i)); err != nil {
			return err
		}
	}
	return nil
}

// itemType is an item's type; an item without one is a message when it has
// a role, else an item reference.
func itemType(item *jsondoc.Value) (string, bool) {
	if t := item.Get("type"); !t.IsNull() {
		return t.Text()
	}
	if item.Get("role") != nil {
		return "message", true
	}
	return "item_reference", true
}

// checkItem checks one input item at path p.
func checkItem(r *Request, item *jsondoc.Value, p string) error {
	if item.Kind != jsondoc.Object {
		return invalid(p, p+" must be an object")
	}
	typ, ok := itemType(item)
	if !ok || !slices.Contains(itemTypes, typ) {
		return invalid(p+".type", p+".type is not a known input item type")
	}
	switch typ {
	case "message":
		return checkMessage(item, p)
	case "function_call":
		return checkFunctionCall(item, p)
	case "function_call_output":
		if err := requireString(item, p, "call_id"); err != nil {
			return err
		}
		return checkOutput(item.Get("output"), p+".output")
	case "reasoning":
		return checkReasoning(item, p)
	case "item_reference":
		if err := requireString(item, p, "id"); err != nil {
			return err
		}
		r.ItemReferences++
	}
	return nil
}

// checkMessage checks a message: a known role, and content a string or
// parts of the types the role takes.
func checkMessage(item *jsondoc.Value, p string) error {
	role, ok := item.Get("role").Text()
	if !ok || !slices.Contains(roles, role) {
		return invalid(p+".role", p+".role must be one of user, system, developer, assistant")
	}
	c := item.Get("content")
	switch {
	case c == nil:
		return invalid(p+".content", p+".content is required")
	case c.Kind == jsondoc.String:
		return nil
	case c.Kind != jsondoc.Array:
		return invalid(p+".content", p+".content must be a string or an array of content parts")
	}
	for j, m := range c.Kids {
		if err := checkPart(m.Value, fmt.Sprintf("%s.content[%d]", p, j), partTypes[role]); err != nil {
			return err
		}
	}
	return nil
}

// checkPart checks one content part against the types allowed there.
func checkPart(part *jsondoc.Value, p string, allowed []string) error {
	typ, ok := part.Get("type").Text()
	if part.Kind != jsondoc.Object || !ok || !slices.Contains(allowed, typ) {
		return invalid(p+".type", fmt.Sprintf("%s.type must be one of %v here", p, allowed))
	}
	switch typ {
	case "input_text", "output_text":
		return requireText(part, p, "text")
	case "refusal":
		return requireText(part, p, "refusal")
	case "input_image":
		return requireOneOf(part, p, "image_url", "file_id")
	case "input_file":
		return requireOneOf(part, p, "file_data", "file_id", "file_url")
	case "input_audio":
		if a := part.Get("input_audio"); a == nil || a.Kind != jsondoc.Object {
			return invalid(p+".input_audio", p+".input_audio must be an object")
		}
	}
	return nil
}

// checkFunctionCall checks a function call item: call_id and name, and
// arguments a string (a JSON document, inspected as one).
func checkFunctionCall(item *jsondoc.Value, p string) error {
	if err := requireString(item, p, "call_id"); err != nil {
		return err
	}
	if err := requireString(item, p, "name"); err != nil {
		return err
	}
	return requireText(item, p, "arguments")
}

// checkOutput checks a function call output: a string or parts.
func checkOutput(out *jsondoc.Value, p string) error {
	switch {
	case out == nil:
		return invalid(p, p+" is required")
	case out.Kind == jsondoc.String:
		return nil
	case out.Kind != jsondoc.Array:
		return invalid(p, p+" must be a string or an array of content parts")
	}
	for j, m := range out.Kids {
		if err := checkPart(m.Value, fmt.Sprintf("%s[%d]", p, j), outputPart); err != nil {
			return err
		}
	}
	return nil
}

// checkReasoning checks a reasoning item's summary and content texts and
// its encrypted content.
func checkReasoning(item *jsondoc.Value, p string) error {
	for _, f := range []string{"summary", "content"} {
		v := item.Get(f)
		if v.IsNull() {
			continue
		}
		if v.Kind != jsondoc.Array {
			return invalid(p+"."+f, p+"."+f+" must be an array")
		}
		for j, m := range v.Kids {
			if m.Value.Kind != jsondoc.Object {
				return invalid(fmt.Sprintf("%s.%s[%d]", p, f, j), "reasoning parts must be objects")
			}
			if err := requireText(m.Value, fmt.Sprintf("%s.%s[%d]", p, f, j), "text"); err != nil {
				return err
			}
		}
	}
	if e := item.Get("encrypted_content"); !e.IsNull() && e.Kind != jsondoc.String {
		return invalid(p+".encrypted_content", p+".encrypted_content must be a string")
	}
	return nil
}

// requireString requires a non-empty string member.
func requireString(obj *jsondoc.Value, p, field string) error {
	if s, ok := obj.Get(field).Text(); !ok || s == "" {
		return invalid(p+"."+field, p+"."+field+" is required")
	}
	return nil
}

// requireText requires a string member, which may be empty.
func requireText(obj *jsondoc.Value, p, field string) error {
	if _, ok := obj.Get(field).Text(); !ok {
		return invalid(p+"."+field, p+"."+field+" must be a string")
	}
	return nil
}

// requireOneOf requires at least one of the string members.
func requireOneOf(obj *jsondoc.Value, p string, fields ...string) error {
	for _, f := range fields {
		if s, ok := obj.Get(f).Text(); ok && s != "" {
			return nil
		}
	}
	return invalid(p, fmt.Sprintf("%s needs one of %v", p, fields))
}
