package responses_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/custos-gateway/custos/gateway/jsondoc"
	"github.com/custos-gateway/custos/gateway/responses"
)

// richBody plants a distinct text (tN) in every place a Responses request
// can carry one, and opaque content (OPAQUE...) where nothing can be read.
const richBody = `{"model":"t01","instructions":"t02","metadata":{"t03":"t04"},"user":"t05","safety_identifier":"t06",` +
	`"prompt_cache_key":"t07","x-unknown":{"t08":[99,"t09"]},` +
	`"input":[` +
	`{"role":"system","content":"t10"},` +
	`{"type":"message","role":"user","content":[{"type":"input_text","text":"t11"},{"type":"input_text","text":"t12"},` +
	`{"type":"input_image","image_url":"https://t13.example/a.png","detail":"high"},` +
	`{"type":"input_image","image_url":"data:image/png;base64,OPAQUE1"},` +
	`{"type":"input_file","file_data":"OPAQUE2","filename":"t14.pdf"},` +
	`{"type":"input_audio","input_audio":{"data":"OPAQUE3","format":"wav"}},{"type":"input_text","text":"t15"}]},` +
	`{"type":"reasoning","id":"rs_t16","summary":[{"type":"summary_text","text":"t17"}],"encrypted_content":"OPAQUE4"},` +
	`{"type":"message","role":"assistant","id":"msg_t18","content":[{"type":"output_text","text":"t19","annotations":[{"type":"url_citation","url":"https://t20.example","title":"t21"}]},{"type":"refusal","refusal":"t22"}]},` +
	`{"type":"function_call","call_id":"t23","name":"t24","arguments":"{\"t25\":\"t26\",\"n\":[1234567]}"},` +
	`{"type":"function_call_output","call_id":"t27","output":"{\"t28\":{\"deep\":\"t29\"}}"},` +
	`{"type":"function_call_output","call_id":"t30","output":"t31 plain"},` +
	`{"type":"function_call_output","call_id":"t32","output":[{"type":"input_text","text":"t33"},{"type":"input_file","file_data":"OPAQUE5"}]},` +
	`{"type":"computer_call_output","call_id":"t34","output":{"type":"computer_screenshot","image_url":"https://t35.example/s.png"}}],` +
	`"tools":[{"type":"function","name":"t36","description":"t37","parameters":{"type":"object","properties":{"t38":{"type":"string","description":"t39","enum":["t40"]}}}}],` +
	`"text":{"format":{"type":"json_schema","name":"t41","schema":{"properties":{"t42":{}}}},"verbosity":"low"},` +
	`"tool_choice":{"type":"function","name":"t43"},"prompt":{"id":"t44","variables":{"t45":"t46"}},"conversation":"t47"}`

func inspect(t *testing.T, body string) (*jsondoc.Value, *jsondoc.Walk) {
	t.Helper()
	doc, err := jsondoc.Parse([]byte(body), jsondoc.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	w, err := jsondoc.Inspect(doc, &responses.Rules, jsondoc.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	return doc, w
}

func TestRulesVisitEveryText(t *testing.T) {
	_, w := inspect(t, richBody)
	seen := map[string]*jsondoc.Text{}
	all := ""
	for _, tx := range w.Texts {
		seen[tx.Text] = tx
		all += "\x00" + tx.Text
	}
	for i := 1; i <= 47; i++ {
		want := fmt.Sprintf("t%02d", i)
		if !strings.Contains(all, want) {
			t.Errorf("text %s not visited", want)
		}
	}
	if seen["99"] == nil || seen["1234567"] == nil {
		t.Error("numbers not visited")
	}
	if strings.Contains(all, "OPAQUE") {
		t.Error("opaque content visited as text")
	}
	// Media: the data image, the https image, the file, the audio, the
	// function output file, the screenshot (6); opaque values: the data URI,
	// file_data, audio data, encrypted_content, the output's file_data (5).
	if w.Uninspectable != 11 {
		t.Errorf("uninspectable = %d, want 11", w.Uninspectable)
	}
	if seen["t26"].Key != "t25" || seen["t29"].Key != "deep" {
		t.Errorf("embedded JSON not walked as a document: keys %q %q", seen["t26"].Key, seen["t29"].Key)
	}
	if seen["t31 plain"] == nil {
		t.Error("a plain-text function output is not a text")
	}
	if g := seen["t11"].Group; g == 0 || seen["t12"].Group != g || seen["t15"].Group == g {
		t.Errorf("groups: t11 %d t12 %d t15 %d", g, seen["t12"].Group, seen["t15"].Group)
	}
	for _, s := range []string{"user", "system", "assistant", "input_text", "function_call", "summary_text", "json_schema", "low", "function", "high"} {
		if tx := seen[s]; tx == nil || !tx.Structural {
			t.Errorf("%q is not marked structural", s)
		}
	}
	for _, s := range []string{"t02", "t11", "t24", "t36", "t43", "t47"} {
		if seen[s].Structural {
			t.Errorf("data %q marked structural", s)
		}
	}
}

// Redacting a text inside embedded JSON re-encodes the document that holds
// it, still valid JSON.
func TestRulesRedactEmbedded(t *testing.T) {
	doc, w := inspect(t, richBody)
	for _, tx := range w.Texts {
		switch tx.Text {
		case "t26", "t29":
			tx.Set(`[PERSON_1] "quoted"`)
		}
	}
	w.Finish()
	items := doc.Get("input").Kids
	args, _ := items[4].Value.Get("arguments").Text()
	out, _ := items[5].Value.Get("output").Text()
	if args != `{"t25":"[PERSON_1] \"quoted\"","n":[1234567]}` || out != `{"t28":{"deep":"[PERSON_1] \"quoted\""}}` {
		t.Errorf("re-encoded: %s / %s", args, out)
	}
}

func TestRulesRefuseCaseVariants(t *testing.T) {
	cases := []struct{ body, path string }{
		{`{"model":"m","Input":"x"}`, "Input"},
		{`{"model":"m","input":[{"role":"user","Content":"x"}]}`, "input[0].Content"},
		{`{"model":"m","input":[{"role":"user","content":[{"type":"input_text","TEXT":"x"}]}]}`, "input[0].content[0].TEXT"},
		{`{"model":"m","input":[{"type":"function_call","call_id":"c","name":"f","Arguments":"{}"}]}`, "input[0].Arguments"},
		{`{"model":"m","input":[{"type":"function_call_output","call_id":"c","Output":"x"}]}`, "input[0].Output"},
		{`{"model":"m","input":[{"type":"reasoning","summary":[{"type":"summary_text","Text":"x"}]}]}`, "input[0].summary[0].Text"},
		{`{"model":"m","input":"x","tools":[{"type":"function","name":"f","Parameters":{}}]}`, "tools[0].Parameters"},
		{`{"model":"m","input":"x","text":{"format":{"type":"json_schema","name":"n","Schema":{}}}}`, "text.format.Schema"},
		{`{"model":"m","input":"x","reasoning":{"Effort":"low"}}`, "reasoning.Effort"},
		{`{"model":"m","input":"x","tool_choice":{"type":"function","Name":"f"}}`, "tool_choice.Name"},
	}
	for _, tc := range cases {
		doc, err := jsondoc.Parse([]byte(tc.body), jsondoc.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		_, err = jsondoc.Inspect(doc, &responses.Rules, jsondoc.Limits{})
		var fe *jsondoc.FieldError
		if !errors.As(err, &fe) || fe.Path.String() != tc.path {
			t.Errorf("%s: err = %v, want a refusal at %s", tc.body, err, tc.path)
		}
	}
}

func TestStringInputIsText(t *testing.T) {
	_, w := inspect(t, `{"model":"m","input":"Patient Jane Roe"}`)
	found := false
	for _, tx := range w.Texts {
		found = found || (tx.Text == "Patient Jane Roe" && !tx.Structural && tx.Key == "input")
	}
	if !found {
		t.Error("string input not inspected as text")
	}
}
