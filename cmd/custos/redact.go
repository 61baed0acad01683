package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/custos-gateway/custos/redact"
)

// jsonFinding is a finding as the redact command prints it: byte offsets
// into the input, never the value.
type jsonFinding struct {
	Type     redact.Type `json:"type"`
	Start    int         `json:"start"`
	End      int         `json:"end"`
	Score    float64     `json:"score"`
	Personal bool        `json:"personal,omitempty"`
}

func redactCmd() *cobra.Command {
	var asJSON, asJSONL, noNames bool
	var dates string
	cmd := &cobra.Command{
		Use:   "redact [--json | --jsonl] [--no-names] [--dates any|person]",
		Short: "Read text on stdin and print it with every finding replaced by a typed placeholder",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if dates != "any" && dates != "person" {
				return fmt.Errorf("--dates must be any or person")
			}
			r := redactor{sc: redact.NewScanner(redact.Options{NoNames: noNames}), personalDates: dates == "person"}
			if asJSONL {
				return r.lines(cmd.InOrStdin(), cmd.OutOrStdout())
			}
			in, err := io.ReadAll(cmd.InOrStdin())
			if err != nil {
				return err
			}
			out, fs, err := r.one(string(in))
			if err != nil {
				return err
			}
			if !asJSON {
				_, err := io.WriteString(cmd.OutOrStdout(), out)
				return err
			}
			b, err := json.MarshalIndent(struct {
				Text     string        `json:"text"`
				Findings []jsonFinding `json:"findings"`
			}{out, fs}, "", "  ")
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s\n", b)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, `print {"text", "findings": [{"type","start","end","score"}]} with byte offsets into the input and no values`)
	cmd.Flags().BoolVar(&asJSONL, "jsonl", false, `read {"id","text"} per line, print {"id","text","findings"} per line (byte offsets into each input text)`)
	cmd.Flags().BoolVar(&noNames, "no-names", false, "skip person, place, organization and address detection")
	cmd.Flags().StringVar(&dates, "dates", "any", "which dates to redact: any, or person (only dates tied to an individual)")
	return cmd
}

type redactor struct {
	sc            *redact.Scanner
	personalDates bool
}

// one scans and pseudonymizes one text.
func (r redactor) one(text string) (string, []jsonFinding, error) {
	var fs []redact.Finding
	for _, f := range r.sc.Scan(text) {
		if r.personalDates && f.Type == redact.Date && !f.Personal {
			continue
		}
		fs = append(fs, f)
	}
	out, err := redact.NewSession(nil).Apply(text, fs, nil)
	if err != nil {
		return "", nil, err
	}
	js := make([]jsonFinding, 0, len(fs))
	for _, f := range fs {
		js = append(js, jsonFinding{f.Type, f.Start, f.End, f.Score, f.Personal})
	}
	return out, js, nil
}

// lines handles --jsonl: one JSON object in, one out, per line.
func (r redactor) lines(in io.Reader, w io.Writer) error {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64<<10), 64<<20)
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	n := 0
	for sc.Scan() {
		n++
		if len(sc.Bytes()) == 0 {
			continue
		}
		var rec struct {
			ID   json.RawMessage `json:"id"`
			Text string          `json:"text"`
		}
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			return fmt.Errorf("line %d is not a JSON object with a text: %w", n, err)
		}
		out, fs, err := r.one(rec.Text)
		if err != nil {
			return fmt.Errorf("line %d: %w", n, err)
		}
		if err := enc.Encode(struct {
			ID       json.RawMessage `json:"id,omitempty"`
			Text     string          `json:"text"`
			Findings []jsonFinding   `json:"findings"`
		}{rec.ID, out, fs}); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	return bw.Flush()
}
