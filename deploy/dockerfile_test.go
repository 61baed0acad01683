package deploy

import (
	"encoding/json"
	"go/version"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// instruction is one Dockerfile instruction, continuation lines joined.
type instruction struct {
	cmd  string // upper case: FROM, RUN, COPY, ...
	args string
}

// stage is one FROM ... [AS name] and the instructions under it.
type stage struct {
	from, name string
	steps      []instruction
}

func parseDockerfile(t *testing.T, path string) (globalArgs []string, stages []stage) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var logical []string
	cur := ""
	for _, line := range strings.Split(string(b), "\n") {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "#") || (trimmed == "" && cur == "") {
			continue
		}
		if strings.HasSuffix(trimmed, "\\") {
			cur += strings.TrimSuffix(trimmed, "\\") + " "
			continue
		}
		logical = append(logical, cur+trimmed)
		cur = ""
	}
	for _, l := range logical {
		cmd, args, _ := strings.Cut(l, " ")
		in := instruction{cmd: strings.ToUpper(cmd), args: strings.TrimSpace(args)}
		switch {
		case in.cmd == "FROM":
			f := strings.Fields(in.args)
			f = slices.DeleteFunc(f, func(s string) bool { return strings.HasPrefix(s, "--platform=") })
			st := stage{from: f[0]}
			if len(f) == 3 && strings.EqualFold(f[1], "AS") {
				st.name = f[2]
			}
			stages = append(stages, st)
		case len(stages) == 0 && in.cmd == "ARG":
			globalArgs = append(globalArgs, in.args)
		case len(stages) == 0:
			t.Fatalf("%s before the first FROM", in.cmd)
		default:
			stages[len(stages)-1].steps = append(stages[len(stages)-1].steps, in)
		}
	}
	return globalArgs, stages
}

func (s stage) all(cmd string) []string {
	var out []string
	for _, in := range s.steps {
		if in.cmd == cmd {
			out = append(out, in.args)
		}
	}
	return out
}

// execForm decodes an exec-form (JSON array) ENTRYPOINT or CMD.
func execForm(t *testing.T, what string, args []string) []string {
	t.Helper()
	if len(args) != 1 {
		t.Fatalf("want one %s, got %d", what, len(args))
	}
	var v []string
	if err := json.Unmarshal([]byte(args[0]), &v); err != nil {
		t.Fatalf("%s must be exec form (a JSON array): %q", what, args[0])
	}
	return v
}

func TestDockerfileBuildStage(t *testing.T) {
	args, stages := parseDockerfile(t, "../Dockerfile")
	if len(stages) != 2 {
		t.Fatalf("want a build stage and a final stage, got %d stages", len(stages))
	}
	build := stages[0]
	if build.from != "golang:${GO_VERSION}" || build.name == "" {
		t.Errorf("build stage FROM %q AS %q, want the official golang image", build.from, build.name)
	}
	goVersion := ""
	for _, a := range args {
		if v, ok := strings.CutPrefix(a, "GO_VERSION="); ok {
			goVersion = v
		}
	}
	mod, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^go (\S+)$`).FindSubmatch(mod)
	if m == nil {
		t.Fatal("go.mod has no go directive")
	}
	if need := "go" + string(m[1]); !version.IsValid("go"+goVersion) || version.Compare("go"+goVersion, need) < 0 {
		t.Errorf("GO_VERSION %q must be at least go.mod's %s", goVersion, need)
	}
	text := strings.Join(append(build.all("ENV"), build.all("RUN")...), "\n")
	for _, want := range []string{"CGO_ENABLED=0", "-trimpath", "-X main.version=${VERSION}", "-X main.commit=${COMMIT}", "-o /out/custos ./cmd/custos"} {
		if !strings.Contains(text, want) {
			t.Errorf("the build stage does not contain %q", want)
		}
	}
}

func TestDockerfileFinalStage(t *testing.T) {
	_, stages := parseDockerfile(t, "../Dockerfile")
	build, final := stages[0], stages[len(stages)-1]
	if final.from != "gcr.io/distroless/static-debian12:nonroot" && final.from != "scratch" {
		t.Errorf("final stage FROM %q: want distroless static or scratch", final.from)
	}
	if u := final.all("USER"); len(u) != 1 || u[0] != "65532:65532" {
		t.Errorf("final stage USER %q, want 65532:65532 (numeric, so that runAsNonRoot can check it)", u)
	}
	for _, forbidden := range []string{"RUN", "ADD"} {
		if n := len(final.all(forbidden)); n != 0 {
			t.Errorf("final stage has %d %s: it only copies from the build stage", n, forbidden)
		}
	}
	want := map[string]string{
		"--from=" + build.name + " /out/custos /usr/local/bin/custos":                          "the binary",
		"--from=" + build.name + " /out/policies /etc/custos/policies":                         "the served policy files",
		"--from=" + build.name + " --chown=65532:65532 /out/state /var/lib/custos":             "the empty audit directory",
		"--from=" + build.name + " --chown=65532:65532 /out/state /var/lib/custos-checkpoints": "the empty checkpoint directory",
	}
	copies := final.all("COPY")
	for _, c := range copies {
		if _, ok := want[c]; !ok {
			t.Errorf("final stage COPY %q: only the binary, the policies and the state directories belong in the image", c)
		}
	}
	if len(copies) != len(want) {
		t.Errorf("final stage copies %q, want %d copies", copies, len(want))
	}
	if ep := execForm(t, "ENTRYPOINT", final.all("ENTRYPOINT")); !slices.Equal(ep, []string{"/usr/local/bin/custos"}) {
		t.Errorf("ENTRYPOINT %q", ep)
	}
	if cmd := execForm(t, "CMD", final.all("CMD")); !slices.Equal(cmd, []string{"serve", "--config", "/etc/custos/custos.yaml"}) {
		t.Errorf("CMD %q", cmd)
	}
	checkExposed(t, final)
}

// checkExposed: the image exposes the chart's API and metrics ports.
func checkExposed(t *testing.T, final stage) {
	b, err := os.ReadFile(chartDir + "/values.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		ContainerPort int `yaml:"containerPort"`
		Metrics       struct {
			Port int `yaml:"port"`
		} `yaml:"metrics"`
	}
	if err := yaml.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	exposed := strings.Fields(strings.Join(final.all("EXPOSE"), " "))
	for _, p := range []int{v.ContainerPort, v.Metrics.Port} {
		if !slices.Contains(exposed, strconv.Itoa(p)) {
			t.Errorf("EXPOSE %q lacks the chart's port %d", exposed, p)
		}
	}
}

// dockerignore matches paths against .dockerignore patterns: '*' and '?'
// within a path element, '**' across elements, a match on a directory
// excluding everything under it, '!' re-including.
type dockerignore []struct {
	re     *regexp.Regexp
	negate bool
}

func loadDockerignore(t *testing.T) dockerignore {
	t.Helper()
	var d dockerignore
	for _, f := range fieldsOf(t, "../.dockerignore") {
		p := f[0]
		neg := strings.HasPrefix(p, "!")
		p = strings.TrimPrefix(strings.TrimPrefix(p, "!"), "/")
		var re strings.Builder
		for i := 0; i < len(p); i++ {
			switch {
			case strings.HasPrefix(p[i:], "**/"):
				re.WriteString("(.*/)?")
				i += 2
			case strings.HasPrefix(p[i:], "**"):
				re.WriteString(".*")
				i++
			case p[i] == '*':
				re.WriteString("[^/]*")
			case p[i] == '?':
				re.WriteString("[^/]")
			default:
				re.WriteString(regexp.QuoteMeta(p[i : i+1]))
			}
		}
		d = append(d, struct {
			re     *regexp.Regexp
			negate bool
		}{regexp.MustCompile("^" + re.String() + "(/.*)?$"), neg})
	}
	return d
}

func (d dockerignore) excluded(p string) bool {
	ex := false
	for _, r := range d {
		if r.re.MatchString(p) {
			ex = !r.negate
		}
	}
	return ex
}

// TestDockerignore: the build context keeps every file the build needs (Go
// sources, go.mod/go.sum, embedded files, policies) and drops the rest.
func TestDockerignore(t *testing.T) {
	d := loadDockerignore(t)
	need := []string{"go.mod", "go.sum"}
	err := filepath.WalkDir("..", func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel("..", p)
		rel = filepath.ToSlash(rel)
		if e.IsDir() {
			if rel == ".git" || rel == "deploy" || strings.HasSuffix(rel, "/testdata") || rel == "custos-dev" {
				return fs.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(rel, ".go") && !strings.HasSuffix(rel, "_test.go") {
			need = append(need, rel)
			need = append(need, embedTargets(t, p, rel)...)
		}
		if strings.HasPrefix(rel, "policies/") {
			need = append(need, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range need {
		if d.excluded(p) {
			t.Errorf(".dockerignore excludes %s, which the build needs", p)
		}
	}
	for _, p := range []string{".git/config", "deploy/chart_test.go", "gateway/server_test.go", "gateway/config/testdata/full.yaml", "custos-dev/audit.db", "cmd/custos/custos-dev/audit-signing.pem"} {
		if !d.excluded(p) {
			t.Errorf(".dockerignore lets %s into the build context", p)
		}
	}
}

var embedLine = regexp.MustCompile(`(?m)^\s*//go:embed (.+)$`)

// embedTargets lists the files a Go file's //go:embed patterns name,
// relative to the repository.
func embedTargets(t *testing.T, file, rel string) []string {
	t.Helper()
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	dir := filepath.Dir(file)
	for _, m := range embedLine.FindAllSubmatch(src, -1) {
		for _, pat := range strings.Fields(string(m[1])) {
			matches, _ := filepath.Glob(filepath.Join(dir, strings.TrimPrefix(pat, "all:")))
			if len(matches) == 0 {
				t.Errorf("%s: //go:embed %s matches nothing", rel, pat)
			}
			for _, f := range matches {
				r, _ := filepath.Rel("..", f)
				out = append(out, filepath.ToSlash(r))
			}
		}
	}
	return out
}
