package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/custos-gateway/custos/audit"
	"github.com/custos-gateway/custos/gateway"
	"github.com/custos-gateway/custos/gateway/config"
)

func auditCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "audit", Short: "Verify and export the audit log; make signing keys"}

	var db, pubkey, checkpoints string
	var asJSON bool
	verify := &cobra.Command{
		Use:   "verify --db FILE [--pubkey FILE] [--checkpoints FILE]",
		Short: "Check a (copied) audit log offline, read-only; exit 0 only when intact",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if db == "" {
				return errors.New("--db is required")
			}
			var opts audit.VerifyOptions
			if pubkey != "" {
				pub, err := audit.LoadPublicKey(pubkey)
				if err != nil {
					return err
				}
				opts.PublicKey = pub
			}
			if checkpoints != "" {
				data, err := os.ReadFile(checkpoints)
				if err != nil {
					return err
				}
				if opts.Checkpoints, err = audit.ReadCheckpointFile(data, db); err != nil {
					return err
				}
			}
			rep, err := audit.Verify(db, opts)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				b, _ := json.MarshalIndent(rep, "", "  ")
				fmt.Fprintf(out, "%s\n", b)
			} else {
				fmt.Fprintf(out, "%s: %d record(s) verified (sequence %d to %d), %d checkpoint(s), last at %d\n",
					db, rep.Verified, rep.FirstSeq, rep.LastSeq, rep.Checkpoints, rep.LastCheckpoint)
				if !rep.SignaturesChecked {
					fmt.Fprintln(out, "signatures not checked: give --pubkey to check them")
				}
				if rep.Problem != nil {
					fmt.Fprintf(out, "TAMPERED at sequence %d: %s: %s\n", rep.Problem.Seq, rep.Problem.Kind, rep.Problem.Detail)
				} else {
					fmt.Fprintln(out, "intact")
				}
			}
			if !rep.OK() {
				return errFailed
			}
			return nil
		},
	}
	verify.Flags().StringVar(&db, "db", "", "audit log file")
	verify.Flags().StringVar(&pubkey, "pubkey", "", "Ed25519 public key (PEM) that signs checkpoints")
	verify.Flags().StringVar(&checkpoints, "checkpoints", "", "checkpoint file from the second location")
	verify.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON")

	var exportDB, from, to, tenant, format string
	export := &cobra.Command{
		Use:   "export --db FILE [--from T] [--to T] [--tenant X] --format jsonl|csv",
		Short: "Stream records (metadata only) as JSON lines or CSV",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if exportDB == "" {
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
			n, err := audit.ExportFile(cmd.OutOrStdout(), exportDB, f, format)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "%d record(s) exported\n", n)
			return nil
		},
	}
	export.Flags().StringVar(&exportDB, "db", "", "audit log file")
	export.Flags().StringVar(&from, "from", "", "first time included (RFC 3339 or YYYY-MM-DD)")
	export.Flags().StringVar(&to, "to", "", "first time excluded (RFC 3339 or YYYY-MM-DD)")
	export.Flags().StringVar(&tenant, "tenant", "", "only this tenant's records")
	export.Flags().StringVar(&format, "format", audit.FormatJSONL, "jsonl or csv")

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

	var cfgPath string
	pubkeyCmd := &cobra.Command{
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
	pubkeyCmd.Flags().StringVar(&cfgPath, "config", "", "the gateway's configuration")

	cmd.AddCommand(verify, export, keygen, pubkeyCmd)
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
