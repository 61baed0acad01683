package gateway

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/gin-gonic/gin"

	"github.com/custos-gateway/custos/gateway/openai"
)

// embedRequest is a /v1/embeddings body. Its input strings go through the
// same inspect, decide and redact stages as chat messages: they are carried
// as user messages of a chat request for the pipeline, then put back.
type embedRequest struct {
	raw      map[string]json.RawMessage
	single   bool // input was one string, not an array
	tokenIDs bool // input was token ids: nothing Custos can read
}

// parseEmbeddings turns an embeddings body into the pipeline's form.
func parseEmbeddings(body []byte) (*embedRequest, *openai.ChatRequest, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil || raw == nil {
		return nil, nil, &openai.RequestError{Code: "invalid_json", Msg: "request body must be a JSON object"}
	}
	e := &embedRequest{raw: raw}
	var model string
	if err := json.Unmarshal(raw["model"], &model); err != nil || model == "" {
		return nil, nil, &openai.RequestError{Code: "missing_model", Param: "model", Msg: "you must provide a model parameter"}
	}
	var inputs []string
	in := raw["input"]
	var one string
	switch {
	case len(in) == 0:
		return nil, nil, &openai.RequestError{Code: "invalid_request", Param: "input", Msg: "you must provide an input parameter"}
	case json.Unmarshal(in, &one) == nil:
		inputs, e.single = []string{one}, true
	case json.Unmarshal(in, &inputs) == nil:
	default:
		// Token ids (arrays of integers) cannot be inspected.
		e.tokenIDs = true
	}
	msgs := make([]map[string]any, 0, len(inputs)+1)
	for _, s := range inputs {
		msgs = append(msgs, map[string]any{"role": "user", "content": s})
	}
	if e.tokenIDs {
		msgs = append(msgs, map[string]any{"role": "user", "content": []any{map[string]any{"type": "token_ids"}}})
	}
	chat, _ := json.Marshal(map[string]any{"model": model, "messages": msgs})
	req, err := openai.ParseChatRequest(chat)
	if err != nil {
		return nil, nil, err
	}
	return e, req, nil
}

// body rebuilds the embeddings body with the (redacted) inputs.
func (e *embedRequest) body(req *openai.ChatRequest) ([]byte, error) {
	if e.tokenIDs {
		return nil, errors.New("gateway: token-id input cannot be forwarded uninspected")
	}
	var msgs []struct {
		Content string `json:"content"`
	}
	if err := json.Unmarshal(req.Raw["messages"], &msgs); err != nil {
		return nil, fmt.Errorf("gateway: rebuilding embeddings input: %w", err)
	}
	var input any
	if e.single && len(msgs) == 1 {
		input = msgs[0].Content
	} else {
		list := make([]string, len(msgs))
		for i, m := range msgs {
			list[i] = m.Content
		}
		input = list
	}
	b, err := json.Marshal(input)
	if err != nil {
		return nil, err
	}
	out := make(map[string]json.RawMessage, len(e.raw))
	for k, v := range e.raw {
		out[k] = v
	}
	out["input"] = b
	return json.Marshal(out)
}

// policyRoute names the API the request uses, for the policy input.
func (ex *exchange) policyRoute() string {
	if ex.embed != nil {
		return "embeddings"
	}
	return "chat.completions"
}

// embeddings serves POST /v1/embeddings in the OpenAI dialect.
func (s *Server) embeddings(c *gin.Context) {
	s.serveModelRequest(c, dialectOpenAI, func(ex *exchange, body []byte) error {
		var err error
		ex.embed, ex.req, err = parseEmbeddings(body)
		return err
	})
}
