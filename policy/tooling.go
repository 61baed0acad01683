package policy

import (
	"bytes"
	"context"
	"fmt"
	"sort"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/bundle"
	"github.com/open-policy-agent/opa/v1/format"
	"github.com/open-policy-agent/opa/v1/storage"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
	"github.com/open-policy-agent/opa/v1/tester"
)

// Problem is one finding of Check, located in a policy file.
type Problem struct {
	File string
	Line int
	Msg  string
}

func (p Problem) String() string {
	if p.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", p.File, p.Line, p.Msg)
	}
	return fmt.Sprintf("%s: %s", p.File, p.Msg)
}

// Check compiles the set strictly (tests included), checks that every file is
// formatted as `opa fmt` would, that every deny rule carries METADATA
// with a custom code and control, and that the price table (if any) is valid. It returns the problems found; an error
// means the set could not be read at all.
func Check(src Source) ([]Problem, error) {
	b, err := src.loadBundle(true)
	if err != nil {
		return nil, err
	}
	var problems []Problem
	modules := map[string]*ast.Module{}
	for _, mf := range b.Modules {
		modules[mf.Path] = mf.Parsed
		want, err := format.SourceWithOpts(mf.Path, mf.Raw, format.Opts{RegoVersion: ast.RegoV1})
		if err != nil {
			problems = append(problems, Problem{File: mf.Path, Msg: "cannot format: " + err.Error()})
		} else if !bytes.Equal(want, mf.Raw) {
			problems = append(problems, Problem{File: mf.Path, Msg: "not formatted (opa fmt would change it)"})
		}
	}
	c := ast.NewCompiler().WithStrict(true).WithDefaultRegoVersion(ast.RegoV1)
	c.Compile(modules)
	for _, e := range c.Errors {
		p := Problem{Msg: e.Message}
		if e.Location != nil {
			p.File, p.Line = e.Location.File, e.Location.Row
		}
		problems = append(problems, p)
	}
	problems = append(problems, denyMetadataProblems(b)...)
	priceProbs, err := src.priceProblems()
	if err != nil {
		return nil, err
	}
	problems = append(problems, priceProbs...)
	sort.SliceStable(problems, func(i, j int) bool {
		if problems[i].File != problems[j].File {
			return problems[i].File < problems[j].File
		}
		return problems[i].Line < problems[j].Line
	})
	return problems, nil
}

// denyMetadataProblems finds deny rules without a METADATA code and control.
// A deny whose reason reads a missing METADATA field would silently vanish,
// so such a set is never served.
func denyMetadataProblems(b *bundle.Bundle) []Problem {
	var problems []Problem
	var mods []*ast.Module
	for _, mf := range b.Modules {
		mods = append(mods, mf.Parsed)
	}
	as, errs := ast.BuildAnnotationSet(mods)
	if len(errs) > 0 {
		for _, e := range errs {
			p := Problem{Msg: "METADATA: " + e.Message}
			if e.Location != nil {
				p.File, p.Line = e.Location.File, e.Location.Row
			}
			problems = append(problems, p)
		}
		return problems
	}
	codes := map[string]string{}
	for _, mf := range b.Modules {
		for _, rule := range mf.Parsed.Rules {
			if rule.Head.Name.String() != "deny" && rule.Head.Ref().String() != "deny" {
				continue
			}
			loc := Problem{File: mf.Path}
			if rule.Location != nil {
				loc.Line = rule.Location.Row
			}
			var code, control string
			for _, a := range as.GetRuleScope(rule) {
				if s, ok := a.Custom["code"].(string); ok {
					code = s
				}
				if s, ok := a.Custom["control"].(string); ok {
					control = s
				}
			}
			if code == "" {
				p := loc
				p.Msg = "deny rule has no METADATA custom.code"
				problems = append(problems, p)
			} else if prev, dup := codes[code]; dup {
				p := loc
				p.Msg = fmt.Sprintf("deny code %q already used at %s", code, prev)
				problems = append(problems, p)
			} else {
				codes[code] = loc.String()
			}
			if control == "" {
				p := loc
				p.Msg = "deny rule has no METADATA custom.control"
				problems = append(problems, p)
			}
		}
	}
	return problems
}

// TestResult is one Rego unit test's outcome.
type TestResult struct {
	Name   string // package.test_name
	File   string
	Pass   bool
	Detail string // failure or error text
}

// RunTests runs the set's Rego unit tests (test_* rules in *_test.rego).
func RunTests(ctx context.Context, src Source) ([]TestResult, error) {
	b, err := src.loadBundle(true)
	if err != nil {
		return nil, err
	}
	store := inmem.New()
	txn, err := store.NewTransaction(ctx, storage.WriteParams)
	if err != nil {
		return nil, err
	}
	defer store.Abort(ctx, txn)
	ch, err := tester.NewRunner().
		SetStore(store).
		SetDefaultRegoVersion(ast.RegoV1).
		SetBundles(map[string]*bundle.Bundle{"custos": b}).
		RunTests(ctx, txn)
	if err != nil {
		return nil, fmt.Errorf("policy tests in %s: %w", src, err)
	}
	var out []TestResult
	for r := range ch {
		tr := TestResult{Name: r.Package + "." + r.Name, Pass: r.Pass()}
		if r.Location != nil {
			tr.File = r.Location.File
		}
		switch {
		case r.Error != nil:
			tr.Detail = r.Error.Error()
		case r.Fail:
			tr.Detail = "failed"
		case r.Skip:
			tr.Detail = "skipped"
			tr.Pass = false
		}
		out = append(out, tr)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}
