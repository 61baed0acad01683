package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/custos-gateway/custos/audit"
	"github.com/custos-gateway/custos/gateway"
	"github.com/custos-gateway/custos/gateway/auth"
	"github.com/custos-gateway/custos/gateway/config"
)

// serveFlags are serve's command line: overrides applied to the config
// before it is validated.
type serveFlags struct {
	configPath, devKey, listen, policyDir, auditPath string
	dev                                              bool
}

func serveCmd() *cobra.Command {
	var f serveFlags
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the gateway (--config FILE, or --dev for the embedded default)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := f.config(cmd.Flags().Changed("listen"))
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			logger, flushLog := gateway.NewLogger(cfg.Log, os.Stderr)
			defer flushLog()
			return gateway.Run(ctx, cfg, gateway.Deps{
				Logger:   logger,
				Reload:   hangups(),
				OnListen: func(addr net.Addr) { f.banner(cmd.OutOrStdout(), cfg, addr) },
			})
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.configPath, "config", "", "YAML configuration file")
	fl.BoolVar(&f.dev, "dev", false, "serve the embedded development default (echo provider, no files, no Vault)")
	fl.StringVar(&f.devKey, "dev-key", "", "with --dev: use this app key instead of a random one")
	fl.StringVar(&f.listen, "listen", "", "listen address host:port (overrides the config)")
	fl.StringVar(&f.policyDir, "policies", "", "serve this policy directory, hot-reloaded (default: the embedded policies)")
	fl.StringVar(&f.auditPath, "audit", "", "with --dev: the audit log file (default custos-dev/audit.db)")
	return cmd
}

// config builds the configuration: defaults (or the dev default), the file,
// the environment, then the flags; validated once.
func (f *serveFlags) config(listenSet bool) (*config.Config, error) {
	var cfg *config.Config
	var err error
	switch {
	case f.dev && f.configPath != "":
		return nil, errors.New("--dev and --config exclude each other")
	case f.dev:
		cfg, err = f.devConfig()
	case f.configPath != "":
		cfg, err = config.Read(f.configPath, nil)
	default:
		return nil, errors.New("give --config FILE, or --dev for the embedded default")
	}
	if err != nil {
		return nil, err
	}
	if listenSet {
		cfg.Listen = f.listen
	}
	if f.policyDir != "" {
		cfg.Policy.Dir = f.policyDir
	}
	if err := cfg.Validate(); err != nil {
		if f.dev {
			return nil, fmt.Errorf("dev config: %w", err)
		}
		return nil, fmt.Errorf("config %s: %w", f.configPath, err)
	}
	return cfg, nil
}

// devConfig is the embedded default with the environment applied: a dev
// key (random unless given), the audit log and its signing key in
// custos-dev/.
func (f *serveFlags) devConfig() (*config.Config, error) {
	if f.devKey == "" {
		k, _, _, err := auth.NewKey()
		if err != nil {
			return nil, err
		}
		f.devKey = k
	}
	hash, _ := auth.HashKey(f.devKey)
	listen := f.listen
	if listen == "" {
		listen = "127.0.0.1:8080"
	}
	auditPath := f.auditPath
	if auditPath == "" {
		auditPath = filepath.Join("custos-dev", "audit.db")
	}
	keyFile, err := devSigningKey(filepath.Dir(auditPath))
	if err != nil {
		return nil, err
	}
	cfg := config.Dev(listen, hash, auditPath, keyFile)
	return cfg, cfg.ApplyEnv(nil)
}

// banner tells the operator where the gateway listens; in dev mode also the
// key and a first request to try.
func (f *serveFlags) banner(out io.Writer, cfg *config.Config, addr net.Addr) {
	scheme := "http"
	if cfg.TLS.Enabled() {
		scheme = "https"
	}
	fmt.Fprintf(out, "custos listening on %s://%s\n", scheme, addr)
	if !f.dev {
		return
	}
	fmt.Fprintf(out, "audit log: %s (verify with: custos audit verify --db %s --pubkey %s.pub)\n",
		cfg.Audit.Path, cfg.Audit.Path, cfg.Audit.SigningKeyFile)
	fmt.Fprintf(out, "dev app key: %s\n", f.devKey)
	fmt.Fprintf(out, "try: curl -s %s://%s/v1/chat/completions -H 'Authorization: Bearer %s' -H 'Content-Type: application/json' -d '{\"model\":\"echo\",\"messages\":[{\"role\":\"user\",\"content\":\"hello\"}]}'\n",
		scheme, addr, f.devKey)
}

// hangups turns SIGHUP into policy reload requests.
func hangups() <-chan struct{} {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGHUP)
	out := make(chan struct{}, 1)
	go func() {
		for range sig {
			select {
			case out <- struct{}{}:
			default: // a reload is already pending
			}
		}
	}()
	return out
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
