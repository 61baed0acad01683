package policy_test

import (
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/custos-gateway/custos/policies"
	"github.com/custos-gateway/custos/policy"
)

// goldenCase is one input → expected decision, optionally on an edited copy
// of the shipped policies.
type goldenCase struct {
	Name  string       `json:"name"`
	Edits []edit       `json:"edits"`
	Input policy.Input `json:"input"`
	Want  struct {
		Error                string            `json:"error"`
		Allow                *bool             `json:"allow"`
		DryRun               *bool             `json:"dry_run"`
		Codes                []string          `json:"codes"`
		AllowedEndpoints     []string          `json:"allowed_endpoints"`
		AllowedJurisdictions []string          `json:"allowed_jurisdictions"`
		AllowedRegions       []string          `json:"allowed_regions"`
		AllowedProviders     []string          `json:"allowed_providers"`
		Actions              map[string]string `json:"actions"`
		RestorePseudonyms    *bool             `json:"restore_pseudonyms"`
	} `json:"want"`
}

// edit changes one file of the copied policy set: a Rego file replaced by an
// overlay, or a value set or appended inside a data file.
type edit struct {
	File        string   `json:"file"`
	ReplaceWith string   `json:"replace_with"`
	Path        []string `json:"path"`
	Set         any      `json:"set"`
	Append      any      `json:"append"`
}

// copyShipped writes the shipped policy set to a fresh directory.
func copyShipped(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	err := fs.WalkDir(policies.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(policies.FS, p)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(p)), 0o755); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, p), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

func applyEdit(t *testing.T, dir string, e edit) {
	t.Helper()
	target := filepath.Join(dir, e.File)
	if e.ReplaceWith != "" {
		b, err := os.ReadFile(filepath.Join("testdata", e.ReplaceWith))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(target, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	b, err := os.ReadFile(target)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	parent := doc
	for _, k := range e.Path[:len(e.Path)-1] {
		next, ok := parent[k].(map[string]any)
		if !ok {
			next = map[string]any{}
			parent[k] = next
		}
		parent = next
	}
	last := e.Path[len(e.Path)-1]
	if e.Append != nil {
		list, _ := parent[last].([]any)
		parent[last] = append(list, e.Append)
	} else {
		parent[last] = e.Set
	}
	out, _ := json.MarshalIndent(doc, "", "  ")
	if err := os.WriteFile(target, out, 0o644); err != nil {
		t.Fatal(err)
	}
}

// testTimeout bounds evaluations in tests that are not about timeouts: on a
// loaded machine (the race detector, parallel packages) a first evaluation
// can exceed the 50 ms production default, and a decision's code must not
// depend on the machine's load.
const testTimeout = 5 * time.Second

func TestGoldenDecisions(t *testing.T) {
	ctx := context.Background()
	shippedEngine, err := policy.New(ctx, shipped, policy.Options{Timeout: testTimeout})
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob("testdata/decisions/*.json")
	total := 0
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		cases := decodeCases(t, b)
		for _, tc := range cases {
			total++
			t.Run(filepath.Base(file)+"/"+tc.Name, func(t *testing.T) {
				engine := shippedEngine
				if len(tc.Edits) > 0 {
					dir := copyShipped(t)
					for _, e := range tc.Edits {
						applyEdit(t, dir, e)
					}
					opts := policy.Options{Timeout: testTimeout}
					if tc.Want.Error == "policy_timeout" {
						opts.Timeout = policy.DefaultTimeout // the case is about the default bound
					}
					engine, err = policy.New(ctx, policy.FromDir(dir), opts)
					if err != nil {
						if tc.Want.Error == "" {
							t.Fatalf("edited set refused: %v", err)
						}
						if got := policy.Code(err); got != tc.Want.Error {
							t.Fatalf("load error code = %s (%v), want %s", got, err, tc.Want.Error)
						}
						return
					}
					if engine.Revision() == shippedEngine.Revision() {
						t.Errorf("an edited set kept the shipped revision %s", engine.Revision())
					}
				}
				d, err := engine.Decide(ctx, tc.Input)
				if tc.Want.Error != "" {
					if err == nil || d.Allow && err == nil {
						t.Fatalf("decided %+v, want fail-closed %s", d, tc.Want.Error)
					}
					if got := policy.Code(err); got != tc.Want.Error {
						t.Fatalf("error code = %s (%v), want %s", got, err, tc.Want.Error)
					}
					return
				}
				if d.Revision.SHA256 == "" {
					t.Error("decision carries no revision")
				}
				if (err == nil) != d.Allow {
					t.Errorf("allow=%v but err=%v", d.Allow, err)
				}
				w := tc.Want
				if w.Allow != nil && d.Allow != *w.Allow {
					t.Errorf("allow = %v, want %v (deny %v)", d.Allow, *w.Allow, d.Codes())
				}
				if w.DryRun != nil && d.DryRun != *w.DryRun {
					t.Errorf("dry_run = %v, want %v", d.DryRun, *w.DryRun)
				}
				if w.Codes != nil && !slices.Equal(d.Codes(), w.Codes) {
					t.Errorf("codes = %v, want %v", d.Codes(), w.Codes)
				}
				for _, l := range []struct {
					name      string
					got, want []string
				}{
					{"allowed_endpoints", d.AllowedEndpoints, w.AllowedEndpoints},
					{"allowed_jurisdictions", d.AllowedJurisdictions, w.AllowedJurisdictions},
					{"allowed_regions", d.AllowedRegions, w.AllowedRegions},
					{"allowed_providers", d.AllowedProviders, w.AllowedProviders},
				} {
					if l.want != nil && !slices.Equal(l.got, l.want) {
						t.Errorf("%s = %v, want %v", l.name, l.got, l.want)
					}
				}
				if w.Actions != nil {
					got := map[string]string{}
					for k, v := range d.Actions {
						got[k] = string(v)
					}
					if len(got) != len(w.Actions) {
						t.Errorf("actions = %v, want %v", got, w.Actions)
					}
					for k, v := range w.Actions {
						if got[k] != v {
							t.Errorf("actions = %v, want %v", got, w.Actions)
							break
						}
					}
				}
				if w.RestorePseudonyms != nil && d.RestorePseudonyms != *w.RestorePseudonyms {
					t.Errorf("restore_pseudonyms = %v, want %v", d.RestorePseudonyms, *w.RestorePseudonyms)
				}
				for _, r := range d.Deny {
					if r.Code == "" || r.Control == "" || r.Message == "" {
						t.Errorf("incomplete reason %+v", r)
					}
				}
			})
		}
	}
	if total < 30 {
		t.Errorf("only %d golden cases; want at least 30", total)
	}
}

func decodeCases(t testing.TB, b []byte) []goldenCase {
	t.Helper()
	var cases []goldenCase
	if err := json.Unmarshal(b, &cases); err != nil {
		t.Fatal(err)
	}
	return cases
}
