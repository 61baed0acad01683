package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"time"

	"github.com/custos-gateway/custos/audit"
	"github.com/custos-gateway/custos/audit/ledger"
	"github.com/custos-gateway/custos/gateway/config"
	"github.com/custos-gateway/custos/policies"
	"github.com/custos-gateway/custos/policy"
)

// Deps are what Run takes from its caller besides the configuration.
type Deps struct {
	Logger *slog.Logger
	// Reload delivers policy reload requests (SIGHUP); nil for none.
	Reload <-chan struct{}
	// OnListen is called once the listener is open (the CLI prints its
	// banner); nil for nothing.
	OnListen func(addr net.Addr)
}

// ShutdownGrace bounds how long a stopping server waits for requests in
// flight, streams included.
const ShutdownGrace = 30 * time.Second

// Run serves the gateway a validated configuration describes until ctx
// ends, then drains: it stops accepting, finishes the requests in flight
// within ShutdownGrace, and closes the audit log with a signed head. The
// configuration is only read.
func Run(ctx context.Context, cfg *config.Config, deps Deps) error {
	log := deps.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if limit, from := ApplyMemoryLimit(cfg.Server); limit > 0 {
		log.Info("memory limit", "bytes", limit, "from", from)
	}
	engine, err := startPolicy(ctx, cfg, deps.Reload, log)
	if err != nil {
		return err
	}
	auditLog, led, closeAudit, err := openAudit(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer closeAudit()
	acct, err := openAccounting(ctx, cfg, log, auditLog, led)
	if err != nil {
		return err
	}
	defer acct.close()
	if err := grantDevCredit(ctx, cfg, acct.ledger, log); err != nil {
		return err
	}
	// Provider keys come from Vault only; a gateway that cannot read every
	// key it needs does not start.
	keys, err := NewKeySource(ctx, cfg, log)
	if err != nil {
		return err
	}
	var keySource KeySource
	if keys != nil {
		defer keys.Close()
		keySource = keys
	}
	srv, err := NewFromConfig(cfg, Wiring{Decider: engine, Audit: auditLog, Keys: keySource, Ledger: acct.ledger,
		RateLimiter: acct.limiter, Logger: log})
	if err != nil {
		return err
	}
	// What building the server left behind (parsed lexicons, the compiled
	// policy's intermediate forms) goes back to the OS before serving.
	debug.FreeOSMemory()
	stopMetrics, err := srv.serveMetrics(log)
	if err != nil {
		return err
	}
	defer stopMetrics()
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return err
	}
	if deps.OnListen != nil {
		deps.OnListen(ln.Addr())
	}
	return srv.serveUntil(ctx, ln, log)
}

// serveMetrics serves the metrics on their own listener when one is
// configured; the returned function stops it.
func (s *Server) serveMetrics(log *slog.Logger) (func(), error) {
	if !s.cfg.Metrics.On() || s.cfg.Metrics.Listen == "" {
		return func() {}, nil
	}
	h, err := metricsHandler(s.metrics, s.cfg.Metrics.BearerTokenFile)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", s.cfg.Metrics.Listen)
	if err != nil {
		return nil, fmt.Errorf("gateway: metrics listener: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle(s.metricsPath(), h)
	ms := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: time.Minute}
	go func() { _ = ms.Serve(ln) }()
	log.Info("metrics listening", "address", ln.Addr().String(), "path", s.metricsPath())
	return func() { _ = ms.Close() }, nil
}

// serveUntil serves on ln until ctx ends, then shuts down gracefully.
func (s *Server) serveUntil(ctx context.Context, ln net.Listener, log *slog.Logger) error {
	errc := make(chan error, 1)
	go func() { errc <- s.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	// Readiness fails first, so a load balancer moves new requests away
	// while this gateway still serves them.
	s.draining.Store(true)
	if d := s.cfg.Server.DrainDelay.Std(); d > 0 {
		log.Info("draining: not ready, still serving", "for", d.String())
		time.Sleep(d)
	}
	log.Info("shutting down; finishing requests in flight")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), ShutdownGrace)
	defer cancel()
	if err := s.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return <-errc
}

// startPolicy loads the policy set the config names (a directory, or the
// embedded policies), and keeps it current: watching the directory when
// asked, and reloading on every request from reload.
func startPolicy(ctx context.Context, cfg *config.Config, reload <-chan struct{}, log *slog.Logger) (*policy.Engine, error) {
	src := policy.FromFS(policies.FS, "embedded policies")
	if cfg.Policy.Dir != "" {
		src = policy.FromDir(cfg.Policy.Dir)
	}
	opts := policy.Options{Timeout: cfg.Policy.Timeout.Std(), Logger: log}
	engine, err := policy.NewUnready(ctx, src, opts)
	switch {
	case err != nil && !cfg.Policy.Watching():
		return nil, err
	case err != nil:
		// A watched directory can be fixed while Custos runs: start not
		// ready, refusing every request, until a good set is loaded.
		log.Error("policy set refused at start; not ready, and every request is refused until it is fixed",
			"source", src.String(), "error", err.Error())
	default:
		log.Info("policy set loaded", "source", src.String(), "revision", engine.Revision().String())
	}
	if cfg.Policy.Watching() {
		go func() {
			if err := engine.Watch(ctx, policy.DefaultDebounce); err != nil && !errors.Is(err, context.Canceled) {
				log.Error("policy watcher stopped", "error", err.Error())
			}
		}()
	}
	if reload != nil {
		go func() {
			for {
				select {
				case <-ctx.Done():
					return
				case <-reload:
					_, _ = engine.Reload(ctx)
				}
			}
		}()
	}
	return engine, nil
}

// openAudit opens the audit log, and the ledger whose journal rides in
// it, with the signer and anchors the config names; the returned function
// closes them, logging a failure to close.
func openAudit(ctx context.Context, cfg *config.Config, log *slog.Logger) (*audit.Log, *ledger.BoltLedger, func(), error) {
	signer, anchors, closeVault, err := auditVault(ctx, cfg, log)
	if err != nil {
		return nil, nil, nil, err
	}
	aopts := audit.Options{
		Instance: auditInstance(cfg), Signer: signer, Anchors: anchors,
		CheckpointEvery: cfg.Audit.CheckpointEvery, CheckpointInterval: cfg.Audit.CheckpointInterval.Std(),
		CheckpointFile: cfg.Audit.CheckpointFile, RotateMonthly: cfg.Audit.RotateMonthly,
		Durability: audit.Durability(cfg.Audit.Durability), FlushInterval: cfg.Audit.FlushInterval.Std(),
	}
	var led *ledger.BoltLedger
	var auditLog *audit.Log
	if cfg.Accounting.Ledger == "postgres" {
		auditLog, err = audit.Open(cfg.Audit.Path, aopts) // the journal is in PostgreSQL
	} else {
		led, auditLog, err = ledger.OpenBolt(cfg.Audit.Path, aopts, LedgerOptions(cfg))
	}
	if err != nil {
		closeVault()
		return nil, nil, nil, err
	}
	log.Info("audit log open", "path", auditLog.Path(), "head", auditLog.Head().Seq, "signing_key", signer.KeyID(),
		"durability", durabilityName(cfg.Audit.Durability))
	if cfg.Dev {
		log.Warn("dev mode: the signed chain head is kept in the audit file only, so a cut of its tail would not be detected")
	}
	return auditLog, led, func() {
		if err := auditLog.Close(); err != nil {
			log.Error("closing the audit log", "error", err.Error())
		}
		closeVault()
	}, nil
}

// auditInstance names this gateway in its audit records (and, with the
// PostgreSQL ledger, in the journal): audit.instance, else the host name.
func auditInstance(cfg *config.Config) string {
	if cfg.Audit.Instance != "" {
		return cfg.Audit.Instance
	}
	h, _ := os.Hostname()
	return h
}

func durabilityName(d string) string {
	if d == "" {
		return string(audit.DurabilityGroup)
	}
	return d
}

// grantDevCredit gives the dev tenant its starting credit the first time
// the dev gateway starts on an audit log, so that a newcomer sees cost and
// balance on the first request.
func grantDevCredit(ctx context.Context, cfg *config.Config, led Ledger, log *slog.Logger) error {
	if cfg.Accounting.DevCredit <= 0 {
		return nil
	}
	_, err := led.AccountFor(ctx, config.DevTenant, "")
	if !errors.Is(err, ledger.ErrNoAccount) {
		return err
	}
	a, err := led.Credit(ctx, audit.Credit{Op: audit.CreditTopUp, Account: config.DevTenant, Micros: cfg.Accounting.DevCredit,
		Currency: "USD", Reference: "dev-credit", Actor: "custos-serve-dev"})
	if err != nil {
		return fmt.Errorf("dev credit: %w", err)
	}
	log.Info("dev tenant credited", "account", a.Name, "available", ledger.FormatAmount(a.Available)+" "+a.Currency)
	return nil
}
