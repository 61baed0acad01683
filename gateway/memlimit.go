package gateway

import (
	"os"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/custos-gateway/custos/gateway/config"
)

// cgroupLimitFiles hold a container's memory limit: cgroup v2, then v1.
var cgroupLimitFiles = []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"}

// ApplyMemoryLimit sets the runtime's soft memory limit from the server
// config (see config.Server.MemoryLimit) and says which it set and why;
// 0 is none. A set GOMEMLIMIT is left as it is.
func ApplyMemoryLimit(sv config.Server) (int64, string) {
	if os.Getenv("GOMEMLIMIT") != "" {
		return debug.SetMemoryLimit(-1), "GOMEMLIMIT"
	}
	switch {
	case sv.MemoryLimit > 0:
		debug.SetMemoryLimit(sv.MemoryLimit)
		return sv.MemoryLimit, "server.memory_limit"
	case sv.MemoryLimit == 0:
		if c := containerLimit(cgroupLimitFiles); c > 0 {
			debug.SetMemoryLimit(c / 10 * 9)
			return c / 10 * 9, "90% of the container's memory limit"
		}
	}
	return 0, "none"
}

// containerLimit reads the first memory limit set in files; 0 when none.
func containerLimit(files []string) int64 {
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
		if err == nil && n > 0 && n < 1<<50 { // "max" or v1's huge "unlimited" mean none
			return n
		}
	}
	return 0
}
