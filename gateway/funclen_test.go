package gateway_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"testing"
)

// maxFuncLines bounds a function body in gateway/ and cmd/: a function
// should be readable at once. Table literals are exempt (a function whose
// body is one return of a composite literal, or a var block).
const maxFuncLines = 80

func TestFunctionsAreShort(t *testing.T) {
	fset := token.NewFileSet()
	for _, p := range listPackages(t) {
		if !under(p.ImportPath, []string{"gateway", "cmd"}) {
			continue
		}
		for _, name := range p.GoFiles {
			path := filepath.Join(p.Dir, name)
			f, err := parser.ParseFile(fset, path, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			ast.Inspect(f, func(n ast.Node) bool {
				fd, ok := n.(*ast.FuncDecl)
				if !ok || fd.Body == nil || isTable(fd.Body) {
					return true
				}
				lines := fset.Position(fd.Body.End()).Line - fset.Position(fd.Body.Pos()).Line + 1
				if lines > maxFuncLines {
					rel, _ := filepath.Rel(filepath.Dir(must(os.Getwd())), path)
					t.Errorf("%s: %s is %d lines (at most %d)", rel, fd.Name.Name, lines, maxFuncLines)
				}
				return true
			})
		}
	}
}

// isTable reports a body that is a single return of a composite literal.
func isTable(b *ast.BlockStmt) bool {
	if len(b.List) != 1 {
		return false
	}
	ret, ok := b.List[0].(*ast.ReturnStmt)
	if !ok || len(ret.Results) != 1 {
		return false
	}
	_, ok = ret.Results[0].(*ast.CompositeLit)
	return ok
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
