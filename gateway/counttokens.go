package gateway

import (
	"net/http"
	"sync"

	"github.com/gin-gonic/gin"

	"github.com/custos-gateway/custos/gateway/anthropic"
	"github.com/custos-gateway/custos/gateway/jsondoc"
	"github.com/custos-gateway/custos/gateway/openai"
	"github.com/custos-gateway/custos/gateway/tokens"
)

// countTokens serves POST /v1/messages/count_tokens: the request is
// inspected and decided like a message (its text may carry PII, and the
// policy may refuse the model), then counted by the local tokenizer; nothing
// leaves Custos. The count is an estimate (x-custos-token-count: estimate).
func (s *Server) countTokens(c *gin.Context, ex *exchange) error {
	body, err := s.readJSONBody(c)
	if err != nil {
		return err
	}
	if ex.req, err = parseCountTokens(body, s.jsonLimits); err != nil {
		return err
	}
	if !s.catalog.Known(ex.req.model) {
		return &unknownModelError{model: ex.req.model}
	}
	ex.stage(stageInspect)
	if ex.insp, err = s.inspect(ex.caller, ex.req); err != nil {
		return err
	}
	ex.stage(stageDecide)
	if ex.dec, err = s.decide(c.Request.Context(), ex); err != nil {
		return err
	}
	counter, err := s.tokenCounter()
	if err != nil {
		return err
	}
	n := counter.Prompt(ex.req.model, promptOf(ex.req.doc))
	ex.ans.usage = &openai.Usage{PromptTokens: int64(n.Tokens)}
	ex.ans.status = http.StatusOK
	c.Header("x-custos-token-count", "estimate")
	c.JSON(http.StatusOK, gin.H{"input_tokens": n.Tokens})
	return nil
}

func parseCountTokens(body []byte, lim jsondoc.Limits) (*modelRequest, error) {
	chat, err := anthropic.ParseCountTokens(body)
	if err != nil {
		return nil, err
	}
	doc, err := jsondoc.Parse(chat, lim)
	if err != nil {
		return nil, openai.ParseError(err)
	}
	return chatRequest(doc)
}

// tokenCounter loads the tokenizer's vocabularies on first use (tens of
// megabytes a process that never counts need not hold).
func (s *Server) tokenCounter() (*tokens.Counter, error) {
	s.counterOnce.Do(func() { s.counter, s.counterErr = tokens.New(tokens.Options{}) })
	return s.counter, s.counterErr
}

// promptOf gathers a chat request's texts for the tokenizer: each
// message's role and strings, and each tool definition as sent.
func promptOf(doc *jsondoc.Value) tokens.Prompt {
	var p tokens.Prompt
	for _, m := range doc.Get("messages").Kids {
		role, _ := m.Value.Get("role").Text()
		msg := tokens.Message{Role: role}
		for _, k := range m.Value.Kids {
			if k.Key != "role" {
				msg.Texts = appendStrings(msg.Texts, k.Value)
			}
		}
		p.Messages = append(p.Messages, msg)
	}
	if tools := doc.Get("tools"); tools != nil {
		for _, t := range tools.Kids {
			p.Tools = append(p.Tools, string(jsondoc.Encode(t.Value)))
		}
	}
	return p
}

// appendStrings appends every string in v, in order.
func appendStrings(out []string, v *jsondoc.Value) []string {
	switch v.Kind {
	case jsondoc.String:
		return append(out, v.Str)
	case jsondoc.Array, jsondoc.Object:
		for _, k := range v.Kids {
			if k.Key != "type" { // a part's type is framing, not text
				out = appendStrings(out, k.Value)
			}
		}
	}
	return out
}

// counterState is the lazily loaded tokenizer.
type counterState struct {
	counterOnce sync.Once
	counter     *tokens.Counter
	counterErr  error
}
