package deploy

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/custos-gateway/custos/gateway/config"
	"github.com/custos-gateway/custos/policy"
)

// podName is the pod the rendered configuration is parsed for.
const podName = "custos-0"

// parsedConfig is the chart's custos.yaml, as YAML and as Custos parses it.
type parsedConfig struct {
	text string
	raw  map[string]any
	cfg  *config.Config
}

func (c *parsedConfig) has(section string) bool { _, ok := c.raw[section]; return ok }

// pendingString reads a string at a path of the raw YAML ("" when absent).
func (c *parsedConfig) pendingString(path ...string) string {
	var v any = c.raw
	for _, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return ""
		}
		v = m[k]
	}
	s, _ := v.(string)
	return s
}

// Sections the chart renders under names agreed with the gateway, which may
// not have them yet: Custos's decoder rejects unknown fields, so while
// config.Config has no field for one, its shape is checked here against the
// agreed keys and the rest of the file goes through config.Parse. Once the
// field exists, config.Parse checks the section like any other.
var pendingSections = map[string]func(t *testing.T, n *yaml.Node){
	"metrics":    checkPendingMetrics,
	"tracing":    checkPendingTracing,
	"accounting": checkPendingAccounting,
}

// configSections lists the top-level keys config.Config decodes.
func configSections() map[string]bool {
	known := map[string]bool{}
	typ := reflect.TypeFor[config.Config]()
	for i := range typ.NumField() {
		name, _, _ := strings.Cut(typ.Field(i).Tag.Get("yaml"), ",")
		known[name] = true
	}
	return known
}

// parseConfig parses text with config.Parse and the pod's environment, after
// checking and setting aside the pending sections the parser does not know.
func parseConfig(t *testing.T, text string, getenv func(string) string) *parsedConfig {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(text), &doc); err != nil {
		t.Fatalf("custos.yaml is not YAML: %v\n%s", err, text)
	}
	root := doc.Content[0]
	known := configSections()
	var kept []*yaml.Node
	for i := 0; i < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		if check, pending := pendingSections[k.Value]; pending && !known[k.Value] {
			check(t, v)
			t.Logf("section %s: shape checked here; config.Parse does not know it yet", k.Value)
			continue
		}
		kept = append(kept, k, v)
	}
	root.Content = kept
	b, err := yaml.Marshal(&doc)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Parse(bytes.NewReader(b), "rendered custos.yaml", getenv)
	if err != nil {
		t.Fatalf("the chart's custos.yaml does not parse and validate: %v\n%s", err, text)
	}
	var raw map[string]any
	if err := yaml.Unmarshal([]byte(text), &raw); err != nil {
		t.Fatal(err)
	}
	return &parsedConfig{text: text, raw: raw, cfg: cfg}
}

// decodeStrict decodes a node into v, refusing unknown keys.
func decodeStrict(t *testing.T, name string, n *yaml.Node, v any) {
	t.Helper()
	b, err := yaml.Marshal(n)
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

func checkPendingMetrics(t *testing.T, n *yaml.Node) {
	var m struct {
		Listen string `yaml:"listen"`
		Path   string `yaml:"path"`
	}
	decodeStrict(t, "metrics", n, &m)
	if _, _, err := net.SplitHostPort(m.Listen); err != nil {
		t.Errorf("metrics.listen %q is not host:port", m.Listen)
	}
	if !strings.HasPrefix(m.Path, "/") {
		t.Errorf("metrics.path %q must start with /", m.Path)
	}
}

func checkPendingTracing(t *testing.T, n *yaml.Node) {
	var tr struct {
		OTLPEndpoint string `yaml:"otlp_endpoint"`
		Protocol     string `yaml:"protocol"`
	}
	decodeStrict(t, "tracing", n, &tr)
	if tr.OTLPEndpoint == "" || !slices.Contains([]string{"http", "grpc"}, tr.Protocol) {
		t.Errorf("tracing: endpoint %q, protocol %q (http or grpc)", tr.OTLPEndpoint, tr.Protocol)
	}
}

func checkPendingAccounting(t *testing.T, n *yaml.Node) {
	var a struct {
		Ledger   string `yaml:"ledger"`
		Postgres *struct {
			DSN      string        `yaml:"dsn"`
			Password config.KeyRef `yaml:"password"`
		} `yaml:"postgres"`
	}
	decodeStrict(t, "accounting", n, &a)
	if !slices.Contains([]string{"bbolt", "postgres"}, a.Ledger) {
		t.Errorf("accounting.ledger %q is not bbolt or postgres", a.Ledger)
	}
	if a.Ledger != "postgres" {
		return
	}
	if a.Postgres == nil {
		t.Fatal("accounting.ledger postgres without accounting.postgres")
	}
	u, err := url.Parse(a.Postgres.DSN)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") || u.Host == "" {
		t.Errorf("accounting.postgres.dsn %q is not a postgres:// URL", a.Postgres.DSN)
	} else if _, has := u.User.Password(); has || u.Query().Has("password") {
		t.Error("accounting.postgres.dsn carries a password; it must come from Vault")
	}
	if p := a.Postgres.Password; p.Mount == "" || p.Path == "" || p.Field == "" {
		t.Errorf("accounting.postgres.password needs mount, path and field: %+v", p)
	}
}

// podEnv is the container's environment as the pod would see it.
func podEnv(t *testing.T, r *rendered) func(string) string {
	t.Helper()
	env := map[string]string{}
	for _, e := range r.container(t).Env {
		switch {
		case e.ValueFrom == nil:
			env[e.Name] = e.Value
		case e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == "metadata.name":
			env[e.Name] = podName
		default:
			t.Fatalf("env %s: unsupported source %+v", e.Name, e.ValueFrom)
		}
	}
	if env["CUSTOS_AUDIT_INSTANCE"] != podName {
		t.Errorf("CUSTOS_AUDIT_INSTANCE must be the pod name, got %q", env["CUSTOS_AUDIT_INSTANCE"])
	}
	return func(k string) string { return env[k] }
}

// checkConfigMap parses the chart's custos.yaml and checks that the pods roll
// when it changes.
func checkConfigMap(t *testing.T, r *rendered) *parsedConfig {
	cm := r.configMaps["custos-config"]
	if cm == nil {
		t.Fatal("no ConfigMap custos-config")
	}
	text, ok := cm.Data["custos.yaml"]
	if !ok || len(cm.Data) != 1 {
		t.Fatalf("ConfigMap custos-config must hold exactly custos.yaml, has %v", keys(cm.Data))
	}
	c := parseConfig(t, text, podEnv(t, r))
	sum := sha256.Sum256([]byte(strings.TrimSuffix(text, "\n")))
	if got := r.sts.Spec.Template.Annotations["checksum/config"]; got != hex.EncodeToString(sum[:]) {
		t.Errorf("checksum/config %q is not the SHA-256 of custos.yaml: a config change would not roll the pods", got)
	}
	return c
}

// checkPolicyConfigMap lays the policies ConfigMap out as its volume items
// say, loads it with Custos's policy engine and compares the revision with
// the repository's policy folder.
func checkPolicyConfigMap(t *testing.T, r *rendered, c *parsedConfig) {
	if c.cfg.Policy.Dir != "/etc/custos/policies" || !c.cfg.Policy.Watching() {
		t.Fatalf("policy.dir %q watched %v; want the mounted ConfigMap, watched", c.cfg.Policy.Dir, c.cfg.Policy.Watching())
	}
	cm := r.configMaps["custos-policies"]
	v := volumeFor(t, r, c.cfg.Policy.Dir)
	if cm == nil || v.ConfigMap == nil || v.ConfigMap.Name != cm.Name {
		t.Fatalf("policy.dir must be the mounted ConfigMap custos-policies, got %+v", v.VolumeSource)
	}
	dir := t.TempDir()
	used := map[string]bool{}
	for _, it := range v.ConfigMap.Items {
		data, ok := cm.Data[it.Key]
		if !ok || used[it.Key] {
			t.Fatalf("item %s: key %q missing or used twice", it.Path, it.Key)
		}
		used[it.Key] = true
		p := filepath.Join(dir, filepath.FromSlash(it.Path))
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if len(used) != len(cm.Data) {
		t.Errorf("ConfigMap keys %v, items use %d", keys(cm.Data), len(used))
	}
	want := policyRevision(t, "../policies")
	if got := policyRevision(t, dir); got != want {
		t.Errorf("policy set from the ConfigMap: revision %s, the repository's: %s", got, want)
	}
}

func policyRevision(t *testing.T, dir string) string {
	t.Helper()
	e, err := policy.New(context.Background(), policy.FromDir(dir), policy.Options{})
	if err != nil {
		t.Fatalf("loading policies from %s: %v", dir, err)
	}
	return e.Revision().String()
}
