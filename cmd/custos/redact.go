package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/custos-gateway/custos/redact"
)

func redactCmd() *cobra.Command {
	var asJSON, noNames bool
	cmd := &cobra.Command{
		Use:   "redact [--json] [--no-names]",
		Short: "Read text on stdin and print it with every finding replaced by a typed placeholder",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			in, err := io.ReadAll(cmd.InOrStdin())
			if err != nil {
				return err
			}
			text := string(in)
			fs := redact.NewScanner(redact.Options{NoNames: noNames}).Scan(text)
			out, err := redact.NewSession(nil).Apply(text, fs, nil)
			if err != nil {
				return err
			}
			if !asJSON {
				_, err := io.WriteString(cmd.OutOrStdout(), out)
				return err
			}
			type finding struct {
				Type  redact.Type `json:"type"`
				Start int         `json:"start"`
				End   int         `json:"end"`
				Score float64     `json:"score"`
			}
			res := struct {
				Text     string    `json:"text"`
				Findings []finding `json:"findings"`
			}{Text: out, Findings: []finding{}}
			for _, f := range fs {
				res.Findings = append(res.Findings, finding{f.Type, f.Start, f.End, f.Score})
			}
			b, err := json.MarshalIndent(res, "", "  ")
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s\n", b)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, `print {"text", "findings": [{"type","start","end","score"}]} with byte offsets into the input and no values`)
	cmd.Flags().BoolVar(&noNames, "no-names", false, "skip person and address detection")
	return cmd
}
