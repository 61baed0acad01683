package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/spf13/cobra"

	"github.com/custos-gateway/custos/audit/ledger"
	"github.com/custos-gateway/custos/audit/ledger/pgledger"
	"github.com/custos-gateway/custos/gateway"
	"github.com/custos-gateway/custos/gateway/config"
)

// creditReconcileCmd verifies the PostgreSQL ledger and pairs its charges
// with the replicas' audit logs.
func creditReconcileCmd() *cobra.Command {
	var dsn, cfgPath string
	var dbs []string
	var chain, resettle, asJSON bool
	cmd := &cobra.Command{
		Use:   "reconcile --postgres DSN --db FILE [--db FILE...] [--resettle --config FILE]",
		Short: "Verify the PostgreSQL ledger and reconcile its charges with the replicas' audit logs; exit 0 only when both hold",
		Long: `reconcile replays the shared ledger's journal (every chain, balance, reservation and budget figure) and
pairs the charges made by the replicas whose audit logs are given with their outcome records, by request id.
The password comes from PGPASSWORD (or a .pgpass file), never the command line. With --resettle and the
gateways' --config, outcomes recorded while PostgreSQL did not answer are charged now, each at most once.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if dsn == "" || len(dbs) == 0 {
				return errors.New("--postgres and --db are required")
			}
			files, err := verifyFiles(dbs, chain)
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), 5*time.Minute)
			defer cancel()
			pool, err := pgledger.Connect(ctx, dsn, 2, 10*time.Second)
			if err != nil {
				return err
			}
			defer pool.Close()
			rep, err := pgledger.Verify(ctx, pool)
			if err != nil {
				return err
			}
			rec, err := pgledger.Reconcile(ctx, pool, files, pgledger.ReconcileOptions{})
			if err != nil {
				return err
			}
			if resettle && len(rec.Uncharged) > 0 {
				if err := resettleUncharged(ctx, cmd.OutOrStdout(), pool, cfgPath, rec); err != nil {
					return err
				}
				if rec, err = pgledger.Reconcile(ctx, pool, files, pgledger.ReconcileOptions{}); err != nil {
					return err
				}
			}
			printReconciliation(cmd.OutOrStdout(), rep, rec, asJSON)
			if !rep.OK() || !rec.OK() {
				return errFailed
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&dsn, "postgres", "", "the ledger's connection string (postgres://user@host/db?sslmode=verify-full)")
	cmd.Flags().StringArrayVar(&dbs, "db", nil, "a replica's audit log file (repeat for each replica)")
	cmd.Flags().BoolVar(&chain, "chain", false, "also read the monthly files that continue each --db")
	cmd.Flags().BoolVar(&resettle, "resettle", false, "charge the outcomes the ledger has no charge for (needs --config)")
	cmd.Flags().StringVar(&cfgPath, "config", "", "the gateways' configuration (budgets and postpaid tenants, for --resettle)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the reports as JSON")
	return cmd
}

// resettleUncharged charges the uncharged outcomes with the gateways' own
// ledger settings.
func resettleUncharged(ctx context.Context, out io.Writer, pool *pgxpool.Pool, cfgPath string, rec *pgledger.Reconciliation) error {
	if cfgPath == "" {
		return errors.New("--resettle needs --config: budgets and postpaid tenants decide how a charge counts")
	}
	cfg, err := config.Read(cfgPath, nil)
	if err != nil {
		return err
	}
	led, err := pgledger.Open(ctx, pool, nil, pgledger.Options{Options: gateway.LedgerOptions(cfg), Replica: "custos-cli", NoLog: true})
	if err != nil {
		return err
	}
	defer led.Close()
	res, err := led.Resettle(ctx, rec.Uncharged)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "resettled: %d charged now, %d charged before, %d refused (no such account, or another currency)\n", res.Charged, res.Already, res.Refused)
	return nil
}

func printReconciliation(out io.Writer, rep *pgledger.Report, rec *pgledger.Reconciliation, asJSON bool) {
	if asJSON {
		writeJSON(out, map[string]any{"ledger": rep, "reconciliation": rec})
		return
	}
	fmt.Fprintf(out, "journal: %d entries\n", rep.Entries)
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ACCOUNT\tCURRENCY\tCREDITS\tCHARGES\tBALANCE\tHELD\tREQUESTS")
	for _, a := range rep.Accounts {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\n", a.Account, a.Currency, ledger.FormatAmount(a.Credits),
			ledger.FormatAmount(a.Charges), ledger.FormatAmount(a.Balance), ledger.FormatAmount(a.Held), a.Requests)
	}
	tw.Flush()
	if rep.Problem != nil {
		fmt.Fprintf(out, "JOURNAL DOES NOT VERIFY: %+v\n", *rep.Problem)
	}
	fmt.Fprintf(out, "replicas %v: %d charges, %d outcomes, %d matched; %s charged, %s in the outcome records\n", rec.Replicas,
		rec.Charges, rec.Outcomes, rec.Matched, ledger.FormatAmount(rec.ChargedMicros), ledger.FormatAmount(rec.OutcomeMicros))
	fmt.Fprintf(out, "charged without an outcome record: %d; recorded without a charge: %d; different: %d\n",
		len(rec.MissingOutcome), len(rec.Uncharged), len(rec.Different))
}
