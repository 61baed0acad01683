package responses

import (
	"fmt"

	"github.com/custos-gateway/custos/gateway/jsondoc"
)

// chatMessages translates instructions and input into chat messages, in
// order. An assistant turn the Responses API splits into a message item and
// function call items becomes one assistant message with tool_calls.
func chatMessages(req *Request) (*jsondoc.Value, error) {
	c := &conv{msgs: &jsondoc.Value{Kind: jsondoc.Array}}
	if ins := req.Doc.Get("instructions"); req.Instructions {
		c.add(message("system", ins))
	}
	in := req.Doc.Get("input")
	switch {
	case in.IsNull():
		return c.msgs, nil
	case in.Kind == jsondoc.String:
		c.add(message("user", in))
		return c.msgs, nil
	}
	for i, m := range in.Kids {
		if err := c.item(m.Value, fmt.Sprintf("input[%d]", i)); err != nil {
			return nil, err
		}
	}
	return c.msgs, nil
}

// conv is the chat conversation being built.
type conv struct {
	msgs *jsondoc.Value
	// turn is the open assistant message that function calls join, or nil.
	turn *jsondoc.Value
}

func (c *conv) add(m *jsondoc.Value) {
	c.msgs.Kids = append(c.msgs.Kids, jsondoc.Member{Value: m})
	c.turn = nil
}

func message(role string, content *jsondoc.Value) *jsondoc.Value {
	return jsondoc.NewObject(
		jsondoc.Member{Key: "role", Value: jsondoc.NewString(role)},
		jsondoc.Member{Key: "content", Value: content})
}

// item translates one input item at path p.
func (c *conv) item(item *jsondoc.Value, p string) error {
	typ, _ := itemType(item)
	switch typ {
	case "message":
		return c.message(item, p)
	case "function_call":
		c.functionCall(item)
		return nil
	case "function_call_output":
		out, err := toolContent(item.Get("output"), p+".output")
		if err != nil {
			return err
		}
		c.add(jsondoc.NewObject(
			jsondoc.Member{Key: "role", Value: jsondoc.NewString("tool")},
			jsondoc.Member{Key: "tool_call_id", Value: item.Get("call_id")},
			jsondoc.Member{Key: "content", Value: out}))
		return nil
	case "reasoning":
		return nil // the model's earlier reasoning: chat has no place for it
	case "item_reference":
		return untranslatable(p, "an item stored by the provider cannot be resolved by a chat endpoint")
	}
	return untranslatable(p+".type", "input item type "+typ+" is not available on this endpoint")
}

// message translates a message item. Developer messages become system
// messages, which every chat endpoint takes.
func (c *conv) message(item *jsondoc.Value, p string) error {
	role, _ := item.Get("role").Text()
	content := item.Get("content")
	if content.Kind == jsondoc.Array {
		var err error
		if content, err = chatParts(content, role, p+".content"); err != nil {
			return err
		}
	}
	switch role {
	case "developer":
		role = "system"
	case "assistant":
		m := message("assistant", content)
		c.add(m)
		c.turn = m
		return nil
	}
	c.add(message(role, content))
	return nil
}

// functionCall adds a tool call to the open assistant turn, opening one
// (with no content) when there is none.
func (c *conv) functionCall(item *jsondoc.Value) {
	call := jsondoc.NewObject(
		jsondoc.Member{Key: "id", Value: item.Get("call_id")},
		jsondoc.Member{Key: "type", Value: jsondoc.NewString("function")},
		jsondoc.Member{Key: "function", Value: jsondoc.NewObject(
			jsondoc.Member{Key: "name", Value: item.Get("name")},
			jsondoc.Member{Key: "arguments", Value: item.Get("arguments")})})
	if c.turn == nil {
		m := message("assistant", &jsondoc.Value{Kind: jsondoc.Null})
		c.add(m)
		c.turn = m
	}
	calls := c.turn.Get("tool_calls")
	if calls == nil {
		calls = &jsondoc.Value{Kind: jsondoc.Array}
		c.turn.Set("tool_calls", calls)
	}
	calls.Kids = append(calls.Kids, jsondoc.Member{Value: call})
}

// chatParts translates content parts for a message of role: text parts
// (an earlier refusal becomes text), images by URL, inline files and audio.
// System messages take text only; files and images kept by the provider
// cannot be resolved elsewhere.
func chatParts(parts *jsondoc.Value, role, p string) (*jsondoc.Value, error) {
	out := &jsondoc.Value{Kind: jsondoc.Array}
	for j, m := range parts.Kids {
		pp := fmt.Sprintf("%s[%d]", p, j)
		part, err := chatPart(m.Value, pp)
		if err != nil {
			return nil, err
		}
		if typ, _ := part.Get("type").Text(); typ != "text" && (role == "system" || role == "developer") {
			return nil, untranslatable(pp, "a system message on this endpoint takes text only")
		}
		out.Kids = append(out.Kids, jsondoc.Member{Value: part})
	}
	return out, nil
}

func chatPart(part *jsondoc.Value, p string) (*jsondoc.Value, error) {
	typ, _ := part.Get("type").Text()
	switch typ {
	case "input_text", "output_text":
		return textPart(part.Get("text")), nil
	case "refusal":
		return textPart(part.Get("refusal")), nil
	case "input_image":
		if !nonEmpty(part, "image_url") {
			return nil, untranslatable(p, "an image kept by the provider (file_id) cannot be resolved by this endpoint")
		}
		img := jsondoc.NewObject(jsondoc.Member{Key: "url", Value: part.Get("image_url")})
		if d := part.Get("detail"); !d.IsNull() && d.Str != "original" {
			img.Set("detail", d)
		}
		return typed("image_url", img), nil
	case "input_file":
		if !nonEmpty(part, "file_data") {
			return nil, untranslatable(p, "a file by id or URL cannot be resolved by this endpoint; send file_data")
		}
		file := jsondoc.NewObject(jsondoc.Member{Key: "file_data", Value: part.Get("file_data")})
		if fn := part.Get("filename"); !fn.IsNull() {
			file.Set("filename", fn)
		}
		return typed("file", file), nil
	}
	// input_audio: chat's part has the same shape.
	return typed("input_audio", part.Get("input_audio")), nil
}

// toolContent translates a function call output: a string, or text parts.
func toolContent(out *jsondoc.Value, p string) (*jsondoc.Value, error) {
	if out.Kind == jsondoc.String {
		return out, nil
	}
	parts := &jsondoc.Value{Kind: jsondoc.Array}
	for j, m := range out.Kids {
		if typ, _ := m.Value.Get("type").Text(); typ != "input_text" {
			return nil, untranslatable(fmt.Sprintf("%s[%d]", p, j), "a tool output on this endpoint takes text only")
		}
		parts.Kids = append(parts.Kids, jsondoc.Member{Value: textPart(m.Value.Get("text"))})
	}
	return parts, nil
}

func textPart(text *jsondoc.Value) *jsondoc.Value {
	return typed("text", text)
}

// typed is a chat content part {"type": typ, typ: body}.
func typed(typ string, body *jsondoc.Value) *jsondoc.Value {
	return jsondoc.NewObject(
		jsondoc.Member{Key: "type", Value: jsondoc.NewString(typ)},
		jsondoc.Member{Key: typ, Value: body})
}

func nonEmpty(obj *jsondoc.Value, field string) bool {
	s, ok := obj.Get(field).Text()
	return ok && s != ""
}
