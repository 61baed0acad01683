package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/custos-gateway/custos/policies"
	"github.com/custos-gateway/custos/policy"
)

// errFailed makes the command exit 1 after it has printed its own report.
var errFailed = errors.New("failed")

func policySource(args []string) policy.Source {
	if len(args) > 0 {
		return policy.FromDir(args[0])
	}
	return policy.FromFS(policies.FS, "embedded policies")
}

func policyCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "policy", Short: "Test, check and evaluate Rego policies (no Go or opa binary needed)"}
	cmd.AddCommand(policyTestCmd(), policyCheckCmd(), policyEvalCmd())
	return cmd
}

// policyTestCmd runs a policy set's Rego unit tests and fails unless some
// ran and all passed.
func policyTestCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "test [DIR]",
		Short: "Run the policy set's Rego unit tests (default: the embedded policies)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			results, err := policy.RunTests(cmd.Context(), policySource(args))
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			failed := 0
			for _, r := range results {
				status := "PASS"
				if !r.Pass {
					status = "FAIL"
					failed++
				}
				fmt.Fprintf(out, "%s %s", status, r.Name)
				if r.Detail != "" && !r.Pass {
					fmt.Fprintf(out, " (%s): %s", r.File, r.Detail)
				}
				fmt.Fprintln(out)
			}
			fmt.Fprintf(out, "%d passed, %d failed\n", len(results)-failed, failed)
			if failed > 0 || len(results) == 0 {
				return errFailed
			}
			return nil
		},
	}
}

// policyCheckCmd lists the problems policy.Check finds and fails if any.
func policyCheckCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "check [DIR]",
		Short: "Strict compile, formatting, and METADATA code and control on every deny rule",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			problems, err := policy.Check(policySource(args))
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			for _, p := range problems {
				fmt.Fprintln(out, p)
			}
			if len(problems) > 0 {
				fmt.Fprintf(out, "%d problem(s)\n", len(problems))
				return errFailed
			}
			fmt.Fprintln(out, "ok")
			return nil
		},
	}
}

// policyEvalCmd prints the decision for one input document.
func policyEvalCmd() *cobra.Command {
	var dir, inputPath string
	eval := &cobra.Command{
		Use:   "eval --input FILE [--policies DIR]",
		Short: "Print the decision for an input document and the deny rules that fired",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if inputPath == "" {
				return errors.New("--input is required")
			}
			in, err := readPolicyInput(inputPath)
			if err != nil {
				return err
			}
			var args []string
			if dir != "" {
				args = []string{dir}
			}
			engine, err := policy.New(cmd.Context(), policySource(args), policy.Options{})
			if err != nil {
				return err
			}
			d, derr := engine.Decide(cmd.Context(), in)
			out := cmd.OutOrStdout()
			if derr != nil && !errors.Is(derr, policy.ErrDenied) {
				fmt.Fprintf(out, "fail closed: %s (%v)\n", policy.Code(derr), derr)
				return errFailed
			}
			printDecision(out, d)
			return nil
		},
	}
	eval.Flags().StringVar(&dir, "policies", "", "policy directory (default: the embedded policies)")
	eval.Flags().StringVar(&inputPath, "input", "", "JSON input document (the policy input, as documented)")
	return eval
}

// readPolicyInput reads a policy input document, refusing unknown fields.
func readPolicyInput(path string) (policy.Input, error) {
	var in policy.Input
	raw, err := os.ReadFile(path)
	if err != nil {
		return in, err
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return in, fmt.Errorf("input %s: %w", path, err)
	}
	return in, nil
}

// printDecision prints a decision as JSON and then the deny rules that fired.
func printDecision(out io.Writer, d policy.Decision) {
	b, _ := json.MarshalIndent(d, "", "  ")
	fmt.Fprintf(out, "%s\n", b)
	if len(d.Deny) == 0 {
		fmt.Fprintln(out, "\nno deny rule fired")
		return
	}
	fmt.Fprintln(out, "\ndeny rules that fired:")
	for _, r := range d.Deny {
		fmt.Fprintf(out, "  - %s [%s] (%s)\n", r.Rule, r.Code, r.Control)
	}
}
