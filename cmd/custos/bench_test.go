package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/custos-gateway/custos/gateway/bench"
)

func TestBenchFlagsToOptions(t *testing.T) {
	for _, tc := range []struct {
		name  string
		args  []string
		check func(t *testing.T, o bench.Options)
	}{
		{"defaults", nil, func(t *testing.T, o bench.Options) {
			s := o.Workload.Summarize()
			if o.Load.Connections != 1 || o.Load.Duration != 10*time.Second || o.Load.RPS != 0 || s.Routes[bench.RouteChat] != s.Requests {
				t.Errorf("load %+v, workload %+v", o.Load, s)
			}
		}},
		{"open loop synthetic mix", []string{"--rps", "250", "-c", "16", "--requests", "500", "--prompt-bytes", "200-400",
			"--routes", "chat=3,embeddings=1", "--stream", "1", "--models", "a,b", "--target", "http://127.0.0.1:8080", "--key", "cst_x"},
			func(t *testing.T, o bench.Options) {
				s := o.Workload.Summarize()
				if o.Load.RPS != 250 || o.Load.Connections != 16 || o.Load.Requests != 500 {
					t.Errorf("load %+v", o.Load)
				}
				if s.Routes[bench.RouteEmbeddings] == 0 || s.Models["a"] == 0 || s.Models["b"] == 0 || s.MaxBytes > 700 {
					t.Errorf("workload %+v", s)
				}
				if len(o.Targets) != 1 || o.Targets[0].Name != bench.CustosName || o.Targets[0].Key != "cst_x" {
					t.Errorf("targets %+v", o.Targets)
				}
			}},
		{"workload file and baselines", []string{"--workload", "../../gateway/bench/testdata/workload.jsonl", "--stub", "--bare-proxy",
			"--stub-ttft", "20ms", "--json", "--html", "r.html"},
			func(t *testing.T, o bench.Options) {
				if len(o.Workload.Requests) != 5 || !o.Stub || !o.BareProxy || o.StubOptions.TTFT != 20*time.Millisecond || !o.JSON || o.HTMLFile != "r.html" {
					t.Errorf("options %+v", o)
				}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bf := &benchFlags{}
			cmd := newBenchCmd(bf)
			if err := cmd.ParseFlags(tc.args); err != nil {
				t.Fatal(err)
			}
			o, err := bf.options(io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			if o.Progress != nil {
				t.Error("progress drawn on a writer that is not a terminal")
			}
			tc.check(t, o)
		})
	}
}

func TestBenchRefusesRemoteTarget(t *testing.T) {
	for _, args := range [][]string{
		{"bench", "--target", "http://203.0.113.9:8080", "--requests", "1"},
		{"bench", "--direct", "https://api.example.com", "--requests", "1"},
	} {
		root := rootCmd()
		root.SetArgs(args)
		root.SetOut(io.Discard)
		err := root.Execute()
		if !errors.Is(err, bench.ErrRemoteTarget) || !strings.Contains(err.Error(), "--allow-remote") {
			t.Errorf("%v: err = %v, want a refusal naming --allow-remote", args, err)
		}
	}
}

func TestBenchHelpTeachesOwnWorkload(t *testing.T) {
	root := rootCmd()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetArgs([]string{"bench", "--help"})
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"--workload", "batch-file", `"url":"/v1/chat/completions"`, "--allow-remote",
		"a benchmark is load", "custos bench stub", "custos bench suite --stub", "--rps", "--bare-proxy"} {
		if !strings.Contains(strings.ToLower(out.String()), strings.ToLower(want)) {
			t.Errorf("bench --help lacks %q", want)
		}
	}
}

// TestBenchSuiteEndToEnd runs the real binary's suite briefly: the stub, the
// bare proxy and custos serve as child processes, plain and streamed.
func TestBenchSuiteEndToEnd(t *testing.T) {
	bin := buildCustos(t)
	cmd := exec.Command(bin, "bench", "suite", "--stub", "--duration", "300ms", "--warmup", "100ms", "--connections", "1,4",
		"--rounds", "2", "--json")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("suite: %v\n%s", err, stderr.String())
	}
	var rep bench.Report
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("suite --json: %v\n%s", err, stdout.String())
	}
	wantLoads := []string{"plain, c=1", "plain, c=4", "streamed, c=1", "streamed, c=4"}
	if len(rep.Loads) != len(wantLoads) {
		t.Fatalf("%d loads, want %v", len(rep.Loads), wantLoads)
	}
	for i, lr := range rep.Loads {
		if lr.Name != wantLoads[i] || len(lr.Results) != 3 {
			t.Fatalf("load %d: %q with %d targets", i, lr.Name, len(lr.Results))
		}
		for j, r := range lr.Results {
			if want := []string{bench.DirectName, bench.BareProxyName, bench.CustosName}[j]; r.Target != want {
				t.Errorf("%s: target %d is %q, want %q", lr.Name, j, r.Target, want)
			}
			if len(r.RoundsRPS) != 2 || r.RPS != min(r.RoundsRPS[0], r.RoundsRPS[1]) {
				t.Errorf("%s, %s: requests/s by round %v, reported %v: want 2 rounds, the lower of the two", lr.Name, r.Target, r.RoundsRPS, r.RPS)
			}
			if r.Requests == 0 || r.OK != r.Requests {
				t.Errorf("%s, %s: %d requests, %d ok, errors %v", lr.Name, r.Target, r.Requests, r.OK, r.Errors)
			}
			if r.Server == nil || r.Server.PID == 0 || r.Server.PeakRSSBytes == 0 || r.Bench == nil {
				t.Errorf("%s, %s: no process accounting: %+v", lr.Name, r.Target, r.Server)
			}
			if strings.HasPrefix(lr.Name, "streamed") && r.TTFT == nil {
				t.Errorf("%s, %s: no time to first token", lr.Name, r.Target)
			}
		}
		if gw := lr.Results[2]; gw.VsBare == nil || gw.VsBare.RPS == nil || gw.VsBare.PeakRSS == nil || gw.AddedP50MS == nil {
			t.Errorf("%s: custos has no ratios to the bare proxy: %+v", lr.Name, gw.VsBare)
		}
	}
	if !slices.ContainsFunc(rep.Notes, func(n string) bool { return strings.HasPrefix(n, "plain, c=4: requests/s by round: direct ") }) {
		t.Errorf("no note lists the rounds: %q", rep.Notes)
	}
	if rep.Host.FsyncP50US <= 0 || rep.Host.CommitP50US <= 0 {
		t.Errorf("disk floor not measured: %+v", rep.Host)
	}
}
