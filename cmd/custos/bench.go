package main

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/custos-gateway/custos/gateway/bench"
)

const benchLong = `Replay a workload against a gateway and, in the same run, against the upstream
directly and through a bare Go reverse proxy, and report what the gateway adds:
latency p50/p90/p99/p99.9 (from each request's intended send time), time to first
token of streams, requests/s, errors by status and error code, and - when the
servers run on this machine - their CPU per request and peak memory. Bench's own
CPU per request is measured and reported too.

A benchmark is load: bench refuses targets that are not loopback (127.0.0.0/8,
::1, localhost) unless --allow-remote. Never point it at a provider you pay for
or a gateway you do not run, and remember that a local gateway in front of a real
provider forwards the load there: put it in front of the stub below.

The workload is either your own requests, a JSONL file in the OpenAI batch-file
shape (one request per line, bodies exactly as your app sends them):

  {"custom_id":"r1","method":"POST","url":"/v1/chat/completions","body":{"model":"gpt-4o-mini","messages":[...]}}

(url one of /v1/chat/completions, /v1/messages, /v1/responses, /v1/embeddings;
"stream":true in a body is replayed as a stream), or a synthetic profile:
--prompt-bytes, --stream, --pii, --models, --routes.

Closed loop (default): --concurrency requests in flight, each sent when the last
ended. Open loop: --rps, with at most --concurrency in flight; a request that
waits for a free connection counts its wait, so a stalled server shows up.

Most useful: run your gateway in front of the built-in stub upstream (no
provider, no cost, 0 ms unless told), then measure it against the stub and the
bare proxy:

  custos bench stub --listen 127.0.0.1:9090 &      # base_url http://127.0.0.1:9090/v1 in your config
  CUSTOS_BENCH_KEY=cst_... custos bench --direct http://127.0.0.1:9090 --bare-proxy \
      --target http://127.0.0.1:8080 \
      --workload my-requests.jsonl --concurrency 16 --duration 20s --html report.html

Or reproduce the published comparison in one command (starts the stub, a bare
proxy and custos serve with a generated config):

  custos bench suite --stub`

type benchFlags struct {
	o                     bench.Options
	target, name, key     string
	direct, directKey     string
	targetPID             int
	workload              string
	prompt, routes        string
	profile               bench.Profile
	models                string
	noProgress            bool
	stubTokens            int
	stubLatency, stubTTFT time.Duration
	stubITL               time.Duration
}

func benchCmd() *cobra.Command { return newBenchCmd(&benchFlags{}) }

func newBenchCmd(bf *benchFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure what a gateway adds over its upstream, on your own workload",
		Long:  benchLong,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o, err := bf.options(cmd.OutOrStdout())
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			_, err = bench.Run(ctx, o)
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&bf.target, "target", "", "the gateway to measure: base URL such as http://127.0.0.1:8080")
	f.StringVar(&bf.name, "name", bench.CustosName, "what to call --target in the report")
	f.StringVar(&bf.key, "key", "", "app key sent to --target (default $CUSTOS_BENCH_KEY)")
	f.IntVar(&bf.targetPID, "target-pid", 0, "process serving --target, for CPU and memory (default: found from its loopback port)")
	f.StringVar(&bf.direct, "direct", "", "the upstream itself, measured in the same run as the baseline")
	f.StringVar(&bf.directKey, "direct-key", "", "key sent to --direct (default $CUSTOS_BENCH_DIRECT_KEY)")
	f.BoolVar(&bf.o.BareProxy, "bare-proxy", false, "also measure a bare Go reverse proxy in front of --direct (or --stub)")
	f.BoolVar(&bf.o.Stub, "stub", false, "start the built-in stub upstream and measure it as --direct")
	f.StringVar(&bf.o.StubListen, "stub-listen", "127.0.0.1:0", "with --stub: its address, to point a gateway at it")
	addStubFlags(f, &bf.stubLatency, &bf.stubTTFT, &bf.stubITL, &bf.stubTokens, "stub-")
	f.StringVar(&bf.workload, "workload", "", "JSONL file of requests in the OpenAI batch-file shape")
	f.StringVar(&bf.prompt, "prompt-bytes", "1000", "synthetic: prompt size in bytes, N or MIN-MAX")
	f.Float64Var(&bf.profile.StreamShare, "stream", 0, "synthetic: share of requests streamed, 0 to 1")
	f.Float64Var(&bf.profile.PIIPerKB, "pii", 0, "synthetic: invented personal data values per KB of prompt")
	f.StringVar(&bf.models, "models", "gpt-4o-mini", "synthetic: models, comma-separated, used in turn")
	f.StringVar(&bf.routes, "routes", "chat", "synthetic: route mix, e.g. chat=8,messages=1,embeddings=1")
	f.IntVar(&bf.profile.MaxTokens, "max-tokens", 256, "synthetic: max_tokens asked for")
	f.IntVar(&bf.profile.Variants, "variants", 256, "synthetic: distinct requests generated and cycled")
	f.Uint64Var(&bf.profile.Seed, "seed", 1, "synthetic: random seed")
	addLoadFlags(f, &bf.o.Load)
	addOutputFlags(f, &bf.o.JSON, &bf.o.HTMLFile, &bf.o.AllowRemote, &bf.noProgress)
	cmd.AddCommand(benchSuiteCmd(), benchStubCmd(), benchProxyCmd())
	return cmd
}

func addLoadFlags(f *pflag.FlagSet, l *bench.Load) {
	f.IntVarP(&l.Connections, "concurrency", "c", 1, "requests in flight (closed loop), or at most in flight (open loop)")
	f.Float64Var(&l.RPS, "rps", 0, "open loop: send at this rate (requests/s) instead of closed loop")
	f.DurationVar(&l.Duration, "duration", 10*time.Second, "length of the measured phase, per target")
	f.IntVar(&l.Requests, "requests", 0, "stop after this many measured requests per target (instead of --duration)")
	f.DurationVar(&l.Warmup, "warmup", time.Second, "unmeasured load first, per target")
	f.DurationVar(&l.Timeout, "timeout", time.Minute, "per-request timeout")
}

func addOutputFlags(f *pflag.FlagSet, asJSON *bool, html *string, remote, noProgress *bool) {
	f.BoolVar(asJSON, "json", false, "write the report as JSON instead of a table")
	f.StringVar(html, "html", "", "also write an HTML report with a latency chart to this file")
	f.BoolVar(remote, "allow-remote", false, "allow targets that are not loopback (a benchmark is load: only on servers you run)")
	f.BoolVar(noProgress, "no-progress", false, "no progress line (it is drawn only when stdout is a terminal)")
}

func addStubFlags(f *pflag.FlagSet, latency, ttft, itl *time.Duration, tokens *int, prefix string) {
	f.DurationVar(latency, prefix+"latency", 0, "stub: wait before the response header")
	f.DurationVar(ttft, prefix+"ttft", 0, "stub: wait before the first token (plain answers too)")
	f.DurationVar(itl, prefix+"itl", 0, "stub: wait between tokens")
	f.IntVar(tokens, prefix+"tokens", 16, "stub: completion tokens per answer")
}

// options turns the flags into bench options.
func (bf *benchFlags) options(out io.Writer) (bench.Options, error) {
	o := bf.o
	o.Out = out
	o.Progress = progressWriter(out, bf.noProgress)
	o.StubOptions = bench.StubOptions{Latency: bf.stubLatency, TTFT: bf.stubTTFT, ITL: bf.stubITL, Tokens: bf.stubTokens}
	if self, err := os.Executable(); err == nil {
		o.Self = self
	}
	if bf.direct != "" {
		o.Targets = append(o.Targets, bench.Target{Name: bench.DirectName, URL: bf.direct,
			Key: orEnv(bf.directKey, "CUSTOS_BENCH_DIRECT_KEY")})
	}
	if bf.target != "" {
		o.Targets = append(o.Targets, bench.Target{Name: bf.name, URL: bf.target,
			Key: orEnv(bf.key, "CUSTOS_BENCH_KEY"), PID: bf.targetPID})
	}
	var err error
	if bf.workload != "" {
		o.Workload, err = bench.ReadWorkloadFile(bf.workload)
		return o, err
	}
	p := bf.profile
	if p.PromptMin, p.PromptMax, err = bench.ParseRange(bf.prompt); err != nil {
		return o, err
	}
	if p.Routes, err = bench.ParseRoutes(bf.routes); err != nil {
		return o, err
	}
	p.Models = strings.Split(bf.models, ",")
	o.Workload, err = p.Generate()
	return o, err
}

func orEnv(v, env string) string {
	if v != "" {
		return v
	}
	return os.Getenv(env)
}

// progressWriter is out when it is a terminal, else nil.
func progressWriter(out io.Writer, off bool) io.Writer {
	if f, ok := out.(*os.File); ok && !off && bench.IsTerminal(f) {
		return f
	}
	return nil
}

func benchSuiteCmd() *cobra.Command {
	var so bench.SuiteOptions
	var conns string
	var noProgress bool
	cmd := &cobra.Command{
		Use:   "suite",
		Short: "Reproduce the published comparison: direct, bare Go proxy and Custos, plain and streamed",
		Long: `Start the stub upstream (--stub), a bare Go reverse proxy and custos serve with a
generated configuration (a keyless endpoint at the stub, a fresh app key, an audit
log and signing key in a temporary directory), then measure plain and streamed
chat completions at each connection count against all three. Reports added p50,
requests/s, CPU per request and peak RSS, with Custos's ratios to the bare proxy,
and the disk's fsync and bbolt commit cost measured in the same run.

  custos bench suite --stub
  custos bench suite --stub --connections 1,16,64 --duration 8s --html suite.html`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var err error
			if so.Connections, err = bench.ParseInts(conns); err != nil {
				return err
			}
			if so.Self, err = os.Executable(); err != nil {
				return fmt.Errorf("finding the custos executable: %w", err)
			}
			so.Out = cmd.OutOrStdout()
			so.Progress = progressWriter(so.Out, noProgress)
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			_, err = bench.RunSuite(ctx, so)
			return err
		},
	}
	f := cmd.Flags()
	f.BoolVar(&so.Stub, "stub", false, "start the built-in stub upstream")
	f.StringVar(&so.Direct, "direct", "", "instead of --stub: an OpenAI-compatible upstream that takes no key")
	f.StringVar(&so.Target, "target", "", "measure this running gateway (in front of --direct) instead of starting one")
	f.StringVar(&so.Key, "key", "", "app key for --target")
	f.StringVar(&conns, "connections", "1,64", "connection counts, comma-separated")
	f.DurationVar(&so.Duration, "duration", 5*time.Second, "measured phase per target and load")
	f.DurationVar(&so.Warmup, "warmup", time.Second, "unmeasured load first, per target and load")
	f.IntVar(&so.PromptBytes, "prompt-bytes", 1000, "prompt size in bytes")
	f.IntVar(&so.Variants, "variants", 256, "distinct requests generated and cycled")
	f.IntVar(&so.Rounds, "rounds", 1, "measure each load this many times, the targets taking turns, and report each target's round of median requests/s")
	f.BoolVar(&so.NoInspectionCache, "no-inspection-cache", false,
		"run Custos with its inspection cache off: every text scanned as if never seen")
	addStubFlags(f, &so.StubOptions.Latency, &so.StubOptions.TTFT, &so.StubOptions.ITL, &so.StubOptions.Tokens, "stub-")
	addOutputFlags(f, &so.JSON, &so.HTMLFile, &so.AllowRemote, &noProgress)
	return cmd
}

func benchStubCmd() *cobra.Command {
	var o bench.StubOptions
	var listen string
	cmd := &cobra.Command{
		Use:   "stub",
		Short: "Serve the stub upstream: OpenAI chat, responses and embeddings, Anthropic messages",
		Long: `Serve a lean upstream for load tests until interrupted: /v1/chat/completions
(plain and streamed, usage included when stream_options.include_usage is set),
/v1/messages (Anthropic, plain and streamed), /v1/responses and /v1/embeddings.
It accepts any key, keeps nothing, and answers in 0 ms unless told otherwise.
Point a keyless openai endpoint at http://<listen>/v1.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return bench.Serve(ctx, "stub", listen, bench.NewStubHandler(o), cmd.OutOrStdout())
		},
	}
	f := cmd.Flags()
	f.StringVar(&listen, "listen", "127.0.0.1:9090", "address to listen on")
	addStubFlags(f, &o.Latency, &o.TTFT, &o.ITL, &o.Tokens, "")
	return cmd
}

func benchProxyCmd() *cobra.Command {
	var upstream, listen string
	cmd := &cobra.Command{
		Use:    "proxy",
		Short:  "Serve the bare Go reverse proxy bench compares gateways with",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			h, err := bench.NewBareProxy(upstream)
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return bench.Serve(ctx, "bare proxy", listen, h, cmd.OutOrStdout())
		},
	}
	cmd.Flags().StringVar(&upstream, "upstream", "", "base URL to forward to")
	cmd.Flags().StringVar(&listen, "listen", "127.0.0.1:0", "address to listen on")
	return cmd
}
