package deploy

import (
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for p, content := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestPolicyValuesScript: policy-values.sh ships exactly the files Custos
// serves, byte for byte, whatever their trailing newlines or indentation.
func TestPolicyValuesScript(t *testing.T) {
	served := map[string]string{
		".manifest":            `{"revision": "no trailing newline"}`,
		"a.rego":               "package a\n\n\n",
		"b.rego":               "  # indented first line\n\tdeny contains x if { x := 1 }\n",
		"empty.rego":           "",
		"sub/data.json":        "{}\n",
		"sub/deeper/data.yaml": "x: 1\n   \ny: 2\n",
	}
	ignored := map[string]string{
		"a_test.rego":    "package a_test\n",
		"notes.md":       "# not policy\n",
		".hidden/x.rego": "package hidden\n",
		"sub/data.txt":   "not data\n",
	}
	tree := maps.Clone(served)
	maps.Copy(tree, ignored)
	out, err := exec.Command("sh", "helm/policy-values.sh", writeTree(t, tree)).Output()
	if err != nil {
		t.Fatalf("policy-values.sh: %v", err)
	}
	var got struct {
		Policies struct {
			Files map[string]string `yaml:"files"`
		} `yaml:"policies"`
	}
	if err := yaml.Unmarshal(out, &got); err != nil {
		t.Fatalf("output is not YAML: %v\n%s", err, out)
	}
	for p, want := range served {
		if g, ok := got.Policies.Files[p]; !ok || g != want {
			t.Errorf("%s: got %q (present %v), want %q", p, g, ok, want)
		}
	}
	for p := range got.Policies.Files {
		if _, ok := served[p]; !ok {
			t.Errorf("%s shipped, but Custos does not serve it", p)
		}
	}
}

func TestPolicyValuesScriptRefuses(t *testing.T) {
	for name, tree := range map[string]map[string]string{
		"carriage return":   {"a.rego": "package a\r\n"},
		"space in the path": {"my policy.rego": "package a\n"},
	} {
		t.Run(name, func(t *testing.T) {
			out, err := exec.Command("sh", "helm/policy-values.sh", writeTree(t, tree)).CombinedOutput()
			if err == nil || !strings.Contains(string(out), "policy-values.sh:") {
				t.Fatalf("want a refusal, got err %v, output %q", err, out)
			}
		})
	}
}
