package gateway_test

import (
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/custos-gateway/custos/"

type goPackage struct {
	ImportPath string
	Dir        string
	Doc        string
	Imports    []string
	Deps       []string
	GoFiles    []string
}

// listPackages runs `go list` over the whole module.
func listPackages(t *testing.T) []goPackage {
	t.Helper()
	cmd := exec.Command("go", "list", "-json", "./...")
	cmd.Dir = ".."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var pkgs []goPackage
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p goPackage
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) < 5 {
		t.Fatalf("go list found only %d packages", len(pkgs))
	}
	return pkgs
}

func TestEveryPackageHasADocComment(t *testing.T) {
	for _, p := range listPackages(t) {
		if strings.TrimSpace(p.Doc) == "" {
			t.Errorf("package %s has no package doc comment", p.ImportPath)
		}
	}
}

// depRule forbids packages under from (relative to the module, "" for a
// top-level package's own path and every sub-package) to depend on what
// matches to, directly or through others.
type depRule struct {
	from   []string
	to     string // an import path prefix
	direct bool   // only direct imports count (a dependency's own use is its business)
	reason string
}

var depRules = []depRule{
	{[]string{"policy", "redact", "residency", "audit"}, "net/http", true, "domain packages take plain Go types: only the gateway speaks HTTP"},
	{[]string{"policy", "redact", "residency", "audit"}, "github.com/gin-gonic/", false, "domain packages know nothing of the HTTP framework"},
	{[]string{"policy", "redact", "residency", "audit"}, module + "gateway", false, "the gateway depends on the domains, never the reverse"},
	{[]string{"redact"}, module + "policy", false, "redact finds and hides data; what to do with a class is the policy's answer, handed in by the gateway"},
	{[]string{"audit"}, module + "redact", false, "the audit log records counts and codes; it must never hold the machinery that sees values"},
	{[]string{"policy"}, module + "audit", false, "a decision is a pure function of its input; recording it is the gateway's job"},
	{[]string{"residency"}, module + "policy", false, "routing obeys the constraint it is given; it never asks the policy itself"},
	{[]string{"gateway/jsondoc"}, module + "gateway/", false, "the one parse is a leaf: it knows no dialect or provider"},
	{[]string{"gateway/upstream"}, module + "gateway/config", false, "adapters take their own options; the config is read once, by the wiring"},
}

func TestDependencyRules(t *testing.T) {
	pkgs := listPackages(t)
	for _, rule := range depRules {
		checked := 0
		for _, p := range pkgs {
			if !under(p.ImportPath, rule.from) {
				continue
			}
			checked++
			deps := p.Imports
			if !rule.direct {
				deps = append(slices.Clone(p.Imports), p.Deps...)
			}
			for _, d := range deps {
				if strings.HasPrefix(d, rule.to) && d != p.ImportPath {
					t.Errorf("%s depends on %s: %s", p.ImportPath, d, rule.reason)
					break
				}
			}
		}
		if checked == 0 {
			t.Errorf("rule %v → %s matched no package", rule.from, rule.to)
		}
	}
}

func under(path string, roots []string) bool {
	rel := strings.TrimPrefix(path, module)
	for _, r := range roots {
		if rel == r || strings.HasPrefix(rel, r+"/") {
			return true
		}
	}
	return false
}

// privateKeyPEM matches a PEM private key block with key material.
var privateKeyPEM = regexp.MustCompile(`-----BEGIN [A-Z ]*PRIVATE KEY-----\r?\n[A-Za-z0-9+/=]{40,}`)

// No private key is tracked outside a testdata folder: keys are made where
// they are used (custos audit keygen, the dev folder) and never committed.
func TestNoPrivateKeyIsTracked(t *testing.T) {
	cmd := exec.Command("git", "ls-files", "-z")
	cmd.Dir = ".."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("git ls-files: %v", err)
	}
	files := strings.Split(strings.TrimRight(string(out), "\x00"), "\x00")
	if len(files) < 20 {
		t.Fatalf("git ls-files listed only %d files", len(files))
	}
	for _, f := range files {
		if strings.Contains("/"+f, "/testdata/") {
			continue
		}
		data, err := os.ReadFile(filepath.Join("..", f))
		if err != nil {
			continue // deleted in the work tree
		}
		if privateKeyPEM.Match(data) {
			t.Errorf("%s holds a private key; keys are never committed outside testdata/", f)
		}
	}
}

// The check above finds a key when there is one.
func TestPrivateKeyPatternMatchesAKey(t *testing.T) {
	key := "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIGq4bVq0xIhV4FJ8q5nY4m0p6m1aQ7Zxk8Zk0Jf9Tq3l\n-----END PRIVATE KEY-----\n"
	if !privateKeyPEM.MatchString(key) || privateKeyPEM.MatchString("-----BEGIN PRIVATE KEY-----\n...") {
		t.Error("private key pattern is wrong")
	}
}
