package bench

import (
	"net/http"
	"strconv"
)

// plain writes a whole answer in the route's wire format.
func (s *stub) plain(w http.ResponseWriter, route string, req stubRequest, prompt int, b []byte) []byte {
	n := s.o.Tokens
	switch route {
	case RouteMessages:
		b = append(b, `{"id":"msg_stub","type":"message","role":"assistant","model":`...)
		b = appendJSONString(b, req.Model)
		b = append(b, `,"content":[{"type":"text","text":`...)
		b = appendJSONString(b, s.text)
		b = append(b, `}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":`...)
		b = strconv.AppendInt(b, int64(prompt), 10)
		b = append(b, `,"output_tokens":`...)
		b = strconv.AppendInt(b, int64(n), 10)
		b = append(b, "}}\n"...)
	case RouteResponses:
		b = append(b, `{"id":"resp_stub","object":"response","created_at":`...)
		b = append(b, s.created...)
		b = append(b, `,"status":"completed","model":`...)
		b = appendJSONString(b, req.Model)
		b = append(b, `,"output":[{"type":"message","id":"msg_stub","status":"completed","role":"assistant","content":[{"type":"output_text","annotations":[],"text":`...)
		b = appendJSONString(b, s.text)
		b = append(b, `}]}],"usage":`...)
		b = appendUsage(b, "input_tokens", "output_tokens", prompt, n)
		b = append(b, "}\n"...)
	default:
		b = append(b, `{"id":"chatcmpl-stub","object":"chat.completion","created":`...)
		b = append(b, s.created...)
		b = append(b, `,"model":`...)
		b = appendJSONString(b, req.Model)
		b = append(b, `,"choices":[{"index":0,"message":{"role":"assistant","content":`...)
		b = appendJSONString(b, s.text)
		b = append(b, `},"finish_reason":"stop"}],"usage":`...)
		b = appendUsage(b, "prompt_tokens", "completion_tokens", prompt, n)
		b = append(b, "}\n"...)
	}
	writeJSON(w, b)
	return b
}

func appendUsage(b []byte, in, out string, prompt, completion int) []byte {
	b = append(b, `{"`...)
	b = append(b, in...)
	b = append(b, `":`...)
	b = strconv.AppendInt(b, int64(prompt), 10)
	b = append(b, `,"`...)
	b = append(b, out...)
	b = append(b, `":`...)
	b = strconv.AppendInt(b, int64(completion), 10)
	b = append(b, `,"total_tokens":`...)
	b = strconv.AppendInt(b, int64(prompt+completion), 10)
	return append(b, '}')
}

func writeJSON(w http.ResponseWriter, b []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	_, _ = w.Write(b)
}

// embeddings answers with one small vector per input.
func (s *stub) embeddings(w http.ResponseWriter, req stubRequest, prompt int, b []byte) []byte {
	b = append(b, `{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.125,-0.25,0.5,0.0625,-0.75,0.375,0.875,-0.5]}],"model":`...)
	b = appendJSONString(b, req.Model)
	b = append(b, `,"usage":{"prompt_tokens":`...)
	b = strconv.AppendInt(b, int64(prompt), 10)
	b = append(b, `,"total_tokens":`...)
	b = strconv.AppendInt(b, int64(prompt), 10)
	b = append(b, "}}\n"...)
	writeJSON(w, b)
	return b
}

// stream writes the route's SSE events, flushing each as a provider does.
func (s *stub) stream(w http.ResponseWriter, r *http.Request, route string, req stubRequest, prompt int, b []byte) []byte {
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	fl, _ := w.(http.Flusher)
	emit := func(b []byte) []byte {
		_, _ = w.Write(b)
		if fl != nil {
			fl.Flush()
		}
		return b[:0]
	}
	ev := streamEvents[route]
	if ev == nil {
		ev = chatEvents
	}
	b = emit(ev.start(s, b, req, prompt))
	for i, tok := range s.tokens {
		d := s.o.ITL
		if i == 0 {
			d = s.o.TTFT
		}
		if !wait(r, d) {
			return b
		}
		b = emit(ev.token(s, b, req, tok))
	}
	return emit(ev.end(s, b, req, prompt))
}

// sseFormat builds one wire format's stream events.
type sseFormat struct {
	start func(s *stub, b []byte, req stubRequest, prompt int) []byte
	token func(s *stub, b []byte, req stubRequest, tok string) []byte
	end   func(s *stub, b []byte, req stubRequest, prompt int) []byte
}

var streamEvents = map[string]*sseFormat{RouteChat: chatEvents, RouteMessages: messagesEvents, RouteResponses: responsesEvents}

var chatEvents = &sseFormat{
	start: func(s *stub, b []byte, req stubRequest, _ int) []byte {
		b = chatChunkHead(s, b, req)
		return append(b, `{"role":"assistant","content":""},"finish_reason":null}]}`+"\n\n"...)
	},
	token: func(s *stub, b []byte, req stubRequest, tok string) []byte {
		b = chatChunkHead(s, b, req)
		b = append(b, `{"content":`...)
		b = appendJSONString(b, tok)
		return append(b, `},"finish_reason":null}]}`+"\n\n"...)
	},
	end: func(s *stub, b []byte, req stubRequest, prompt int) []byte {
		b = chatChunkHead(s, b, req)
		b = append(b, `{},"finish_reason":"stop"}]}`+"\n\n"...)
		if req.StreamOptions != nil && req.StreamOptions.IncludeUsage {
			b = append(b, `data: {"id":"chatcmpl-stub","object":"chat.completion.chunk","created":`...)
			b = append(b, s.created...)
			b = append(b, `,"model":`...)
			b = appendJSONString(b, req.Model)
			b = append(b, `,"choices":[],"usage":`...)
			b = appendUsage(b, "prompt_tokens", "completion_tokens", prompt, s.o.Tokens)
			b = append(b, "}\n\n"...)
		}
		return append(b, "data: [DONE]\n\n"...)
	},
}

func chatChunkHead(s *stub, b []byte, req stubRequest) []byte {
	b = append(b, `data: {"id":"chatcmpl-stub","object":"chat.completion.chunk","created":`...)
	b = append(b, s.created...)
	b = append(b, `,"model":`...)
	b = appendJSONString(b, req.Model)
	return append(b, `,"choices":[{"index":0,"delta":`...)
}

var messagesEvents = &sseFormat{
	start: func(s *stub, b []byte, req stubRequest, prompt int) []byte {
		b = append(b, "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_stub\",\"type\":\"message\",\"role\":\"assistant\",\"model\":"...)
		b = appendJSONString(b, req.Model)
		b = append(b, `,"content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":`...)
		b = strconv.AppendInt(b, int64(prompt), 10)
		b = append(b, `,"output_tokens":1}}}`+"\n\n"...)
		return append(b, "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n"...)
	},
	token: func(s *stub, b []byte, req stubRequest, tok string) []byte {
		b = append(b, "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":"...)
		b = appendJSONString(b, tok)
		return append(b, "}}\n\n"...)
	},
	end: func(s *stub, b []byte, req stubRequest, prompt int) []byte {
		b = append(b, "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n"...)
		b = append(b, "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":"...)
		b = strconv.AppendInt(b, int64(s.o.Tokens), 10)
		b = append(b, "}}\n\n"...)
		return append(b, "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"...)
	},
}

var responsesEvents = &sseFormat{
	start: func(s *stub, b []byte, req stubRequest, _ int) []byte {
		b = append(b, "event: response.created\ndata: {\"type\":\"response.created\",\"response\":{\"id\":\"resp_stub\",\"object\":\"response\",\"status\":\"in_progress\",\"model\":"...)
		b = appendJSONString(b, req.Model)
		return append(b, "}}\n\n"...)
	},
	token: func(s *stub, b []byte, req stubRequest, tok string) []byte {
		b = append(b, "event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"item_id\":\"msg_stub\",\"output_index\":0,\"content_index\":0,\"delta\":"...)
		b = appendJSONString(b, tok)
		return append(b, "}\n\n"...)
	},
	end: func(s *stub, b []byte, req stubRequest, prompt int) []byte {
		b = append(b, "event: response.completed\ndata: {\"type\":\"response.completed\",\"response\":{\"id\":\"resp_stub\",\"object\":\"response\",\"status\":\"completed\",\"model\":"...)
		b = appendJSONString(b, req.Model)
		b = append(b, `,"usage":`...)
		b = appendUsage(b, "input_tokens", "output_tokens", prompt, s.o.Tokens)
		return append(b, "}}\n\n"...)
	},
}
