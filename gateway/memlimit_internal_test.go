package gateway

import (
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"testing"

	"github.com/custos-gateway/custos/gateway/config"
)

func TestContainerLimit(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	v2max, v2set := write("v2max", "max\n"), write("v2set", "536870912\n")
	v1none := write("v1none", "9223372036854771712\n")
	missing := filepath.Join(dir, "missing")
	cases := []struct {
		name  string
		files []string
		want  int64
	}{
		{"no cgroup files", []string{missing}, 0},
		{"v2 unlimited", []string{v2max}, 0},
		{"v2 limited", []string{v2set}, 512 << 20},
		{"v1 unlimited", []string{missing, v1none}, 0},
		{"v2 unlimited, v1 limited", []string{v2max, v2set}, 512 << 20},
	}
	for _, tc := range cases {
		if got := containerLimit(tc.files); got != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, got, tc.want)
		}
	}
}

func TestApplyMemoryLimit(t *testing.T) {
	t.Setenv("GOMEMLIMIT", "") // as unset: the config decides
	defer debug.SetMemoryLimit(math.MaxInt64)
	debug.SetMemoryLimit(math.MaxInt64)
	if got, from := ApplyMemoryLimit(config.Server{MemoryLimit: 300 << 20}); got != 300<<20 || from != "server.memory_limit" || debug.SetMemoryLimit(-1) != 300<<20 {
		t.Errorf("explicit limit: %d from %q, runtime %d", got, from, debug.SetMemoryLimit(-1))
	}
	debug.SetMemoryLimit(math.MaxInt64)
	if got, _ := ApplyMemoryLimit(config.Server{MemoryLimit: -1}); got != 0 || debug.SetMemoryLimit(-1) != math.MaxInt64 {
		t.Errorf("-1 set a limit: %d", got)
	}
	t.Setenv("GOMEMLIMIT", "1GiB")
	if _, from := ApplyMemoryLimit(config.Server{MemoryLimit: 300 << 20}); from != "GOMEMLIMIT" || debug.SetMemoryLimit(-1) != math.MaxInt64 {
		t.Errorf("GOMEMLIMIT set, yet the config's limit was applied (%q)", from)
	}
}
