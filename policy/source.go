package policy

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/custos-gateway/custos/policy/pricing"
	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/bundle"
	"github.com/open-policy-agent/opa/v1/loader"
)

// Source is where a policy set is read from: the embedded shipped set or a
// directory on disk (which can be watched).
type Source struct {
	fsys fs.FS
	name string // for messages
	dir  string // set for directory sources
}

// FromFS reads a policy set from fsys (e.g. policies.FS).
func FromFS(fsys fs.FS, name string) Source { return Source{fsys: fsys, name: name} }

// FromDir reads a policy set from a directory.
func FromDir(dir string) Source { return Source{fsys: os.DirFS(dir), name: dir, dir: dir} }

// files returns the file system to read the set from now. A directory
// mounted from a Kubernetes ConfigMap holds the files under a "..data"
// symlink (swapped atomically on update) with a symlink per entry beside
// it; the set is read through "..data", resolved at each read, so that a
// reload after the swap sees the new set whole.
func (s Source) files() fs.FS {
	if s.dir == "" {
		return s.fsys
	}
	if target, err := filepath.EvalSymlinks(filepath.Join(s.dir, "..data")); err == nil {
		if fi, err := os.Stat(target); err == nil && fi.IsDir() {
			return os.DirFS(target)
		}
	}
	return s.fsys
}

// Dir returns the directory of a directory source, or "".
func (s Source) Dir() string { return s.dir }

func (s Source) String() string { return s.name }

// isTest reports a Rego unit test file.
func isTest(p string) bool { return strings.HasSuffix(p, "_test.rego") }

// served reports whether a file belongs to the set that decides requests:
// Rego (not tests), JSON/YAML data and the manifest.
func served(p string) bool {
	base := path.Base(p)
	switch {
	case base == ".manifest":
		return true
	case strings.HasSuffix(base, ".rego"):
		return !isTest(base)
	case base == "data.json", base == "data.yaml", base == "data.yml":
		return true
	}
	return false
}

// loadBundle reads the set as an OPA bundle. withTests adds the *_test.rego
// files (for the test runner and checks).
func (s Source) loadBundle(withTests bool) (*bundle.Bundle, error) {
	return s.bundleFrom(s.files(), withTests)
}

func (s Source) bundleFrom(fsys fs.FS, withTests bool) (*bundle.Bundle, error) {
	if fsys == nil {
		return nil, ErrNoPolicy
	}
	filter := func(abspath string, info fs.FileInfo, _ int) bool {
		if info.IsDir() {
			return strings.HasPrefix(info.Name(), ".") && info.Name() != "."
		}
		if withTests && isTest(abspath) {
			return false
		}
		return !served(abspath)
	}
	b, err := loader.NewFileLoader().
		WithFS(fsys).
		WithProcessAnnotation(true).
		WithRegoVersion(ast.RegoV1).
		WithFilter(filter).
		AsBundle(".")
	if err != nil {
		return nil, fmt.Errorf("policy set %s: %w", s.name, err)
	}
	return b, nil
}

// digest hashes the served files' paths and content, in path order, and
// returns the content of the price table it hashed (nil: none), so that the
// table served is exactly the one the revision names.
func (s Source) digest(fsys fs.FS) (string, []byte, error) {
	var files []string
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != "." && strings.HasPrefix(d.Name(), ".") {
				return fs.SkipDir
			}
			return nil
		}
		if served(p) {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return "", nil, fmt.Errorf("policy set %s: %w", s.name, err)
	}
	sort.Strings(files)
	h := sha256.New()
	var n [8]byte
	var prices []byte
	for _, p := range files {
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return "", nil, fmt.Errorf("policy set %s: %w", s.name, err)
		}
		if p == pricing.File {
			prices = b
		}
		binary.BigEndian.PutUint64(n[:], uint64(len(p)))
		h.Write(n[:])
		h.Write([]byte(p))
		binary.BigEndian.PutUint64(n[:], uint64(len(b)))
		h.Write(n[:])
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil)), prices, nil
}

// compiled is a ready-to-serve policy set.
type compiled struct {
	bundle   *bundle.Bundle
	revision Revision
	prices   *pricing.Table // nil: the set has no price table
}

// read parses a set and computes its revision. Preparing the query (the
// strict compile) is done by the engine.
func (s Source) read(ctx context.Context) (*compiled, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	fsys := s.files() // one view of the set, for the bundle and its digest
	b, err := s.bundleFrom(fsys, false)
	if err != nil {
		return nil, err
	}
	if len(b.Modules) == 0 {
		return nil, fmt.Errorf("policy set %s: no Rego modules: %w", s.name, ErrNoPolicy)
	}
	sum, raw, err := s.digest(fsys)
	if err != nil {
		return nil, err
	}
	prices, err := parsePrices(raw)
	if err != nil {
		return nil, fmt.Errorf("policy set %s: %w", s.name, err)
	}
	return &compiled{bundle: b, revision: NewRevision(b.Manifest.Revision, sum), prices: prices}, nil
}

var errNotDir = errors.New("policy: not a directory source")
