package tokens

// Message is one message of a request as the counter sees it.
type Message struct {
	Role  string
	Name  string   // the optional participant name
	Texts []string // every text the message carries: content or content parts, tool call ids, function names and arguments
}

// Prompt is every text a request sends to the model.
type Prompt struct {
	Messages []Message
	Tools    []string // each tool or function definition as sent (name, description, parameters JSON)
	Texts    []string // text outside messages: a top-level system prompt, embedding inputs, a legacy prompt
}

// Overheads of the OpenAI chat format, from the OpenAI cookbook's
// num_tokens_from_messages (gpt-3.5-turbo-0613 and later, gpt-4, gpt-4o):
// each message is framed by 3 tokens, a name costs 1 more, and the reply
// is primed with 3. Tools follow the cookbook's function counting in
// outline: 7 per function, 12 once, with the definition's text counted
// whole (a slight overcount of its JSON punctuation).
const (
	perMessage = 3
	perName    = 1
	perReply   = 3
	perTool    = 7
	toolsEnd   = 12
)

// Prompt counts a request's prompt for model: every text field plus the
// chat format's overheads. Images, audio and files are not counted. For a
// Proxy model the overheads are those of the OpenAI format too.
func (c *Counter) Prompt(model string, p Prompt) Count {
	t := c.tally(model)
	var overhead int64
	for _, m := range p.Messages {
		overhead += perMessage
		t.add(m.Role)
		if m.Name != "" {
			overhead += perName
			t.add(m.Name)
		}
		for _, s := range m.Texts {
			t.add(s)
		}
	}
	if len(p.Messages) > 0 {
		overhead += perReply
	}
	for _, s := range p.Tools {
		overhead += perTool
		t.add(s)
	}
	if len(p.Tools) > 0 {
		overhead += toolsEnd
	}
	for _, s := range p.Texts {
		t.add(s)
	}
	out := t.count()
	out.Tokens += overhead
	return out
}
