package bench

import (
	"testing"

	"github.com/custos-gateway/custos/gateway/config"
)

// TestCustosConfigInspectionCache: the suite's generated configuration
// loads, with the inspection cache at its default or off as asked.
func TestCustosConfigInspectionCache(t *testing.T) {
	for _, noCache := range []bool{false, true} {
		path, key, err := writeCustosConfig(t.TempDir(), "http://127.0.0.1:9/v1", noCache)
		if err != nil || key == "" {
			t.Fatalf("noCache %v: %v", noCache, err)
		}
		cfg, err := config.Load(path, func(string) string { return "" })
		if err != nil {
			t.Fatal(err)
		}
		if want := config.Defaults().Inspection.CacheEntries; noCache && cfg.Inspection.CacheEntries != 0 || !noCache && cfg.Inspection.CacheEntries != want {
			t.Fatalf("noCache %v: cache_entries %d (default %d)", noCache, cfg.Inspection.CacheEntries, want)
		}
	}
}
