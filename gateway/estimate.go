package gateway

import (
	"encoding/binary"
	"strings"
	"sync"

	"github.com/custos-gateway/custos/gateway/jsondoc"
	"github.com/custos-gateway/custos/gateway/openai"
	"github.com/custos-gateway/custos/gateway/tokens"
	"github.com/custos-gateway/custos/gateway/upstream"
)

// completionKeep bounds the answer data a request keeps for counting when
// its provider reports no usage; past it only the size is kept and the
// count is extrapolated from the part kept.
const completionKeep = 256 << 10

// completionText keeps an answer's data (stream chunks or the whole body)
// as relayed, in memory only and never past the request, so that an answer
// without usage can be counted at its end. Appending is a copy; parsing
// waits until a count is needed, which is rare.
type completionText struct {
	buf    []byte // length-prefixed pieces
	total  int64  // bytes of every piece, kept or not
	native bool   // pieces are Responses API events, not chat chunks
}

// add keeps one piece of answer data; name is its SSE event name.
func (c *completionText) add(name string, data []byte) {
	if c.native && !strings.HasSuffix(name, ".delta") {
		return // the terminal events repeat what the deltas carried
	}
	c.total += int64(len(data))
	if len(c.buf)+len(data)+binary.MaxVarintLen64 > completionKeep {
		return
	}
	if c.buf == nil {
		c.buf = (*completionPool.Get().(*[]byte))[:0]
	}
	if need := len(c.buf) + binary.MaxVarintLen64 + len(data); need > cap(c.buf) {
		grown := make([]byte, len(c.buf), max(need, 2*cap(c.buf)))
		copy(grown, c.buf)
		clear(c.buf) // the outgrown array does not keep the text either
		c.buf = grown
	}
	c.buf = binary.AppendUvarint(c.buf, uint64(len(data)))
	c.buf = append(c.buf, data...)
}

// completionPool recycles the buffers answers are kept in.
var completionPool = sync.Pool{New: func() any { b := make([]byte, 0, 8<<10); return &b }}

// release gives the buffer back once the request has ended.
func (c *completionText) release() {
	clear(c.buf) // the answer's text waits neither in the pool nor for the collector
	if c.buf != nil && cap(c.buf) <= 64<<10 {
		b := c.buf[:0]
		completionPool.Put(&b)
	}
	c.buf = nil
}

// texts returns the completion text in the pieces kept and the share of
// all pieces they are (1 when every piece was kept).
func (c *completionText) texts() (text []string, kept float64) {
	var keptBytes int64
	for b := c.buf; len(b) > 0; {
		n, w := binary.Uvarint(b)
		if w <= 0 || uint64(len(b)-w) < n {
			break
		}
		piece := b[w : w+int(n)]
		b = b[w+int(n):]
		keptBytes += int64(n)
		if v, err := jsondoc.Parse(piece, jsondoc.Limits{}); err == nil {
			text = answerStrings(text, v, "")
		}
	}
	if c.total == 0 {
		return text, 1
	}
	return text, float64(keptBytes) / float64(c.total)
}

// answerKeys name the fields of an answer (a chat completion, a chunk, a
// Responses API output or delta event) that carry generated text.
var answerKeys = map[string]bool{"content": true, "text": true, "delta": true, "arguments": true,
	"reasoning_content": true, "reasoning": true, "refusal": true}

// answerStrings appends the generated text in v: the strings under
// answerKeys, skipping the request's echo (a Responses answer repeats its
// instructions) and identifiers.
func answerStrings(out []string, v *jsondoc.Value, key string) []string {
	switch v.Kind {
	case jsondoc.String:
		if answerKeys[key] {
			out = append(out, v.Str)
		}
	case jsondoc.Array:
		for _, k := range v.Kids {
			out = answerStrings(out, k.Value, key)
		}
	case jsondoc.Object:
		for _, k := range v.Kids {
			if k.Key == "instructions" || k.Key == "usage" || k.Key == "tools" {
				continue
			}
			out = answerStrings(out, k.Value, k.Key)
		}
	}
	return out
}

// estimateUsage counts what a request used when its provider reported no
// usage: the prompt as sent and the completion as relayed, with the local
// tokenizer. A counted request is never free: an answered one counts at
// least a token each way it went.
func (s *Server) estimateUsage(ex *exchange) *openai.Usage {
	model := ex.fwd.endpoint.Served(ex.req.model)
	texts, kept := ex.ans.completion.texts()
	var prompt, completion int64
	if counter, err := s.tokenCounter(); err == nil {
		prompt = counter.Prompt(model, promptFor(ex.req.doc)).Tokens
		completion = counter.Text(model, strings.Join(texts, "")).Tokens
	} else { // the vocabularies did not load: about four bytes a token
		prompt = ex.insp.estimatedTokens()
		completion = int64((len(strings.Join(texts, "")) + 3) / 4)
	}
	if kept > 0 && kept < 1 {
		completion = int64(float64(completion)/kept) + 1
	}
	prompt = max(prompt, 1)
	if ex.req.op != upstream.OpEmbeddings && ex.ans.completion.total > 0 {
		completion = max(completion, 1)
	}
	return &openai.Usage{PromptTokens: prompt, CompletionTokens: completion, TotalTokens: prompt + completion}
}

// promptFor gathers a request's texts for the tokenizer: a chat request by
// message, any other (embeddings, the Responses API) as its strings.
func promptFor(doc *jsondoc.Value) tokens.Prompt {
	if doc.Get("messages") != nil {
		return promptOf(doc)
	}
	var p tokens.Prompt
	for _, k := range doc.Kids {
		if k.Key != "model" {
			p.Texts = appendStrings(p.Texts, k.Value)
		}
	}
	return p
}
