package redact_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
)

// maxFuncLines bounds a function body in redact/ and its sub-packages: a
// function should be readable at once. A body that is one return of a
// composite literal (a table) is exempt.
const maxFuncLines = 80

func TestFunctionsAreShort(t *testing.T) {
	fset := token.NewFileSet()
	checked := 0
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		checked++
		ast.Inspect(f, func(n ast.Node) bool {
			fd, ok := n.(*ast.FuncDecl)
			if !ok || fd.Body == nil || isTable(fd.Body) {
				return true
			}
			if lines := fset.Position(fd.Body.End()).Line - fset.Position(fd.Body.Pos()).Line + 1; lines > maxFuncLines {
				t.Errorf("%s: %s is %d lines (at most %d)", path, fd.Name.Name, lines, maxFuncLines)
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 20 {
		t.Fatalf("only %d source files found", checked)
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
