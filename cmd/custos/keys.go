package main

import (
	"errors"
	"fmt"
	"slices"

	"github.com/spf13/cobra"

	"github.com/custos-gateway/custos/gateway/auth"
	"github.com/custos-gateway/custos/gateway/config"
)

func keysCmd() *cobra.Command {
	keys := &cobra.Command{Use: "keys", Short: "Manage Custos-issued app keys"}
	var tenant, app, configPath string
	create := &cobra.Command{
		Use:   "create",
		Short: "Mint a new app key; it is printed once and only its hash is kept",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if tenant == "" || app == "" {
				return errors.New("--tenant and --app are required")
			}
			if configPath != "" {
				cfg, err := config.Load(configPath, nil)
				if err != nil {
					return err
				}
				ti := slices.IndexFunc(cfg.Tenants, func(t config.Tenant) bool { return t.ID == tenant })
				if ti < 0 {
					return fmt.Errorf("tenant %q is not in %s", tenant, configPath)
				}
				if !slices.ContainsFunc(cfg.Tenants[ti].Apps, func(a config.App) bool { return a.ID == app }) {
					return fmt.Errorf("app %q is not in tenant %q of %s", app, tenant, configPath)
				}
			}
			key, hash, id, err := auth.NewKey()
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "key: %s\n", key)
			fmt.Fprintf(out, "\nThe key is shown only now; give it to the app's secret store.\n")
			fmt.Fprintf(out, "Add this to tenant %q, app %q, under keys: in the config:\n\n", tenant, app)
			fmt.Fprintf(out, "  - id: %s\n    sha256: %s\n", id, hash)
			return nil
		},
	}
	f := create.Flags()
	f.StringVar(&tenant, "tenant", "", "tenant id")
	f.StringVar(&app, "app", "", "app id")
	f.StringVar(&configPath, "config", "", "check that tenant and app exist in this config")
	keys.AddCommand(create)
	return keys
}
