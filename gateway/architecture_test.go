package gateway_test

import (
	"encoding/json"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

type goPackage struct {
	ImportPath string
	Doc        string
	Imports    []string
	Deps       []string
	Module     *struct{ Path string }
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

// The domain packages take plain Go types: only gateway speaks HTTP.
func TestDomainPackagesStayOffHTTP(t *testing.T) {
	const module = "github.com/custos-gateway/custos/"
	domains := []string{"policy", "redact", "residency", "audit"}
	checked := 0
	for _, p := range listPackages(t) {
		rel := strings.TrimPrefix(p.ImportPath, module)
		top, _, _ := strings.Cut(rel, "/")
		if !slices.Contains(domains, top) {
			continue
		}
		checked++
		if slices.Contains(p.Imports, "net/http") {
			t.Errorf("%s imports net/http", p.ImportPath)
		}
		for _, d := range p.Deps {
			if strings.HasPrefix(d, "github.com/gin-gonic/") {
				t.Errorf("%s depends on %s", p.ImportPath, d)
			}
			if strings.HasPrefix(d, module+"gateway") {
				t.Errorf("%s depends on %s; the gateway depends on domains, never the reverse", p.ImportPath, d)
			}
		}
	}
	if checked == 0 {
		t.Fatal("no domain package found to check")
	}
}
