package deploy

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// composeExampleKey is the public app key of the compose example.
const composeExampleKey = "cst_compose_example_only"

type composeService struct {
	Image           string            `yaml:"image"`
	Hostname        string            `yaml:"hostname"`
	Command         []string          `yaml:"command"`
	Environment     map[string]string `yaml:"environment"`
	Volumes         []string          `yaml:"volumes"`
	ReadOnly        bool              `yaml:"read_only"`
	User            string            `yaml:"user"`
	CapDrop         []string          `yaml:"cap_drop"`
	StopGracePeriod string            `yaml:"stop_grace_period"`
	DependsOn       any               `yaml:"depends_on"`
}

type composeFile struct {
	Services map[string]composeService `yaml:"services"`
	Volumes  map[string]any            `yaml:"volumes"`
}

func loadCompose(t *testing.T) composeFile {
	t.Helper()
	b, err := os.ReadFile("compose/compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var c composeFile
	if err := yaml.Unmarshal(b, &c); err != nil {
		t.Fatalf("compose.yaml: %v", err)
	}
	return c
}

// mounts maps a service's container paths to their volume source.
func (s composeService) mounts() map[string]string {
	m := map[string]string{}
	for _, v := range s.Volumes {
		parts := strings.Split(v, ":")
		if len(parts) >= 2 {
			m[parts[1]] = parts[0]
		}
	}
	return m
}

func TestComposeReplicas(t *testing.T) {
	c := loadCompose(t)
	for _, name := range []string{"provider-sim", "vault", "vault-init", "postgres"} {
		if _, ok := c.Services[name]; !ok {
			t.Errorf("no service %s", name)
		}
	}
	seen := map[string]string{}
	for i := 1; i <= 3; i++ {
		name := fmt.Sprintf("custos-%d", i)
		s, ok := c.Services[name]
		if !ok {
			t.Fatalf("no service %s", name)
		}
		if !slices.Equal(s.Command, []string{"serve", "--config", "/etc/custos/custos.yaml"}) {
			t.Errorf("%s: command %q", name, s.Command)
		}
		if !s.ReadOnly || s.User != "65532:65532" || !slices.Equal(s.CapDrop, []string{"ALL"}) {
			t.Errorf("%s: read_only %v, user %q, cap_drop %q", name, s.ReadOnly, s.User, s.CapDrop)
		}
		if s.Hostname != name || s.Environment["CUSTOS_AUDIT_INSTANCE"] != name {
			t.Errorf("%s: host name %q, CUSTOS_AUDIT_INSTANCE %q: each replica names itself", name, s.Hostname, s.Environment["CUSTOS_AUDIT_INSTANCE"])
		}
		if d, err := time.ParseDuration(s.StopGracePeriod); err != nil || d <= 30*time.Second {
			t.Errorf("%s: stop_grace_period %q must exceed the 30 s drain", name, s.StopGracePeriod)
		}
		m := s.mounts()
		if m["/etc/custos/custos.yaml"] != "./custos.yaml" {
			t.Errorf("%s: custos.yaml not mounted", name)
		}
		for _, dir := range []string{"/var/lib/custos", "/var/lib/custos-checkpoints"} {
			vol := m[dir]
			if _, declared := c.Volumes[vol]; !declared {
				t.Errorf("%s: %s is on %q, not a declared named volume", name, dir, vol)
			}
			if other, dup := seen[vol]; dup {
				t.Errorf("%s and %s share volume %s: each replica keeps its own audit files", other, name, vol)
			}
			seen[vol] = name
		}
	}
}

// TestComposeConfig: the replicas' custos.yaml parses and validates, and
// names what vault-init.sh and the provider simulator provide.
func TestComposeConfig(t *testing.T) {
	c := loadCompose(t)
	s := c.Services["custos-1"]
	b, err := os.ReadFile("compose/custos.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg := parseConfig(t, string(b), func(k string) string { return s.Environment[k] }).cfg
	m := s.mounts()
	for _, p := range []string{cfg.Audit.Path, cfg.Audit.CheckpointFile} {
		dir := p[:strings.LastIndex(p, "/")]
		if _, ok := m[dir]; !ok {
			t.Errorf("%s is not on a mounted volume", p)
		}
	}
	sum := sha256.Sum256([]byte(composeExampleKey))
	if k := cfg.Tenants[0].Apps[0].Keys[0]; k.SHA256 != hex.EncodeToString(sum[:]) {
		t.Errorf("the example app key %s does not match the configured hash %s", composeExampleKey, k.SHA256)
	}
	init, err := os.ReadFile("compose/vault-init.sh")
	if err != nil {
		t.Fatal(err)
	}
	ep := cfg.Endpoints[0]
	if ep.Key == nil || !strings.Contains(string(init), fmt.Sprintf("vault kv put %s/%s %s=", ep.Key.Mount, ep.Key.Path, ep.Key.Field)) {
		t.Errorf("vault-init.sh does not store the provider key %+v", ep.Key)
	}
	if !strings.Contains(string(init), "transit/keys/"+cfg.Audit.VaultTransitKey+" type=ed25519") {
		t.Errorf("vault-init.sh does not create the transit key %q", cfg.Audit.VaultTransitKey)
	}
	u, err := url.Parse(ep.BaseURL)
	if err != nil {
		t.Fatal(err)
	}
	sim, ok := c.Services[u.Hostname()]
	if !ok {
		t.Fatalf("endpoint %s points at %s, which is no service", ep.Name, u.Host)
	}
	keyAt := slices.Index(sim.Command, "--dev-key")
	initEnv := c.Services["vault-init"].Environment
	if keyAt < 0 || keyAt+1 >= len(sim.Command) || sim.Command[keyAt+1] != initEnv["PROVIDER_SIM_KEY"] {
		t.Errorf("the simulator's --dev-key is not the provider key vault-init stores")
	}
}
