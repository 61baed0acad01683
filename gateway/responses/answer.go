package responses

import (
	"encoding/json"
	"errors"
)

// ErrNotChat means an answer is not a chat completion.
var ErrNotChat = errors.New("responses: the answer is not a chat completion")

// chatAnswer is the part of a chat completion FromChat reads.
type chatAnswer struct {
	Choices []struct {
		Message struct {
			Content   *string `json:"content"`
			Refusal   *string `json:"refusal"`
			ToolCalls []struct {
				ID       string `json:"id"`
				Function struct {
					Name      string `json:"name"`
					Arguments string `json:"arguments"`
				} `json:"function"`
			} `json:"tool_calls"`
		} `json:"message"`
		FinishReason string `json:"finish_reason"`
	} `json:"choices"`
	Usage *chatUsage `json:"usage"`
}

// FromChat turns a chat completion (the answer of an endpoint ToChat
// translated for) into a response object with the given id (resp_...) and
// creation time: a message item with the text (and refusal), then a
// function_call item per tool call, the provider's usage, and the request's
// settings echoed as the API does.
func FromChat(chat []byte, req *Request, id string, created int64) ([]byte, error) {
	var c chatAnswer
	if err := json.Unmarshal(chat, &c); err != nil || len(c.Choices) == 0 {
		return nil, ErrNotChat
	}
	ch := c.Choices[0]
	status, incomplete := finishStatus(ch.FinishReason)
	var output, parts [][]byte
	if t := ch.Message.Content; t != nil && *t != "" {
		parts = append(parts, textPartJSON(*t))
	}
	if r := ch.Message.Refusal; r != nil && *r != "" {
		parts = append(parts, refusalPartJSON(*r))
	}
	if len(parts) > 0 {
		output = append(output, messageItem(itemID("msg_", id, 0), status, parts))
	}
	for _, tc := range ch.Message.ToolCalls {
		output = append(output, functionCallItem(itemID("fc_", id, len(output)), status, tc.ID,
			tc.Function.Name, tc.Function.Arguments))
	}
	return responseObject(req, &answer{id: id, created: created, status: status, incomplete: incomplete,
		output: output, usage: usageJSON(c.Usage)}), nil
}
