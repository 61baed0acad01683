package providertest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

// The OpenAI simulator (and its compatible flavors) serves the Responses
// API at {base}/responses: a response object, or its typed SSE events in
// the order the API sends them, usage in the final event; scripted tool
// calls as function_call items; a text.format JSON schema answered with a
// JSON value of the schema's shape; errors in the OpenAI error shape. A
// response is kept (for previous_response_id) unless the request said
// store:false, as the API does.

// stored holds, per simulator, the ids of the responses it kept.
var stored = struct {
	sync.Mutex
	ids map[*core]map[string]bool
}{ids: map[*core]map[string]bool{}}

func (s *core) keep(id string) {
	stored.Lock()
	defer stored.Unlock()
	if stored.ids[s] == nil {
		stored.ids[s] = map[string]bool{}
	}
	stored.ids[s][id] = true
}

func (s *core) kept(id string) bool {
	stored.Lock()
	defer stored.Unlock()
	return stored.ids[s][id]
}

// responsesPath is where the flavor serves the Responses API.
func (s *core) responsesPath(r *http.Request) bool {
	p := r.URL.Path
	switch s.flavor {
	case FlavorAzure:
		return p == "/openai/v1/responses" || (p == "/openai/responses" && r.URL.Query().Get("api-version") != "")
	case FlavorDeepSeek:
		return p == "/responses" || p == "/v1/responses"
	case FlavorQwen:
		return p == "/compatible-mode/v1/responses"
	case FlavorOpenRouter:
		return p == "/api/v1/responses"
	}
	return p == "/v1/responses"
}

// responsesRequest is the part of a Responses request the simulator reads.
type responsesRequest struct {
	Model              string          `json:"model"`
	Input              json.RawMessage `json:"input"`
	Instructions       *string         `json:"instructions"`
	Stream             bool            `json:"stream"`
	Store              *bool           `json:"store"`
	PreviousResponseID string          `json:"previous_response_id"`
	Conversation       json.RawMessage `json:"conversation"`
	Prompt             json.RawMessage `json:"prompt"`
	MaxOutputTokens    *int            `json:"max_output_tokens"`
	Tools              json.RawMessage `json:"tools"`
	Text               *struct {
		Format *struct {
			Type   string         `json:"type"`
			Schema map[string]any `json:"schema"`
		} `json:"format"`
	} `json:"text"`
	StreamOptions *struct {
		IncludeObfuscation *bool `json:"include_obfuscation"`
	} `json:"stream_options"`
}

// serveResponses answers POST {base}/responses.
func (s *OpenAI) serveResponses(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil || !s.admit(w, r, body) {
		return
	}
	b := s.next()
	if !s.waitLatency(r, b) || s.failAsScripted(w, b) {
		return
	}
	var req responsesRequest
	if err := json.Unmarshal(body, &req); err != nil {
		s.writeError(w, http.StatusBadRequest, "invalid_request_error", "", "We could not parse the JSON body of your request.")
		return
	}
	if msg, code := s.checkResponses(&req); msg != "" {
		s.writeError(w, http.StatusBadRequest, "invalid_request_error", code, msg)
		return
	}
	n := s.requests.Load()
	a := &simResponse{req: &req, id: fmt.Sprintf("resp_sim%d", n), itemID: fmt.Sprintf("sim%d", n),
		created: time.Now().Unix(), reply: s.responsesReply(b, &req), call: b.ToolCall}
	a.chunks = openAIChunks(a.reply, b.ChunkBytes)
	if req.Store == nil || *req.Store {
		s.keep(a.id)
	}
	if !req.Stream {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(a.object("completed", true))
		return
	}
	s.streamResponse(w, r, b, a)
}

// checkResponses refuses what the API refuses, in its words: a missing
// model or input, and a previous response it does not have.
func (s *core) checkResponses(req *responsesRequest) (msg, code string) {
	switch {
	case req.Model == "":
		return "Missing required parameter: 'model'.", "missing_required_parameter"
	case len(req.Input) == 0 && req.PreviousResponseID == "" && len(req.Conversation) == 0 && len(req.Prompt) == 0:
		return "Missing required parameter: 'input'.", "missing_required_parameter"
	case req.PreviousResponseID != "" && !s.kept(req.PreviousResponseID):
		return fmt.Sprintf("Previous response with id '%s' not found.", req.PreviousResponseID), "previous_response_not_found"
	}
	return "", ""
}

// responsesReply is the answer text: the scripted reply, or for a JSON
// schema format a value of the schema's shape, or the default.
func (s *core) responsesReply(b Behaviour, req *responsesRequest) string {
	if b.Reply != "" || req.Text == nil || req.Text.Format == nil {
		return s.reply(b)
	}
	switch req.Text.Format.Type {
	case "json_schema":
		out, _ := json.Marshal(fromSchema(req.Text.Format.Schema))
		return string(out)
	case "json_object":
		out, _ := json.Marshal(map[string]string{"answer": s.reply(b)})
		return string(out)
	}
	return s.reply(b)
}

// fromSchema makes a value of a JSON schema's shape: every property of an
// object, the first enum value, a sample of each type.
func fromSchema(schema map[string]any) any {
	if enum, ok := schema["enum"].([]any); ok && len(enum) > 0 {
		return enum[0]
	}
	switch schema["type"] {
	case "object":
		out := map[string]any{}
		props, _ := schema["properties"].(map[string]any)
		for k, p := range props {
			sub, _ := p.(map[string]any)
			out[k] = fromSchema(sub)
		}
		return out
	case "array":
		item, _ := schema["items"].(map[string]any)
		return []any{fromSchema(item)}
	case "integer", "number":
		return 1
	case "boolean":
		return true
	case "null":
		return nil
	}
	return "sample"
}

// simResponse is one answer of the Responses API.
type simResponse struct {
	req     *responsesRequest
	id      string
	itemID  string
	created int64
	reply   string
	chunks  []string
	call    *ToolCall
}

// usage is the Responses usage object, as many output tokens as chunks.
func (a *simResponse) usage() map[string]any {
	prompt, completion := Usage(len(a.chunks))
	return map[string]any{
		"input_tokens": prompt, "input_tokens_details": map[string]any{"cached_tokens": 0},
		"output_tokens": completion, "output_tokens_details": map[string]any{"reasoning_tokens": 0},
		"total_tokens": prompt + completion,
	}
}

// outputID is the id of the answer's one output item.
func (a *simResponse) outputID() string {
	if a.call != nil {
		return "fc_" + a.itemID
	}
	return "msg_" + a.itemID
}

// item is the answer's output item: the message, or the function call.
func (a *simResponse) item(status string, text string) map[string]any {
	if a.call != nil {
		return map[string]any{"id": a.outputID(), "type": "function_call", "status": status,
			"arguments": text, "call_id": a.call.ID, "name": a.call.Name}
	}
	content := []any{}
	if status == "completed" {
		content = append(content, textPart(text))
	}
	return map[string]any{"id": a.outputID(), "type": "message", "status": status, "role": "assistant", "content": content}
}

func textPart(text string) map[string]any {
	return map[string]any{"type": "output_text", "annotations": []any{}, "logprobs": []any{}, "text": text}
}

// whole is the answer's complete text: the reply, or the call's arguments.
func (a *simResponse) whole() string {
	if a.call != nil {
		return a.call.Arguments
	}
	return a.reply
}

// object is the response object, complete or (at the stream's start)
// in progress with no output.
func (a *simResponse) object(status string, complete bool) map[string]any {
	output, usage := []any{}, any(nil)
	if complete {
		output, usage = []any{a.item("completed", a.whole())}, a.usage()
	}
	store := a.req.Store == nil || *a.req.Store
	var prev any
	if a.req.PreviousResponseID != "" {
		prev = a.req.PreviousResponseID
	}
	tools := any([]any{})
	if len(a.req.Tools) > 0 {
		tools = a.req.Tools
	}
	return map[string]any{
		"id": a.id, "object": "response", "created_at": a.created, "status": status, "background": false,
		"error": nil, "incomplete_details": nil, "instructions": a.req.Instructions,
		"max_output_tokens": a.req.MaxOutputTokens, "model": a.req.Model, "output": output,
		"parallel_tool_calls": true, "previous_response_id": prev, "reasoning": map[string]any{"effort": nil, "summary": nil},
		"service_tier": "default", "store": store, "temperature": 1.0, "text": a.textConfig(), "tool_choice": "auto",
		"tools": tools, "top_p": 1.0, "truncation": "disabled", "usage": usage, "user": nil, "metadata": map[string]any{},
	}
}

func (a *simResponse) textConfig() map[string]any {
	format := any(map[string]any{"type": "text"})
	if a.req.Text != nil && a.req.Text.Format != nil {
		format = a.req.Text.Format
	}
	return map[string]any{"format": format, "verbosity": "medium"}
}

// responsesStream writes typed events, numbering them.
type responsesStream struct {
	w           http.ResponseWriter
	flusher     http.Flusher
	seq         int
	obfuscation bool
}

func (st *responsesStream) send(typ string, fields map[string]any) {
	fields["type"] = typ
	fields["sequence_number"] = st.seq
	st.seq++
	if _, delta := fields["delta"]; delta && st.obfuscation {
		fields["obfuscation"] = "sim"
	}
	data, _ := json.Marshal(fields)
	fmt.Fprintf(st.w, "event: %s\ndata: %s\n\n", typ, data)
	st.flusher.Flush()
}

// streamResponse streams the answer: the lifecycle events, the item's
// events with the text (or arguments) in pieces, then response.completed
// with usage. It drops the connection or waits between pieces as the
// behaviour scripts.
func (s *OpenAI) streamResponse(w http.ResponseWriter, r *http.Request, b Behaviour, a *simResponse) {
	w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	st := &responsesStream{w: w, flusher: w.(http.Flusher), obfuscation: true}
	if o := a.req.StreamOptions; o != nil && o.IncludeObfuscation != nil {
		st.obfuscation = *o.IncludeObfuscation
	}
	st.send("response.created", map[string]any{"response": a.object("in_progress", false)})
	st.send("response.in_progress", map[string]any{"response": a.object("in_progress", false)})
	st.send("response.output_item.added", map[string]any{"output_index": 0, "item": a.item("in_progress", "")})
	pieces := a.chunks
	if a.call != nil {
		pieces = argumentPieces(a.call.Arguments)
	} else {
		st.send("response.content_part.added", a.at(map[string]any{"content_index": 0, "part": textPart("")}))
	}
	for i, p := range pieces {
		if b.DropAfterChunks > 0 && i == b.DropAfterChunks {
			panic(http.ErrAbortHandler) // as a crashed provider would
		}
		if !s.waitChunk(r, b) {
			return
		}
		if a.call != nil {
			st.send("response.function_call_arguments.delta", a.at(map[string]any{"delta": p}))
		} else {
			st.send("response.output_text.delta", a.at(map[string]any{"content_index": 0, "delta": p, "logprobs": []any{}}))
		}
	}
	a.finishItem(st)
	st.send("response.completed", map[string]any{"response": a.object("completed", true)})
}

// at adds the item's id and output index to an event's fields.
func (a *simResponse) at(fields map[string]any) map[string]any {
	fields["item_id"] = a.outputID()
	fields["output_index"] = 0
	return fields
}

// finishItem sends the item's done events.
func (a *simResponse) finishItem(st *responsesStream) {
	if a.call != nil {
		st.send("response.function_call_arguments.done", a.at(map[string]any{"arguments": a.call.Arguments, "name": a.call.Name}))
	} else {
		st.send("response.output_text.done", a.at(map[string]any{"content_index": 0, "text": a.reply, "logprobs": []any{}}))
		st.send("response.content_part.done", a.at(map[string]any{"content_index": 0, "part": textPart(a.reply)}))
	}
	st.send("response.output_item.done", map[string]any{"output_index": 0, "item": a.item("completed", a.whole())})
}

// argumentPieces cuts a tool call's arguments 8 bytes at a time, as the
// chat route streams them.
func argumentPieces(args string) []string {
	var out []string
	for i := 0; i < len(args); i += 8 {
		out = append(out, args[i:min(len(args), i+8)])
	}
	return out
}

// ResponsesStored reports whether the simulator kept a response (the
// request did not say store:false).
func (s *core) ResponsesStored(id string) bool { return s.kept(id) }
