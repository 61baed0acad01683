package policy_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/custos-gateway/custos/policy"
)

var hospitalInput = policy.Input{
	RequestID: "req_t", Tenant: "st-marys", App: "clinical-assistant", Purpose: "treatment",
	Route: "chat.completions", Model: "gpt-4.1", EstimatedTokens: 100,
	Candidates: []policy.Candidate{{Endpoint: "azure-openai-eu", Provider: "azure", Region: "eu-west", Jurisdiction: "eu"}},
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	// Save by rename, as editors do.
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func addModel(t *testing.T, dir, model string) {
	t.Helper()
	p := filepath.Join(dir, "tenants", "data.json")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	s := strings.Replace(string(b), `"models": ["gpt-4o",`, `"models": ["`+model+`", "gpt-4o",`, 1)
	if s == string(b) {
		t.Fatal("tenants/data.json has changed shape; update the test edit")
	}
	writeFile(t, p, s)
}

// The METADATA trap: a deny rule whose reason reads a METADATA field the
// officer left out would become undefined and vanish, turning a deny into an
// allow. Such a set is refused, and the previous set keeps denying.
func TestMissingMetadataCannotTurnDenyIntoAllow(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		edit func(string) string
	}{
		{"METADATA block removed", func(s string) string {
			i := strings.Index(s, "# METADATA\n# title: Model allowlist")
			j := strings.Index(s[i:], "deny contains")
			return s[:i] + s[i+j:]
		}},
		{"code removed from METADATA, reason read directly", func(s string) string {
			s = strings.Replace(s, "#   code: model_not_allowed\n", "", 1)
			return strings.Replace(s,
				`r := reason(rego.metadata.rule(), "The requested model is not on this tenant's allowlist.")`,
				`r := {"code": rego.metadata.rule().custom.code, "control": "x", "rule": "x", "message": "m"}`, 1)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := copyShipped(t)
			e, err := policy.New(ctx, policy.FromDir(dir), policy.Options{Timeout: testTimeout})
			if err != nil {
				t.Fatal(err)
			}
			before := e.Revision()
			if _, err := e.Decide(ctx, hospitalInput); policy.Code(err) != "model_not_allowed" {
				t.Fatalf("before the edit: %v, want model_not_allowed", err)
			}
			p := filepath.Join(dir, "access.rego")
			b, _ := os.ReadFile(p)
			writeFile(t, p, tc.edit(string(b)))

			changed, err := e.Reload(ctx)
			if err == nil || changed {
				t.Fatalf("reload accepted the edit (changed=%v, err=%v)", changed, err)
			}
			if !strings.Contains(err.Error(), "METADATA custom.code") {
				t.Errorf("refusal does not name the missing METADATA: %v", err)
			}
			if e.Revision() != before {
				t.Errorf("revision changed to %s", e.Revision())
			}
			if _, err := e.Decide(ctx, hospitalInput); policy.Code(err) != "model_not_allowed" {
				t.Errorf("after the refused edit: %v, want model_not_allowed still", err)
			}
			if _, err := policy.New(ctx, policy.FromDir(dir), policy.Options{Timeout: testTimeout}); err == nil {
				t.Error("a fresh engine served the edited set")
			}
			problems, _ := policy.Check(policy.FromDir(dir))
			if len(problems) == 0 {
				t.Error("policy check found nothing wrong with the edited set")
			}
		})
	}
}

func TestNoPolicyFailsClosed(t *testing.T) {
	_, err := policy.New(context.Background(), policy.FromDir(t.TempDir()), policy.Options{Timeout: testTimeout})
	if !errors.Is(err, policy.ErrNoPolicy) || policy.Code(err) != "policy_unavailable" {
		t.Fatalf("empty directory: %v (%s)", err, policy.Code(err))
	}
	var e policy.Engine
	if _, err := e.Decide(context.Background(), hospitalInput); !errors.Is(err, policy.ErrNoPolicy) {
		t.Fatalf("zero engine decided: %v", err)
	}
}

func TestBrokenSetIsRefusedAtStart(t *testing.T) {
	dir := copyShipped(t)
	writeFile(t, filepath.Join(dir, "access.rego"), "package custos\n\ndeny contains r if {\n")
	_, err := policy.New(context.Background(), policy.FromDir(dir), policy.Options{Timeout: testTimeout})
	if err == nil || !strings.Contains(err.Error(), "access.rego") {
		t.Fatalf("broken set: %v; want a compile error naming the file", err)
	}
}

// TestReloadWhileServing: decisions keep flowing during reloads; an edit
// takes effect without a failed decision; a broken edit is refused and the
// old revision keeps deciding; the revision changes exactly when the set does.
func TestReloadWhileServing(t *testing.T) {
	ctx := context.Background()
	dir := copyShipped(t)
	e, err := policy.New(ctx, policy.FromDir(dir), policy.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	rev0 := e.Revision()

	var stop atomic.Bool
	var failures, allows, denies atomic.Int64
	revisions := sync.Map{}
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				d, err := e.Decide(ctx, hospitalInput)
				revisions.Store(d.Revision, true)
				switch code := policy.Code(err); {
				case err == nil:
					allows.Add(1)
				case code == "model_not_allowed":
					denies.Add(1)
				default:
					failures.Add(1)
					t.Errorf("decision failed during reload: %v", err)
				}
			}
		}()
	}

	waitCount(t, &denies, 20) // decisions flow under the first revision
	addModel(t, dir, "gpt-4.1")
	changed, err := e.Reload(ctx)
	if err != nil || !changed {
		t.Fatalf("reload of a good edit: changed=%v err=%v", changed, err)
	}
	rev1 := e.Revision()
	if rev1 == rev0 || rev1.Manifest != rev0.Manifest {
		t.Errorf("revision %s → %s: the digest must change, the manifest not", rev0, rev1)
	}
	if _, err := e.Decide(ctx, hospitalInput); err != nil {
		t.Errorf("after the edit the model is still refused: %v", err)
	}

	// An unchanged set is not a new revision.
	if changed, err := e.Reload(ctx); err != nil || changed || e.Revision() != rev1 {
		t.Errorf("no-op reload: changed=%v err=%v rev=%s", changed, err, e.Revision())
	}

	// A broken edit is refused; the last good set keeps deciding.
	writeFile(t, filepath.Join(dir, "pii.rego"), "package custos\n\nactions := {\n")
	if changed, err := e.Reload(ctx); err == nil || changed {
		t.Errorf("broken edit: changed=%v err=%v", changed, err)
	}
	if e.Revision() != rev1 {
		t.Errorf("revision after a refused edit = %s, want %s", e.Revision(), rev1)
	}
	waitCount(t, &allows, 20) // and under the second
	stop.Store(true)
	wg.Wait()

	if failures.Load() != 0 {
		t.Fatalf("%d decisions failed", failures.Load())
	}
	if allows.Load() == 0 || denies.Load() == 0 {
		t.Errorf("allows=%d denies=%d: both revisions should have decided", allows.Load(), denies.Load())
	}
	n := 0
	revisions.Range(func(k, _ any) bool {
		n++
		if r := k.(policy.Revision); r != rev0 && r != rev1 {
			t.Errorf("a decision carried revision %s", r)
		}
		return true
	})
	if n != 2 {
		t.Errorf("decisions carried %d revisions, want exactly 2", n)
	}
}

func TestWatchReloadsOnEdit(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir := copyShipped(t)
	watching := make(chan struct{})
	reloads := make(chan policy.Revision, 8)
	e, err := policy.New(ctx, policy.FromDir(dir), policy.Options{
		OnWatching: func() { close(watching) },
		OnReload: func(rev policy.Revision, changed bool, err error) {
			if changed && err == nil {
				reloads <- rev
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- e.Watch(ctx, 50*time.Millisecond) }()
	<-watching
	rev0 := e.Revision()
	addModel(t, dir, "gpt-4.1")
	select {
	case rev := <-reloads:
		if rev == rev0 || e.Revision() != rev {
			t.Errorf("reloaded to %s from %s; serving %s", rev, rev0, e.Revision())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("watcher did not reload after an edit")
	}
	if _, err := e.Decide(ctx, hospitalInput); err != nil {
		t.Errorf("after the watched edit: %v", err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// waitCount waits until n reaches at least want (decisions are counted by
// the deciding goroutines).
func waitCount(t *testing.T, n *atomic.Int64, want int64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for n.Load() < want {
		if time.Now().After(deadline) {
			t.Fatalf("only %d decisions within 10s", n.Load())
		}
		runtime.Gosched()
	}
}

// Spend limits the policy states are enforced against the request's cost
// and the account's available credit, and money never enters the memo key
// (a balance that changes with every request would defeat it).
func TestSpendLimits(t *testing.T) {
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS("../policies")); err != nil {
		t.Fatal(err)
	}
	addModel(t, dir, "o3") // a model the price table labels premium
	e, err := policy.New(context.Background(), policy.FromDir(dir), policy.Options{Timeout: testTimeout})
	if err != nil {
		t.Fatal(err)
	}
	if on, fields := e.Memoized(); !on || strings.Contains(strings.Join(fields, ","), "cost") {
		t.Errorf("memoized %v by %v: want memoized, not by cost", on, fields)
	}
	avail := func(n int64) *int64 { return &n }
	cases := []struct {
		name  string
		model string
		cost  *policy.CostInput
		want  string // deny code, "" for allowed
	}{
		{"not metered", "o3", nil, ""},
		{"premium with credit", "o3", &policy.CostInput{EstimatedMicros: 1000, Billing: "prepaid", AvailableMicros: avail(50_000_000)}, ""},
		{"premium under the floor", "o3", &policy.CostInput{EstimatedMicros: 1000, Billing: "prepaid", AvailableMicros: avail(49_999_999)}, "balance_below_floor"},
		{"postpaid has no balance floor", "o3", &policy.CostInput{EstimatedMicros: 1000, Billing: "postpaid"}, ""},
		{"standard under the floor", "gpt-4o", &policy.CostInput{EstimatedMicros: 1000, Billing: "prepaid", AvailableMicros: avail(1)}, ""},
		{"at the cap", "gpt-4o", &policy.CostInput{EstimatedMicros: 5_000_000, Billing: "postpaid"}, ""},
		{"over the cap", "gpt-4o", &policy.CostInput{EstimatedMicros: 5_000_001, Billing: "postpaid"}, "request_cost_over_cap"},
	}
	for _, c := range cases {
		in := hospitalInput
		in.Model, in.Cost = c.model, c.cost
		d, err := e.Decide(context.Background(), in)
		var denied *policy.DeniedError
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.want != "" && (!errors.As(err, &denied) || strings.Join(d.Codes(), ",") != c.want):
			t.Errorf("%s: %v %v, want %s", c.name, d.Codes(), err, c.want)
		}
	}
}

// An evaluation stops when its deadline passes or its caller goes, and
// fails closed with the code that says which.
func TestEvaluationStopsWhenItsContextEnds(t *testing.T) {
	dir := copyShipped(t)
	b, err := os.ReadFile(filepath.Join("testdata", "overlays", "slow_deny.rego"))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "slow.rego"), string(b))
	cases := []struct {
		name    string
		timeout time.Duration
		cancel  bool // the caller cancels, before the timeout
		code    string
		cause   error
	}{
		{"deadline", 30 * time.Millisecond, false, "policy_timeout", policy.ErrTimeout},
		{"caller gone", 10 * time.Second, true, "policy_error", context.Canceled},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e, err := policy.New(context.Background(), policy.FromDir(dir), policy.Options{Timeout: tc.timeout, NoMemo: true})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tc.cancel {
				time.AfterFunc(30*time.Millisecond, cancel)
			}
			start := time.Now()
			_, err = e.Decide(ctx, hospitalInput)
			if took := time.Since(start); took > 2*time.Second {
				t.Errorf("the evaluation ran %s after its context ended", took)
			}
			if policy.Code(err) != tc.code || !errors.Is(err, tc.cause) {
				t.Errorf("err = %v (%s), want %s wrapping %v", err, policy.Code(err), tc.code, tc.cause)
			}
		})
	}
}
