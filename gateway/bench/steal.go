package bench

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// hostCPU is one reading of the machine's CPU time from /proc/stat's "cpu"
// line, in clock ticks summed over every CPU.
type hostCPU struct {
	total, steal uint64
	readable     bool
}

// readHostCPU reads <root>/stat.
func readHostCPU(root string) (hostCPU, error) {
	b, err := os.ReadFile(filepath.Join(root, "stat"))
	if err != nil {
		return hostCPU{}, err
	}
	return parseHostCPU(b)
}

// parseHostCPU reads the aggregate "cpu" line: user, nice, system, idle,
// iowait, irq, softirq and steal make the total (guest time is already in
// user and nice); steal is the time a hypervisor ran other guests while
// this machine's CPUs had work.
func parseHostCPU(stat []byte) (hostCPU, error) {
	sc := bufio.NewScanner(bytes.NewReader(stat))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 || f[0] != "cpu" {
			continue
		}
		if len(f) < 9 {
			return hostCPU{}, fmt.Errorf("bench: /proc/stat: cpu line has %d fields, want at least 9", len(f))
		}
		var h hostCPU
		for i, s := range f[1:9] {
			v, err := strconv.ParseUint(s, 10, 64)
			if err != nil {
				return hostCPU{}, fmt.Errorf("bench: /proc/stat: %w", err)
			}
			h.total += v
			if i == 7 {
				h.steal = v
			}
		}
		h.readable = true
		return h, nil
	}
	return hostCPU{}, fmt.Errorf("bench: /proc/stat has no cpu line")
}

// stealShare is the share of the machine's CPU time between two readings
// that the hypervisor took, or nil when either reading failed or no time
// passed.
func stealShare(before, after hostCPU) *float64 {
	if !before.readable || !after.readable || after.total <= before.total || after.steal < before.steal {
		return nil
	}
	v := float64(after.steal-before.steal) / float64(after.total-before.total)
	return &v
}

// stealWarn is the share of steal in a measured phase above which the
// report says that phase's figures are not the machine's own.
const stealWarn = 0.05

// stealNotes name every measured phase (every round of every target) in
// which the hypervisor took more than stealWarn of the machine's CPU, and
// how many phases had no reading.
func stealNotes(r *Report) []string {
	var hit []string
	worst, read, phases := 0.0, 0, 0
	for _, lr := range r.Loads {
		for _, res := range lr.Results {
			phases += max(1, len(res.RoundsRPS))
			steal := res.RoundsSteal
			if len(steal) == 0 && res.Steal != nil && len(res.RoundsRPS) <= 1 {
				steal = []float64{*res.Steal}
			}
			var rounds []string
			for i, v := range steal {
				if v > stealWarn {
					rounds = append(rounds, fmt.Sprintf("%s%.0f%%", roundLabel(i, len(steal)), v*100))
				}
				worst = max(worst, v)
			}
			read += len(steal)
			if len(rounds) > 0 {
				hit = append(hit, fmt.Sprintf("%s %s %s", lr.Name, res.Target, strings.Join(rounds, ", ")))
			}
		}
	}
	if read == 0 {
		return nil
	}
	scope := "every measured phase"
	if read < phases {
		scope = fmt.Sprintf("every measured phase read (%d of %d; the others have no reading)", read, phases)
	}
	if len(hit) == 0 {
		return []string{fmt.Sprintf("the host's steal time (/proc/stat, as vmstat's st: a share of all the machine's CPU time, idle included) stayed at or below %.0f%% in %s (worst %.1f%%)",
			stealWarn*100, scope, worst*100)}
	}
	return []string{fmt.Sprintf("the host took more than %.0f%% of this machine's CPU (steal time in /proc/stat, as vmstat's st) while measuring: %s; "+
		"figures measured under steal are lower than the machine's own and are not comparable between targets (worst %.0f%%, of %s)",
		stealWarn*100, strings.Join(hit, "; "), worst*100, scope)}
}

func roundLabel(i, n int) string {
	if n <= 1 {
		return ""
	}
	return fmt.Sprintf("round %d ", i+1)
}
