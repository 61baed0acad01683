package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/custos-gateway/custos/audit"
	"github.com/custos-gateway/custos/audit/ledger"
)

func creditCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "credit",
		Short: "Prepaid credit offline: top up, balances, history, verify (on a log no server holds, or a copy)",
		Long: `Credit works on an audit log file directly: the balances and the journal live in it.
topup writes to the file and needs it free (stop the gateway, or top up through it);
balance, history and verify only read, and work on a copy.`,
	}
	cmd.AddCommand(topupCmd(), balanceCmd(), historyCmd(), creditVerifyCmd(), creditReconcileCmd())
	return cmd
}

func topupCmd() *cobra.Command {
	var db, account, amount, currency, reference, op, signingKey, anchor string
	cmd := &cobra.Command{
		Use:   "topup --db FILE --account TENANT[/APP] --amount 100.00 --currency USD --signing-key FILE",
		Short: "Add prepaid credit (or, with --op, adjust, refund or expire it) with a durable, signed record",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if db == "" || account == "" || amount == "" || signingKey == "" {
				return errors.New("--db, --account, --amount and --signing-key are required")
			}
			micros, err := ledger.ParseAmount(amount)
			if err != nil {
				return err
			}
			if err := newestFile(db); err != nil {
				return err
			}
			signer, err := audit.LoadSigner(signingKey)
			if err != nil {
				return err
			}
			opts := audit.Options{Instance: "custos-credit", Signer: signer}
			if anchor != "" {
				opts.Anchors = []audit.Anchor{audit.NewFileAnchor(anchor)}
			}
			led, log, err := ledger.OpenBolt(db, opts, ledger.Options{})
			if err != nil {
				return fmt.Errorf("%w (a running gateway holds the file: top up through it, or stop it)", err)
			}
			a, err := led.Credit(cmd.Context(), audit.Credit{Op: op, Account: account, Micros: micros, Currency: currency, Reference: reference, Actor: "cli"})
			if cerr := log.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: balance %s %s\n", a.Name, ledger.FormatAmount(a.Balance), a.Currency)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&db, "db", "", "the audit log file (not held by a running gateway)")
	f.StringVar(&account, "account", "", "tenant, or tenant/app")
	f.StringVar(&amount, "amount", "", "decimal amount, at most six places (negative for a refund, an expiry or a debit)")
	f.StringVar(&currency, "currency", "USD", "ISO 4217 code")
	f.StringVar(&reference, "reference", "", "invoice or ticket number")
	f.StringVar(&op, "op", audit.CreditTopUp, "topup, adjust, refund or expire")
	f.StringVar(&signingKey, "signing-key", "", "the gateway's checkpoint signing key (PEM), so the file stays verifiable")
	f.StringVar(&anchor, "checkpoints", "", "the anchor file to append the new checkpoint to")
	return cmd
}

func balanceCmd() *cobra.Command {
	var db string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "balance --db FILE",
		Short: "Print every account's balance as the file holds it (read-only)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if db == "" {
				return errors.New("--db is required")
			}
			bals, err := ledger.Balances(db)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				return writeJSON(out, bals)
			}
			tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ACCOUNT\tBALANCE\tCURRENCY")
			for _, b := range bals {
				fmt.Fprintf(tw, "%s\t%s\t%s\n", b.Account, ledger.FormatAmount(b.Micros), b.Currency)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&db, "db", "", "audit log file (or a copy)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON (amounts in micro-units)")
	return cmd
}

func historyCmd() *cobra.Command {
	var dbs []string
	var account string
	var chain, asJSON bool
	cmd := &cobra.Command{
		Use:   "history --db FILE [--chain] [--account TENANT[/APP]]",
		Short: "Print the journal: every charge and credit with the balance after it (read-only)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			files, err := ledgerFiles(dbs, chain)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			if !asJSON {
				fmt.Fprintln(tw, "TIME\tOP\tACCOUNT\tAMOUNT\tBALANCE\tCURRENCY\tREQUEST\tAUDIT SEQ")
			}
			err = ledger.History(files, account, func(_ string, e ledger.Entry) error {
				if asJSON {
					b, _ := json.Marshal(e)
					_, err := fmt.Fprintf(out, "%s\n", b)
					return err
				}
				_, err := fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\n", e.Time.Format(time.RFC3339), e.Op, e.Account,
					ledger.FormatAmount(e.Micros), ledger.FormatAmount(e.Balance), e.Currency, e.RequestID, e.AuditSeq)
				return err
			})
			if err != nil {
				return err
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringArrayVar(&dbs, "db", nil, "audit log file (repeat for the files of one chain)")
	cmd.Flags().BoolVar(&chain, "chain", false, "also read the monthly files that continue each --db")
	cmd.Flags().StringVar(&account, "account", "", "only this account")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON lines (amounts in micro-units)")
	return cmd
}

func creditVerifyCmd() *cobra.Command {
	var dbs []string
	var pubkey string
	var chain, asJSON bool
	cmd := &cobra.Command{
		Use:   "verify --db FILE [--chain] [--pubkey FILE]",
		Short: "Recompute every balance from the journal and reconcile it with the audit records; exit 0 only when both hold",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			files, err := ledgerFiles(dbs, chain)
			if err != nil {
				return err
			}
			opts, err := verifyOptions(pubkey, nil, files, chain)
			if err != nil {
				return err
			}
			arep, err := audit.VerifyFiles(files, opts)
			if err != nil {
				return err
			}
			rep, err := ledger.VerifyFiles(files)
			if err != nil {
				return err
			}
			printCreditReport(cmd.OutOrStdout(), arep, rep, asJSON)
			if !arep.Intact() || !rep.OK() {
				return errFailed
			}
			return nil
		},
	}
	cmd.Flags().StringArrayVar(&dbs, "db", nil, "audit log file (repeat for the files of one chain)")
	cmd.Flags().BoolVar(&chain, "chain", false, "also verify the monthly files that continue each --db")
	cmd.Flags().StringVar(&pubkey, "pubkey", "", "Ed25519 public key (PEM) that signs checkpoints")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the reports as JSON")
	return cmd
}

func ledgerFiles(dbs []string, chain bool) ([]string, error) {
	if len(dbs) == 0 {
		return nil, errors.New("--db is required")
	}
	return verifyFiles(dbs, chain)
}

func printCreditReport(out io.Writer, arep *audit.Report, rep *ledger.Report, asJSON bool) {
	if asJSON {
		writeJSON(out, map[string]any{"audit": arep, "ledger": rep})
		return
	}
	fmt.Fprintf(out, "audit log: %s (%d records)\n", arep.Status(), arep.Verified)
	if arep.Problem != nil {
		fmt.Fprintf(out, "TAMPERED at sequence %d: %s: %s\n", arep.Problem.Seq, arep.Problem.Kind, arep.Problem.Detail)
	}
	fmt.Fprintf(out, "journal: %d entries in %d audit records read\n", rep.Entries, rep.Records)
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ACCOUNT\tCURRENCY\tOPENING\tCREDITS\tCHARGES\tAUDIT COSTS\tBALANCE\tREQUESTS")
	for _, a := range rep.Accounts {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\n", a.Account, a.Currency, ledger.FormatAmount(a.Opening), ledger.FormatAmount(a.Credits),
			ledger.FormatAmount(a.Charges), ledger.FormatAmount(a.AuditCosts), ledger.FormatAmount(a.Balance), a.Requests)
	}
	tw.Flush()
	if rep.Problem != nil {
		fmt.Fprintf(out, "JOURNAL DOES NOT RECONCILE (%s): %s: %s\n", rep.Problem.File, rep.Problem.Kind, rep.Problem.Detail)
	} else {
		fmt.Fprintln(out, "journal reconciles: every balance recomputed, journal charges equal the audit costs")
	}
}

func writeJSON(out io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(out, "%s\n", b)
	return err
}

func usageCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "usage", Short: "Usage reports built from the audit log"}
	var dbs []string
	var chain bool
	var from, to, tenant, format string
	report := &cobra.Command{
		Use:   "report --db FILE [--chain] [--from T] [--to T] [--tenant X] [--format csv|json]",
		Short: "Requests, tokens and cost per day, tenant, app and model; reconciles with the audit log to the micro-unit",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			files, err := ledgerFiles(dbs, chain)
			if err != nil {
				return err
			}
			var f audit.Filter
			if f.From, err = parseTime(from); err != nil {
				return fmt.Errorf("--from: %w", err)
			}
			if f.To, err = parseTime(to); err != nil {
				return fmt.Errorf("--to: %w", err)
			}
			f.Tenant = tenant
			rows, err := ledger.UsageReport(files, f)
			if err != nil {
				return err
			}
			switch strings.ToLower(format) {
			case "csv":
				return ledger.WriteUsageCSV(cmd.OutOrStdout(), rows)
			case "json":
				return ledger.WriteUsageJSON(cmd.OutOrStdout(), rows)
			}
			return fmt.Errorf("--format %q: csv or json", format)
		},
	}
	report.Flags().StringArrayVar(&dbs, "db", nil, "audit log file (repeat for the files of one chain)")
	report.Flags().BoolVar(&chain, "chain", false, "also read the monthly files that continue each --db")
	report.Flags().StringVar(&from, "from", "", "first time included (RFC 3339 or YYYY-MM-DD)")
	report.Flags().StringVar(&to, "to", "", "first time excluded (RFC 3339 or YYYY-MM-DD)")
	report.Flags().StringVar(&tenant, "tenant", "", "only this tenant")
	report.Flags().StringVar(&format, "format", "csv", "csv or json")
	cmd.AddCommand(report)
	return cmd
}

// newestFile refuses a file monthly rotation has continued in a later one:
// a record added to it would fork the chain and the balances.
func newestFile(db string) error {
	newest, err := audit.NewestFile(db)
	if err != nil {
		return err
	}
	if filepath.Clean(newest) != filepath.Clean(db) {
		return fmt.Errorf("%s was continued in %s by monthly rotation: name that file", db, newest)
	}
	return nil
}
