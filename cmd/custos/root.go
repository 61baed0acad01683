package main

import "github.com/spf13/cobra"

func rootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "custos",
		Short:         "Custos: a privacy-first compliance gateway for LLM APIs",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(serveCmd(), keysCmd(), policyCmd(), auditCmd(), redactCmd(), benchCmd(), creditCmd(), usageCmd(), versionCmd())
	root.Version = "(run custos version)" // --version prints the full build info
	cobra.AddTemplateFunc("buildInfo", buildInfo)
	root.SetVersionTemplate("{{buildInfo}}")
	return root
}
