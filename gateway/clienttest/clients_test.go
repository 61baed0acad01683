package clienttest_test

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/custos-gateway/custos/audit"
)

// pendingEnv says what to do with a scenario or check whose feature is
// absent: "skip" (the default: not run, and listed at the end of the log),
// "fail" (for checking that the pending lists are empty), or "run" (run it
// anyway, to see how it fails while building the feature).
const pendingEnv = "CUSTOS_CLIENTTEST_PENDING"

// TestClientLibraries runs every scenario (slow: one Node process each, a
// few at a time). What does not run for lack of a feature is listed at the
// end of the test's log.
func TestClientLibraries(t *testing.T) {
	node := requireNode(t)
	f := probeFeatures(t)
	nr := &notRun{features: f, mode: os.Getenv(pendingEnv)}
	if nr.mode != "" && nr.mode != "skip" && nr.mode != "fail" && nr.mode != "run" {
		t.Fatalf("%s=%q: want skip, fail or run", pendingEnv, nr.mode)
	}
	t.Run("scenario", func(t *testing.T) {
		for _, sc := range scenarios {
			t.Run(sc.name(), func(t *testing.T) {
				t.Parallel()
				if miss := f.missing(pending[sc.name()]); len(miss) > 0 {
					nr.skipScenario(t, sc.name(), miss)
				}
				runScenario(t, node, sc, nr)
			})
		}
	})
	t.Log(nr.report())
}

// Every pending entry names a scenario, so none can linger unnoticed.
func TestPendingNamesScenarios(t *testing.T) {
	names := map[string]bool{}
	for _, sc := range scenarios {
		if names[sc.name()] {
			t.Errorf("two scenarios are named %s", sc.name())
		}
		names[sc.name()] = true
	}
	for name, need := range pending {
		if !names[name] || len(need) == 0 {
			t.Errorf("pending entry %s names no scenario or no feature", name)
		}
		for _, n := range need {
			if probes[n] == nil {
				t.Errorf("pending entry %s: feature %q has no probe", name, n)
			}
		}
	}
	for c, n := range pendingChecks {
		if probes[n] == nil {
			t.Errorf("pending check %q: feature %q has no probe", c, n)
		}
	}
}

// runScenario starts a gateway with its own simulators (or a dev gateway),
// runs the scenario's script and checks what it observed.
func runScenario(t *testing.T, node string, sc scenario, nr *notRun) {
	settings := map[string]string{"SCENARIO": sc.op, "MODEL": sc.model, "PROMPT": sc.prompt}
	var records func(testing.TB) []audit.Record
	var g *custos
	if sc.dev {
		d := startDev(t)
		settings["BASE_URL"], settings["KEY"] = d.URL, devKey
		records = d.records
	} else {
		g = startCustos(t)
		g.sim(sc.model).Script(sc.replies...)
		settings["BASE_URL"], settings["KEY"] = g.URL, appKey
		records = g.records
	}
	obs := runScript(t, node, sc.script, settings)
	if !checkExchanges(t, sc, obs) {
		return
	}
	checkAnswer(t, sc, obs)
	if g != nil {
		checkReceived(t, sc, g)
	} else {
		checkEmbeddings(t, obs)
	}
	checkRecords(t, sc, obs, records(t))
	if nr.checkRuns(t, sc.name(), checkSDKRequestID) {
		last := obs.Exchanges[len(obs.Exchanges)-1].CustosRequestID
		none := obs.SDKRequestID == nil || *obs.SDKRequestID == ""
		if sc.want.noRequestID && none {
			return // this library exposes no request id here
		}
		if none || *obs.SDKRequestID != last {
			t.Errorf("%s: the library exposes request id %v, want Custos's %q", checkSDKRequestID, deref(obs.SDKRequestID), last)
		}
	}
}

func deref(s *string) string {
	if s == nil {
		return "(none)"
	}
	return fmt.Sprintf("%q", *s)
}

// notRun collects what did not run for lack of a feature.
type notRun struct {
	features  *features
	mode      string // of pendingEnv
	mu        sync.Mutex
	scenarios []string
	checks    map[check][]string
}

// skipScenario ends a scenario that waits on missing features: a skip that
// says why (and is listed in the report), a failure in mode fail, or nothing
// in mode run.
func (n *notRun) skipScenario(t *testing.T, name string, miss []feature) {
	var why []string
	for _, m := range miss {
		why = append(why, fmt.Sprintf("%s (probe: %s)", m, n.features.saw[m]))
	}
	msg := "not run, waiting on " + strings.Join(why, "; ")
	switch n.mode {
	case "run":
		t.Log("running although " + msg)
		return
	case "fail":
		t.Fatal(msg)
	}
	n.mu.Lock()
	n.scenarios = append(n.scenarios, name+": "+msg)
	n.mu.Unlock()
	t.Skip(msg)
}

// checkRuns reports whether a pending check runs in this scenario; when it
// does not, it records that (or fails, in mode fail).
func (n *notRun) checkRuns(t *testing.T, name string, c check) bool {
	feat, isPending := pendingChecks[c]
	if !isPending || n.features.present[feat] || n.mode == "run" {
		return true
	}
	if n.mode == "fail" {
		t.Errorf("check %q not run: waiting on %s", c, feat)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.checks == nil {
		n.checks = map[check][]string{}
	}
	n.checks[c] = append(n.checks[c], name)
	return false
}

// report lists what did not run.
func (n *notRun) report() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	var b strings.Builder
	fmt.Fprintf(&b, "%d of %d scenarios did not run for lack of a feature", len(n.scenarios), len(scenarios))
	slices.Sort(n.scenarios)
	for _, s := range n.scenarios {
		fmt.Fprintf(&b, "\n  %s", s)
	}
	for c, names := range n.checks {
		feat := pendingChecks[c]
		fmt.Fprintf(&b, "\ncheck %q did not run in %d scenarios, waiting on %s (probe: %s)", c, len(names), feat, n.features.saw[feat])
	}
	return b.String()
}
