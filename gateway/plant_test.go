package gateway_test

import (
	"encoding/json"
	"fmt"
	"html"
	"io"
	"math/rand"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"github.com/custos-gateway/custos/gateway/jsondoc"
	"github.com/custos-gateway/custos/gateway/openai"
	"github.com/custos-gateway/custos/gateway/responses"
)

// plant is an identifier to hide: the value that must never reach a
// provider, with the cue that makes it what it is (empty when the value
// speaks for itself). blocked: the starter policy refuses the class.
type plant struct {
	kind, cue, value string
	blocked          bool
}

var plants = []plant{
	{kind: "EMAIL", value: "jane.roe@example.org"},
	{kind: "CREDIT_CARD", value: "4111 1111 1111 1111", blocked: true},
	{kind: "US_SSN", cue: "SSN ", value: "536-22-8726"},
	{kind: "IBAN", value: "DE89 3704 0044 0532 0130 00"},
	{kind: "IP_ADDRESS", value: "203.0.113.77"},
	{kind: "UK_NHS", cue: "NHS number ", value: "943 476 5919"},
	{kind: "SECRET", value: "sk-proj-abcdEFGH1234ijklMNOP5678qrstUVWX", blocked: true},
	{kind: "MEDICAL_RECORD_NUMBER", cue: "MRN: ", value: "00412345"},
	{kind: "PHONE", value: "+44 20 7946 0958"},
	{kind: "ES_DNI", cue: "DNI ", value: "12345678Z"},
	{kind: "CRYPTO_WALLET", value: "1BoatSLRHtKNngkdXEeobR76b53LETtpyT"},
	{kind: "IT_FISCAL_CODE", value: "RSSMRA85T10A562S"},
	{kind: "US_NPI", cue: "NPI ", value: "1234567893"},
	{kind: "DATE_OF_BIRTH", cue: "date of birth ", value: "14/03/1962"},
}

// encoding turns a plant into the text planted; ok false when the encoding
// means nothing for the plant.
type encoding struct {
	name string
	enc  func(p plant) (string, bool)
}

func digitsOnly(p plant) bool { return strings.Trim(p.value, "0123456789 -/.") == "" }

var encodings = []encoding{
	{"plain", func(p plant) (string, bool) { return p.cue + p.value, true }},
	{"csv row", func(p plant) (string, bool) {
		return "id,name,value\n7,x," + strings.TrimSpace(p.cue) + "," + p.value + ",end", true
	}},
	{"hl7 segment", func(p plant) (string, bool) {
		return "PID|1||" + p.value + "^^^HOSP^" + strings.TrimSpace(p.cue) + "||DOE^JANE", true
	}},
	{"label:value", func(p plant) (string, bool) { return strings.TrimSpace(p.cue) + ":" + p.value, p.cue != "" }},
	{"key=value", func(p plant) (string, bool) {
		return "record " + strings.TrimSpace(p.cue) + "=" + p.value + ";next=1", true
	}},
	{"json inline", func(p plant) (string, bool) { return `{"note":"` + p.cue + `","v":"` + p.value + `"}`, true }},
	{"xml inline", func(p plant) (string, bool) { return "<rec>" + p.cue + "<v>" + p.value + "</v></rec>", true }},
	{"markdown table", func(p plant) (string, bool) {
		return "| field | value |\n|---|---|\n| " + p.cue + " | " + p.value + " |", true
	}},
	{"in a URL query", func(p plant) (string, bool) {
		return "see https://portal.example.net/lookup?q=" + url.QueryEscape(p.cue+p.value) + "&x=1", true
	}},
	{"in a URL path", func(p plant) (string, bool) {
		return "see https://portal.example.net/records/" + url.PathEscape(strings.ReplaceAll(p.value, " ", "")) + "/view", p.cue == ""
	}},
	{"zero-width inside", func(p plant) (string, bool) { return p.cue + insertEvery(p.value, "\u200b", 3), true }},
	{"soft hyphens", func(p plant) (string, bool) { return p.cue + insertEvery(p.value, "\u00ad", 4), true }},
	{"full-width", func(p plant) (string, bool) { return p.cue + toFullWidth(p.value), true }},
	{"nbsp separators", func(p plant) (string, bool) {
		return p.cue + strings.ReplaceAll(p.value, " ", "\u00a0"), strings.Contains(p.value, " ")
	}},
	{"thin-space separators", func(p plant) (string, bool) {
		return p.cue + strings.ReplaceAll(p.value, " ", "\u2009"), strings.Contains(p.value, " ")
	}},
	{"newline between groups", func(p plant) (string, bool) {
		return p.cue + strings.ReplaceAll(p.value, " ", "\n"), strings.Contains(p.value, " ") && digitsOnly(p)
	}},
	{"dots between groups", func(p plant) (string, bool) {
		return p.cue + strings.ReplaceAll(p.value, " ", "."), strings.Contains(p.value, " ") && digitsOnly(p)
	}},
	{"percent-encoded @", func(p plant) (string, bool) {
		return strings.ReplaceAll(p.value, "@", "%40"), strings.Contains(p.value, "@")
	}},
	{"html entities", func(p plant) (string, bool) {
		return p.cue + html.EscapeString(strings.ReplaceAll(p.value, "@", "&#64;")), true
	}},
}

func insertEvery(s, ins string, n int) string {
	var b strings.Builder
	for i, r := range []rune(s) {
		if i > 0 && i%n == 0 {
			b.WriteString(ins)
		}
		b.WriteRune(r)
	}
	return b.String()
}

func toFullWidth(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r > 0x20 && r < 0x7f {
			r += 0xFEE0
		}
		b.WriteRune(r)
	}
	return b.String()
}

// canon folds text for the leak check: NFKC, format characters dropped,
// percent-encoding and entities decoded, lower case, letters and digits only.
func canon(s string) string {
	if u, err := url.QueryUnescape(s); err == nil {
		s = u
	}
	s = norm.NFKC.String(html.UnescapeString(s))
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// allText is every string, key and number of a JSON body (escapes undone),
// tool arguments included, joined for the leak check.
func allText(body []byte) string {
	doc, err := jsondoc.Parse(body, jsondoc.Limits{})
	if err != nil {
		return string(body)
	}
	w, _ := jsondoc.Inspect(doc, &openai.ChatRules, jsondoc.Limits{})
	var b strings.Builder
	for _, t := range w.Texts {
		b.WriteString(t.Text)
		b.WriteByte(' ')
	}
	return b.String()
}

// leaked reports whether the plant's value reached a provider's body.
func leaked(body []byte, p plant) bool {
	return strings.Contains(canon(allText(body)), canon(p.value))
}

// routeExemplar is a request of one route that uses every field the
// gateway knows of, each a place to plant; the planted text replaces one
// string (or is added as an unknown field).
type routeExemplar struct {
	path, body string
	// dropsUnknown: the route's translation leaves unknown fields out of
	// what it forwards (they never leave), so a blocked class planted in
	// one need not be refused.
	dropsUnknown bool
	rules        *jsondoc.Rules // the walker's rules for the route (chat's when nil)
}

var exemplars = []routeExemplar{
	{path: "/v1/chat/completions", body: `{"model":"gpt-4o-mini","user":"u-1","metadata":{"ticket":"t-1"},"stop":["END"],
	 "messages":[{"role":"system","content":"Be brief."},
	  {"role":"user","name":"clerk","content":[{"type":"text","text":"first part"},{"type":"text","text":"second part"}]},
	  {"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"lookup","arguments":"{\"id\":\"x\",\"n\":1}"}}]},
	  {"role":"tool","tool_call_id":"call_1","content":"tool said hello"},
	  {"role":"user","content":"question"}],
	 "tools":[{"type":"function","function":{"name":"lookup","description":"Looks up a record.","parameters":{"type":"object","properties":{"id":{"type":"string","description":"the id"}}}}}],
	 "response_format":{"type":"json_schema","json_schema":{"name":"r","schema":{"type":"object","description":"an answer"}}},
	 "prediction":{"type":"content","content":"predicted text"}}`},
	{path: "/v1/messages", body: `{"model":"gpt-4o-mini","max_tokens":64,"system":"Be brief.","metadata":{"user_id":"u-1"},"stop_sequences":["END"],
	 "messages":[{"role":"user","content":[{"type":"text","text":"first part"},{"type":"text","text":"second part"}]},
	  {"role":"assistant","content":[{"type":"tool_use","id":"toolu_1","name":"lookup","input":{"id":"x"}}]},
	  {"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":"tool said hello"}]}],
	 "tools":[{"name":"lookup","description":"Looks up a record.","input_schema":{"type":"object","properties":{"id":{"type":"string","description":"the id"}}}}]}`, dropsUnknown: true},
	{path: "/v1/embeddings", body: `{"model":"gpt-4o-mini","input":["one text","another text"],"user":"u-1"}`},
	{path: "/v1/responses", rules: &responses.Rules, body: `{"model":"gpt-4o-mini","instructions":"Be brief.","user":"u-1","metadata":{"ticket":"t-1"},
	 "input":[{"role":"user","content":[{"type":"input_text","text":"first part"},{"type":"input_text","text":"second part"}]},
	  {"type":"function_call","call_id":"call_1","name":"lookup","arguments":"{\"id\":\"x\",\"n\":1}"},
	  {"type":"function_call_output","call_id":"call_1","output":"tool said hello"},
	  {"role":"user","content":"question"}],
	 "tools":[{"type":"function","name":"lookup","description":"Looks up a record.","parameters":{"type":"object","properties":{"id":{"type":"string","description":"the id"}}}}],
	 "text":{"format":{"type":"json_schema","name":"r","schema":{"type":"object","description":"an answer"}}}}`},
}

// plantedBodies returns, for an exemplar, one body per place: each data
// string replaced by text (the walker's own field list), plus the text as
// an unknown field at the top and nested.
func plantedBodies(t testing.TB, ex routeExemplar, text string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	base, err := jsondoc.Parse([]byte(ex.body), jsondoc.Limits{})
	if err != nil {
		t.Fatalf("exemplar %s: %v", ex.path, err)
	}
	rules := ex.rules
	if rules == nil {
		rules = &openai.ChatRules
	}
	w, _ := jsondoc.Inspect(base, rules, jsondoc.Limits{})
	for i, tx := range w.Texts {
		if tx.Structural || tx.IsKey || tx.Context || tx.Key == "model" || tx.Key == "role" || tx.Key == "type" {
			continue
		}
		doc, _ := jsondoc.Parse([]byte(ex.body), jsondoc.Limits{})
		wi, _ := jsondoc.Inspect(doc, rules, jsondoc.Limits{})
		wi.Texts[i].Set(text)
		wi.Finish()
		out[fmt.Sprintf("text %d (%s)", i, tx.Key)] = jsondoc.Encode(doc)
	}
	// Tool arguments that are not JSON at all: the planted text as the
	// whole string (its JSON members are planted above).
	const args = `"arguments":"{\"id\":\"x\",\"n\":1}"`
	if strings.Contains(ex.body, args) {
		out["arguments as text"] = []byte(strings.Replace(ex.body, args, `"arguments":`+string(jsondoc.AppendString(nil, text)), 1))
	}
	for _, where := range []string{"top", "nested"} {
		doc, _ := jsondoc.Parse([]byte(ex.body), jsondoc.Limits{})
		target := doc
		if where == "nested" {
			target = &jsondoc.Value{Kind: jsondoc.Object}
			doc.Set("x_vendor_ext", target)
		}
		target.Set("x_unknown_"+where, jsondoc.NewString(text))
		out["unknown field "+where] = jsondoc.Encode(doc)
	}
	return out
}

type plantResult struct {
	status int
	code   string
	leak   bool
}

// sendPlanted sends one planted body and reports what the provider saw.
func sendPlanted(t testing.TB, h *harness, path string, body []byte, p plant) plantResult {
	t.Helper()
	before := len(h.Sim.Received())
	resp := h.post(t, path, "application/json", appKey, string(body))
	raw, _ := io.ReadAll(resp.Body)
	res := plantResult{status: resp.StatusCode}
	var e struct {
		Error struct{ Code, Type, Message string } `json:"error"`
	}
	if json.Unmarshal(raw, &e) == nil {
		res.code = e.Error.Code
		if res.code == "" {
			res.code = e.Error.Type
		}
	}
	for _, r := range h.Sim.Received()[before:] {
		res.leak = res.leak || leaked(r.Body, p)
	}
	return res
}

// checkPlant: the planted value never reaches the provider; a class the
// policy blocks is refused (403) with a stable code, unless it was in a
// field the route never forwards; any refusal names one.
func checkPlant(t *testing.T, name string, r plantResult, p plant, dropped bool) {
	t.Helper()
	switch {
	case r.leak:
		t.Errorf("%s: the provider saw the %s", name, p.kind)
	case p.blocked && r.status == http.StatusOK && !dropped:
		t.Errorf("%s: a blocked %s was served (200)", name, p.kind)
	case r.status != http.StatusOK && r.code == "":
		t.Errorf("%s: refused with %d and no stable code", name, r.status)
	}
}

// TestPlantAnywhere plants each identifier kind in every field of every
// route, in every encoding: the provider never sees it.
func TestPlantAnywhere(t *testing.T) {
	h := startGateway(t, nil)
	cases := 0
	for _, ex := range exemplars {
		for _, p := range plants {
			for _, e := range encodings {
				text, ok := e.enc(p)
				if !ok {
					continue
				}
				for place, body := range plantedBodies(t, ex, text) {
					cases++
					name := fmt.Sprintf("%s %s %s in %s", ex.path, p.kind, e.name, place)
					checkPlant(t, name, sendPlanted(t, h, ex.path, body, p), p, ex.dropsUnknown && strings.HasPrefix(place, "unknown"))
				}
			}
		}
	}
	if cases < 12*10*3 {
		t.Errorf("only %d cases", cases)
	}
	t.Logf("%d planted requests", cases)
}

// FuzzPlantAnywhere plants a fuzzed identifier choice, encoding and field.
func FuzzPlantAnywhere(f *testing.F) {
	f.Add(uint8(0), uint8(0), uint8(0), uint16(0), int64(1))
	f.Add(uint8(1), uint8(3), uint8(2), uint16(9), int64(7))
	h := startGateway(f, nil)
	f.Fuzz(func(t *testing.T, pi, ei, xi uint8, place uint16, seed int64) {
		p := plants[int(pi)%len(plants)]
		e := encodings[int(ei)%len(encodings)]
		ex := exemplars[int(xi)%len(exemplars)]
		text, ok := e.enc(p)
		if !ok {
			return
		}
		bodies := plantedBodies(t, ex, decorate(text, seed))
		keys := make([]string, 0, len(bodies))
		for k := range bodies {
			keys = append(keys, k)
		}
		sortStrings(keys)
		k := keys[int(place)%len(keys)]
		checkPlant(t, ex.path+" "+p.kind+" "+e.name+" in "+k, sendPlanted(t, h, ex.path, bodies[k], p), p,
			ex.dropsUnknown && strings.HasPrefix(k, "unknown"))
	})
}

// decorate surrounds a planted text with random neutral words.
func decorate(s string, seed int64) string {
	words := []string{"please", "note", "the", "record", "for", "review", "today"}
	r := rand.New(rand.NewSource(seed))
	pre, post := words[r.Intn(len(words))], words[r.Intn(len(words))]
	return pre + " " + s + " " + post
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}
