package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func runRedact(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	cmd := rootCmd()
	var out bytes.Buffer
	cmd.SetIn(strings.NewReader(stdin))
	cmd.SetOut(&out)
	cmd.SetArgs(append([]string{"redact"}, args...))
	if err := cmd.Execute(); err != nil {
		t.Fatalf("custos redact %v: %v", args, err)
	}
	return out.String()
}

func TestRedactJSONL(t *testing.T) {
	in := `{"id":"a","text":"Card 4111 1111 1111 1111, mail ann.lee@example.com"}` + "\n" +
		`{"id":7,"text":"nothing here"}` + "\n" +
		`{"id":"c","text":"Müller: café 4111 1111 1111 1111"}` + "\n"
	out := runRedact(t, in, "--jsonl")
	type rec struct {
		ID       json.RawMessage `json:"id"`
		Text     string          `json:"text"`
		Findings []jsonFinding   `json:"findings"`
	}
	var recs []rec
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var r rec
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("bad line %q: %v", sc.Text(), err)
		}
		recs = append(recs, r)
	}
	if len(recs) != 3 {
		t.Fatalf("got %d lines, want 3:\n%s", len(recs), out)
	}
	if string(recs[0].ID) != `"a"` || string(recs[1].ID) != "7" {
		t.Errorf("ids not carried through: %s %s", recs[0].ID, recs[1].ID)
	}
	if strings.Contains(recs[0].Text, "4111") || strings.Contains(recs[0].Text, "ann.lee") || len(recs[0].Findings) != 2 {
		t.Errorf("first line not redacted: %+v", recs[0])
	}
	if recs[1].Text != "nothing here" || len(recs[1].Findings) != 0 {
		t.Errorf("clean line changed: %+v", recs[1])
	}
	// Offsets are UTF-8 byte offsets into the input text.
	text := "Müller: café 4111 1111 1111 1111"
	var card *jsonFinding
	for i := range recs[2].Findings {
		if recs[2].Findings[i].Type == "CREDIT_CARD" {
			card = &recs[2].Findings[i]
		}
	}
	if card == nil || text[card.Start:card.End] != "4111 1111 1111 1111" {
		t.Errorf("card offsets wrong: %+v", recs[2].Findings)
	}
}

func TestRedactDatesScope(t *testing.T) {
	text := "The meeting moved to 14 March 2024. Patient born 3 April 1961."
	anyOut := runRedact(t, text)
	personOut := runRedact(t, text, "--dates", "person")
	if strings.Contains(anyOut, "14 March 2024") || strings.Contains(anyOut, "3 April 1961") {
		t.Errorf("default run kept a date: %q", anyOut)
	}
	if !strings.Contains(personOut, "14 March 2024") || strings.Contains(personOut, "3 April 1961") {
		t.Errorf("--dates person: %q", personOut)
	}
	cmd := rootCmd()
	cmd.SetIn(strings.NewReader(""))
	cmd.SetOut(&bytes.Buffer{})
	cmd.SetArgs([]string{"redact", "--dates", "some"})
	if err := cmd.Execute(); err == nil {
		t.Error("--dates some accepted")
	}
}
