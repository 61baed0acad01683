package main

import "github.com/spf13/cobra"

func rootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "custos",
		Short:         "Custos: a privacy-first compliance gateway for LLM APIs",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(serveCmd(), keysCmd(), policyCmd(), auditCmd(), redactCmd(), creditCmd(), usageCmd())
	return root
}
