package deploy

import (
	"bufio"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

// unitFile is a systemd unit as sections of key → values (a key may repeat).
type unitFile map[string]map[string][]string

// parseUnit parses systemd's INI dialect: [Section] headers, Key=Value lines,
// '#' and ';' comments. It refuses anything else, so a stray line fails.
func parseUnit(t *testing.T, path string) unitFile {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	u := unitFile{}
	section := ""
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";"):
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			section = line[1 : len(line)-1]
			if u[section] != nil {
				t.Fatalf("%s:%d: section [%s] twice", path, n, section)
			}
			u[section] = map[string][]string{}
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok || section == "" || strings.ContainsAny(k, " \t") || strings.HasSuffix(line, "\\") {
				t.Fatalf("%s:%d: not a Key=Value line inside a section: %q", path, n, line)
			}
			u[section][k] = append(u[section][k], v)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return u
}

// last is the effective value of a key (systemd: the last assignment wins).
func (u unitFile) last(section, key string) (string, bool) {
	vs := u[section][key]
	if len(vs) == 0 {
		return "", false
	}
	return vs[len(vs)-1], true
}

func TestSystemdUnit(t *testing.T) {
	u := parseUnit(t, "systemd/custos.service")
	for _, s := range []string{"Unit", "Service", "Install"} {
		if u[s] == nil {
			t.Fatalf("no [%s] section", s)
		}
	}
	for _, c := range []struct{ key, want string }{
		{"ExecStart", "/usr/local/bin/custos serve --config /etc/custos/custos.yaml"},
		{"ExecReload", "/bin/kill -HUP $MAINPID"},
		{"KillSignal", "SIGTERM"},
		{"User", "custos"},
		{"NoNewPrivileges", "yes"},
		{"ProtectSystem", "strict"},
		{"ProtectHome", "yes"},
		{"PrivateTmp", "yes"},
		{"PrivateDevices", "yes"},
		{"CapabilityBoundingSet", ""},
		{"AmbientCapabilities", ""},
		{"MemoryDenyWriteExecute", "yes"},
		{"RestrictAddressFamilies", "AF_INET AF_INET6 AF_UNIX"},
		{"RestrictNamespaces", "yes"},
		{"RestrictSUIDSGID", "yes"},
		{"LockPersonality", "yes"},
		{"SystemCallArchitectures", "native"},
		{"SystemCallErrorNumber", "EPERM"},
		{"UMask", "0077"},
	} {
		got, ok := u.last("Service", c.key)
		if !ok || got != c.want {
			t.Errorf("%s=%q (set %v), want %q", c.key, got, ok, c.want)
		}
	}
	if f := u["Service"]["SystemCallFilter"]; len(f) == 0 || f[0] != "@system-service" {
		t.Errorf("SystemCallFilter must allow @system-service first, got %q", f)
	}
	if dirs := strings.Fields(strings.Join(u["Service"]["StateDirectory"], " ")); !slices.Contains(dirs, "custos") {
		t.Errorf("StateDirectory %q must include custos (/var/lib/custos, the audit log)", dirs)
	}
	v, _ := u.last("Service", "TimeoutStopSec")
	d, err := time.ParseDuration(v)
	if err != nil {
		d, err = time.ParseDuration(v + "s")
	}
	if err != nil || d <= 30*time.Second {
		t.Errorf("TimeoutStopSec=%q must exceed the 30 s drain", v)
	}
	if w, _ := u.last("Install", "WantedBy"); w != "multi-user.target" {
		t.Errorf("WantedBy=%q", w)
	}
}

// The unit's user exists (sysusers) and owns the state directories (tmpfiles).
func TestSystemdUserAndDirectories(t *testing.T) {
	users := fieldsOf(t, "systemd/custos.sysusers")
	if len(users) != 1 || users[0][0] != "u" || users[0][1] != "custos" {
		t.Fatalf("sysusers must create the system user custos: %q", users)
	}
	want := map[string][]string{
		"/etc/custos":                 {"d", "0750", "root", "custos"},
		"/var/lib/custos":             {"d", "0700", "custos", "custos"},
		"/var/lib/custos-checkpoints": {"d", "0700", "custos", "custos"},
	}
	got := map[string][]string{}
	for _, f := range fieldsOf(t, "systemd/custos.tmpfiles") {
		if len(f) < 5 {
			t.Fatalf("tmpfiles line %q: too few fields", f)
		}
		got[f[1]] = []string{f[0], f[2], f[3], f[4]}
	}
	for p, w := range want {
		if !slices.Equal(got[p], w) {
			t.Errorf("tmpfiles %s: %q, want %q", p, got[p], w)
		}
	}
}

// fieldsOf returns the whitespace-separated fields of each non-comment line.
func fieldsOf(t *testing.T, path string) [][]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]string
	for _, line := range strings.Split(string(b), "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			out = append(out, strings.Fields(line))
		}
	}
	return out
}
