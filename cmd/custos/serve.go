package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/custos-gateway/custos/audit"
	"github.com/custos-gateway/custos/gateway"
	"github.com/custos-gateway/custos/gateway/auth"
	"github.com/custos-gateway/custos/gateway/config"
	"github.com/custos-gateway/custos/policies"
	"github.com/custos-gateway/custos/policy"
)

func serveCmd() *cobra.Command {
	var (
		configPath string
		dev        bool
		devKey     string
		listen     string
		policyDir  string
		auditPath  string
	)
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the gateway (--config FILE, or --dev for the embedded default)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var cfg *config.Config
			switch {
			case dev && configPath != "":
				return errors.New("--dev and --config exclude each other")
			case dev:
				if devKey == "" {
					k, _, _, err := auth.NewKey()
					if err != nil {
						return err
					}
					devKey = k
				}
				hash, _ := auth.HashKey(devKey)
				if listen == "" {
					listen = "127.0.0.1:8080"
				}
				if auditPath == "" {
					auditPath = filepath.Join("custos-dev", "audit.db")
				}
				keyFile, err := devSigningKey(filepath.Dir(auditPath))
				if err != nil {
					return err
				}
				cfg = config.Dev(listen, hash, auditPath, keyFile)
				if err := cfg.ApplyEnv(nil); err != nil {
					return err
				}
				if cmd.Flags().Changed("listen") {
					cfg.Listen = listen
				}
				if err := cfg.Validate(); err != nil {
					return fmt.Errorf("dev config: %w", err)
				}
			case configPath != "":
				var err error
				if cfg, err = config.Load(configPath, nil); err != nil {
					return err
				}
				if listen != "" {
					cfg.Listen = listen
				}
			default:
				return errors.New("give --config FILE, or --dev for the embedded default")
			}

			if policyDir != "" {
				cfg.Policy.Dir = policyDir
			}
			log := gateway.NewLogger(cfg.Log, os.Stderr)
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()

			src := policy.FromFS(policies.FS, "embedded policies")
			if cfg.Policy.Dir != "" {
				src = policy.FromDir(cfg.Policy.Dir)
			}
			engine, err := policy.New(ctx, src, policy.Options{Timeout: cfg.Policy.Timeout.Std(), Logger: log})
			if err != nil {
				return err
			}
			log.Info("policy set loaded", "source", src.String(), "revision", engine.Revision().String())
			if cfg.Policy.Watching() {
				go func() {
					if err := engine.Watch(ctx, policy.DefaultDebounce); err != nil {
						log.Error("policy watcher stopped", "error", err.Error())
					}
				}()
			}
			hup := make(chan os.Signal, 1)
			signal.Notify(hup, syscall.SIGHUP)
			defer signal.Stop(hup)
			go func() {
				for range hup {
					_, _ = engine.Reload(ctx)
				}
			}()

			signer, closeSigner, err := gateway.NewAuditSigner(ctx, cfg, log)
			if err != nil {
				return err
			}
			defer closeSigner()
			instance := cfg.Audit.Instance
			if instance == "" {
				instance, _ = os.Hostname()
			}
			auditLog, err := audit.Open(cfg.Audit.Path, audit.Options{
				Instance: instance, Signer: signer,
				CheckpointEvery: cfg.Audit.CheckpointEvery, CheckpointInterval: cfg.Audit.CheckpointInterval.Std(),
				CheckpointFile: cfg.Audit.CheckpointFile, RotateMonthly: cfg.Audit.RotateMonthly,
			})
			if err != nil {
				return err
			}
			defer func() {
				if err := auditLog.Close(); err != nil {
					log.Error("closing the audit log", "error", err.Error())
				}
			}()
			log.Info("audit log open", "path", cfg.Audit.Path, "head", auditLog.Head().Seq, "signing_key", signer.KeyID())

			// Provider keys come from Vault only; a gateway that cannot read
			// every key it needs does not start.
			keys, err := gateway.NewKeySource(ctx, cfg, log)
			if err != nil {
				return err
			}
			var keySource gateway.KeySource
			if keys != nil {
				defer keys.Close()
				keySource = keys
			}
			srv, err := gateway.NewFromConfig(cfg, engine, auditLog, keySource, log)
			if err != nil {
				return err
			}
			ln, err := net.Listen("tcp", cfg.Listen)
			if err != nil {
				return err
			}
			scheme := "http"
			if cfg.TLS.Enabled() {
				scheme = "https"
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "custos listening on %s://%s\n", scheme, ln.Addr())
			if dev {
				fmt.Fprintf(out, "audit log: %s (verify with: custos audit verify --db %s --pubkey %s.pub)\n",
					cfg.Audit.Path, cfg.Audit.Path, cfg.Audit.SigningKeyFile)
				fmt.Fprintf(out, "dev app key: %s\n", devKey)
				fmt.Fprintf(out, "try: curl -s %s://%s/v1/chat/completions -H 'Authorization: Bearer %s' -H 'Content-Type: application/json' -d '{\"model\":\"echo\",\"messages\":[{\"role\":\"user\",\"content\":\"hello\"}]}'\n",
					scheme, ln.Addr(), devKey)
			}

			errc := make(chan error, 1)
			go func() { errc <- srv.Serve(ln) }()
			select {
			case err := <-errc:
				return err
			case <-ctx.Done():
			}
			log.Info("shutting down; finishing requests in flight")
			shutdownCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if err := srv.Shutdown(shutdownCtx); err != nil {
				return fmt.Errorf("shutdown: %w", err)
			}
			return <-errc
		},
	}
	f := cmd.Flags()
	f.StringVar(&configPath, "config", "", "YAML configuration file")
	f.BoolVar(&dev, "dev", false, "serve the embedded development default (echo provider, no files, no Vault)")
	f.StringVar(&devKey, "dev-key", "", "with --dev: use this app key instead of a random one")
	f.StringVar(&listen, "listen", "", "listen address host:port (overrides the config)")
	f.StringVar(&policyDir, "policies", "", "serve this policy directory, hot-reloaded (default: the embedded policies)")
	f.StringVar(&auditPath, "audit", "", "with --dev: the audit log file (default custos-dev/audit.db)")
	return cmd
}

// devSigningKey returns the dev audit signing key in dir, creating the
// folder and a key pair on first use.
func devSigningKey(dir string) (string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	key := filepath.Join(dir, "audit-signing.pem")
	if _, err := os.Stat(key); err == nil {
		return key, nil
	}
	if _, err := audit.GenerateKeyFiles(key, key+".pub"); err != nil {
		return "", err
	}
	return key, nil
}
