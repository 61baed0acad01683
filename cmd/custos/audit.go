package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/custos-gateway/custos/audit"
	"github.com/custos-gateway/custos/gateway"
	"github.com/custos-gateway/custos/gateway/config"
)

func auditCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "audit", Short: "Verify and export the audit log; make signing keys"}
	cmd.AddCommand(verifyCmd(), exportCmd(), keygenCmd(), pubkeyCmd())
	return cmd
}

func exportCmd() *cobra.Command {
	var exportDBs []string
	var from, to, tenant, format string
	export := &cobra.Command{
		Use:   "export --db FILE [--db FILE...] [--from T] [--to T] [--tenant X] --format jsonl|csv",
		Short: "Stream records (metadata only) as JSON lines or CSV; several files (replicas) are merged by time",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(exportDBs) == 0 {
				return errors.New("--db is required")
			}
			var f audit.Filter
			var err error
			if f.From, err = parseTime(from); err != nil {
				return fmt.Errorf("--from: %w", err)
			}
			if f.To, err = parseTime(to); err != nil {
				return fmt.Errorf("--to: %w", err)
			}
			f.Tenant = tenant
			n, err := audit.ExportFiles(cmd.OutOrStdout(), exportDBs, f, format)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "%d record(s) exported\n", n)
			return nil
		},
	}
	export.Flags().StringArrayVar(&exportDBs, "db", nil, "audit log file (repeat for several replicas' files)")
	export.Flags().StringVar(&from, "from", "", "first time included (RFC 3339 or YYYY-MM-DD)")
	export.Flags().StringVar(&to, "to", "", "first time excluded (RFC 3339 or YYYY-MM-DD)")
	export.Flags().StringVar(&tenant, "tenant", "", "only this tenant's records")
	export.Flags().StringVar(&format, "format", audit.FormatJSONL, "jsonl or csv")

	return export
}

func keygenCmd() *cobra.Command {
	var out string
	keygen := &cobra.Command{
		Use:   "keygen --out FILE",
		Short: "Create an Ed25519 key pair for signing checkpoints (FILE and FILE.pub)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return errors.New("--out is required")
			}
			s, err := audit.GenerateKeyFiles(out, out+".pub")
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "signing key %s (id %s); public key %s.pub for auditors\n", out, s.KeyID(), out)
			return nil
		},
	}
	keygen.Flags().StringVar(&out, "out", "", "private key file to create")

	return keygen
}

func pubkeyCmd() *cobra.Command {
	var cfgPath string
	cmd := &cobra.Command{
		Use:   "pubkey --config FILE",
		Short: "Print the PEM public key that verifies this gateway's checkpoints (key file or Vault Transit)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.Load(cfgPath, nil)
			if err != nil {
				return err
			}
			if cfg.Audit.VaultTransitKey == "" {
				b, err := os.ReadFile(cfg.Audit.SigningKeyFile + ".pub")
				if err != nil {
					return fmt.Errorf("the public key sits beside the signing key as %s.pub: %w", cfg.Audit.SigningKeyFile, err)
				}
				_, err = cmd.OutOrStdout().Write(b)
				return err
			}
			signer, done, err := gateway.NewAuditSigner(cmd.Context(), cfg, nil)
			if err != nil {
				return err
			}
			defer done()
			t, ok := signer.(interface{ PublicKeyPEM() []byte })
			if !ok {
				return errors.New("this signer cannot export its public key")
			}
			_, err = cmd.OutOrStdout().Write(t.PublicKeyPEM())
			return err
		},
	}
	cmd.Flags().StringVar(&cfgPath, "config", "", "the gateway's configuration")

	return cmd
}

func parseTime(v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	return time.Parse(time.DateOnly, v)
}

// Exit codes of `custos audit verify`.
const (
	exitTampered   = 1 // an integrity problem (or the files could not be read)
	exitIncomplete = 3 // intact, but some requests have an intent and no outcome
)

func verifyCmd() *cobra.Command {
	var dbs, anchors []string
	var pubkey string
	var asJSON, chain bool
	cmd := &cobra.Command{
		Use:   "verify --db FILE [--db FILE...] [--chain] [--pubkey FILE] [--checkpoints ANCHOR-FILE]",
		Short: "Check a (copied) audit log offline, read-only; exit 0 only when intact and complete",
		Long: `Verify checks every record's hash, the chain, the checkpoints (and their
signatures with --pubkey), and pairs every request's intent with its outcome,
across all the files given (an outcome may sit in the next monthly file).
With --checkpoints (the anchor file the gateway appends every checkpoint to),
a log whose newest anchored head is missing fails: records cut from its end,
head rewritten, are found.

Exit status: 0 intact and complete; 1 tampered (or unreadable); 3 intact but
incomplete: some requests have an intent record and no outcome record (a
crash lost them, or requests were in flight when the file was copied).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(dbs) == 0 {
				return errors.New("--db is required")
			}
			files, err := verifyFiles(dbs, chain)
			if err != nil {
				return err
			}
			opts, err := verifyOptions(pubkey, anchors, files, chain)
			if err != nil {
				return err
			}
			rep, err := audit.VerifyFiles(files, opts)
			if err != nil {
				return err
			}
			printReport(cmd.OutOrStdout(), rep, asJSON, len(anchors) > 0)
			switch rep.Status() {
			case audit.StatusTampered:
				return errFailed
			case audit.StatusIncomplete:
				os.Exit(exitIncomplete) // nothing to clean up: the files are closed
			}
			return nil
		},
	}
	cmd.Flags().StringArrayVar(&dbs, "db", nil, "audit log file (repeat for the files of one chain)")
	cmd.Flags().BoolVar(&chain, "chain", false, "also verify the monthly files that continue each --db (NAME-YYYY-MM.EXT beside it)")
	cmd.Flags().StringVar(&pubkey, "pubkey", "", "Ed25519 public key (PEM) that signs checkpoints")
	cmd.Flags().StringArrayVar(&anchors, "checkpoints", nil, "anchor file: the checkpoints shipped to a second location (repeatable); verify fails when its newest head is not in the log")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON")
	return cmd
}

// verifyFiles lists the files to verify: those given, and with chain the
// monthly files that continue them.
func verifyFiles(dbs []string, chain bool) ([]string, error) {
	if !chain {
		return dbs, nil
	}
	seen := map[string]bool{}
	var out []string
	for _, db := range dbs {
		files, err := audit.RotatedFiles(db)
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			if !seen[f] {
				seen[f] = true
				out = append(out, f)
			}
		}
	}
	return out, nil
}

// verifyOptions loads the key and the external checkpoints. Checkpoints
// are kept for the files given by name; with chain, all of them count, so
// that one beyond the last file means truncation.
func verifyOptions(pubkey string, anchors, files []string, chain bool) (audit.VerifyOptions, error) {
	var opts audit.VerifyOptions
	if pubkey != "" {
		pub, err := audit.LoadPublicKey(pubkey)
		if err != nil {
			return opts, err
		}
		opts.PublicKey = pub
	}
	for _, a := range anchors {
		data, err := os.ReadFile(a)
		if err != nil {
			return opts, err
		}
		if chain {
			cps, err := audit.ReadCheckpointFile(data, "")
			if err != nil {
				return opts, err
			}
			opts.Checkpoints = append(opts.Checkpoints, cps...)
			continue
		}
		for _, f := range files {
			cps, err := audit.ReadCheckpointFile(data, f)
			if err != nil {
				return opts, err
			}
			opts.Checkpoints = append(opts.Checkpoints, cps...)
		}
	}
	return opts, nil
}

func printReport(out io.Writer, rep *audit.Report, asJSON, anchored bool) {
	if asJSON {
		b, _ := json.MarshalIndent(rep, "", "  ")
		fmt.Fprintf(out, "%s\n", b)
		return
	}
	for _, f := range rep.Files {
		fmt.Fprintf(out, "%s: %d record(s) verified (sequence %d to %d), %d checkpoint(s), last at %d\n",
			f.File, f.Verified, f.FirstSeq, f.LastSeq, f.Checkpoints, f.LastCheckpoint)
	}
	if len(rep.Files) > 1 {
		fmt.Fprintf(out, "%d files: %d record(s) verified (sequence %d to %d)\n", len(rep.Files), rep.Verified, rep.FirstSeq, rep.LastSeq)
	}
	if !rep.SignaturesChecked {
		fmt.Fprintln(out, "signatures not checked: give --pubkey to check them")
	}
	if !anchored {
		fmt.Fprintln(out, "no anchor given: a cut of the records after the file's last checkpoint cannot be detected; give --checkpoints")
	} else if rep.Anchored > 0 {
		fmt.Fprintf(out, "the anchor proves %d record(s), sequence %d to %d\n", rep.AnchoredRecords, rep.FirstSeq, rep.Anchored)
	}
	if rep.Pending > 0 && rep.Problem == nil {
		fmt.Fprintf(out, "%d record(s) after sequence %d are in the write-ahead file beside the log, durable but not yet committed to it (a crash left them): the gateway commits them when it next opens the log\n",
			rep.Pending, rep.LastSeq)
	}
	switch rep.Status() {
	case audit.StatusTampered:
		fmt.Fprintf(out, "TAMPERED at sequence %d: %s: %s\n", rep.Problem.Seq, rep.Problem.Kind, rep.Problem.Detail)
	case audit.StatusIncomplete:
		if rep.Incomplete != nil {
			fmt.Fprintf(out, "INCOMPLETE: no tampering found, but %d request(s) have an intent record and no outcome record, the first at sequence %d\n",
				rep.Incomplete.Count, rep.Incomplete.FirstSeq)
		} else {
			fmt.Fprintln(out, "INCOMPLETE: no tampering found, but records are pending in the write-ahead file")
		}
	default:
		fmt.Fprintln(out, "intact")
	}
}
