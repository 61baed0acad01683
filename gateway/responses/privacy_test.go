package responses_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/custos-gateway/custos/gateway/jsondoc"
	"github.com/custos-gateway/custos/gateway/responses"
	"github.com/custos-gateway/custos/redact"
)

// plantedBody puts an e-mail address (a value the scanner finds by its
// shape alone) in every place of a Responses request that carries text.
func plantedBody(pii func(i int) string) string {
	return fmt.Sprintf(`{"model":"m","instructions":"Write to %s","metadata":{"contact":"%s"},"user":"%s",`+
		`"input":[{"role":"developer","content":"Escalate to %s"},`+
		`{"role":"user","content":[{"type":"input_text","text":"Mail %s"},{"type":"input_file","filename":"%s.pdf","file_data":"data:application/pdf;base64,QUJD"}]},`+
		`{"type":"reasoning","summary":[{"type":"summary_text","text":"The user is %s"}]},`+
		`{"role":"assistant","content":[{"type":"output_text","text":"I will mail %s"},{"type":"refusal","refusal":"Not %s"}]},`+
		`{"type":"function_call","call_id":"c1","name":"send","arguments":"{\"to\":\"%s\",\"cc\":[\"%s\"]}"},`+
		`{"type":"function_call_output","call_id":"c1","output":"{\"sent_to\":\"%s\"}"},`+
		`{"type":"function_call_output","call_id":"c1","output":"bounced from %s"},`+
		`{"type":"function_call_output","call_id":"c1","output":[{"type":"input_text","text":"read by %s"}]}],`+
		`"tools":[{"type":"function","name":"send","description":"Default sender %s","parameters":{"type":"object","properties":{"to":{"type":"string","description":"e.g. %s","default":"%s"}}}}],`+
		`"text":{"format":{"type":"json_schema","name":"out","description":"for %s","schema":{"type":"object"}}}}`,
		pii(1), pii(2), pii(3), pii(4), pii(5), pii(6), pii(7), pii(8), pii(9), pii(10), pii(11), pii(12), pii(13), pii(14), pii(15), pii(16), pii(17), pii(18))
}

// Inspected with Rules, redacted as the gateway does, neither the tree
// forwarded natively nor its chat translation holds any planted value.
func TestNoPlantedValueLeaves(t *testing.T) {
	pii := func(i int) string { return fmt.Sprintf("patient%d@example.org", i) }
	doc, w := inspect(t, plantedBody(pii))
	sc := redact.NewScanner(redact.Options{NoNames: true})
	sess := redact.NewSession(nil)
	for _, tx := range w.Texts {
		if tx.Structural || tx.Text == "" {
			continue
		}
		out, err := sess.Apply(tx.Text, sc.Scan(tx.Text), map[redact.Type]redact.Action{})
		if err != nil {
			t.Fatal(err)
		}
		tx.Set(out)
	}
	w.Finish()
	native := jsondoc.Encode(doc)
	chat, err := responses.ToChat(native)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 18; i++ {
		v := pii(i)
		if strings.Contains(string(native), v) || strings.Contains(string(chat), v) {
			t.Errorf("planted value %d reaches the provider", i)
		}
	}
	if sess.Placeholders() != 18 {
		t.Errorf("%d placeholders, want 18", sess.Placeholders())
	}
	if !strings.Contains(string(chat), `\"to\":\"[EMAIL_`) {
		t.Errorf("arguments not redacted in place: %s", chat)
	}
}
