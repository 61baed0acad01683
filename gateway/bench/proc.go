package bench

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// ErrNoProcess reports that the process serving a target could not be found
// or read (it runs elsewhere, in a container, or under another user).
var ErrNoProcess = errors.New("bench: process not found")

// clockTick is the unit of utime and stime in /proc/<pid>/stat (USER_HZ,
// 100 on every Linux the gateway runs on).
const clockTick = 10 * time.Millisecond

// procSample is one reading of a process's accounting.
type procSample struct {
	cpu      time.Duration // user + system time since the process started, all threads
	peakRSS  int64         // VmHWM, bytes: the resident peak over the process's life
	rss      int64         // VmRSS, bytes
	readable bool
}

// readProc reads /proc/<pid>/stat and /proc/<pid>/status under root.
func readProc(root string, pid int) (procSample, error) {
	dir := filepath.Join(root, strconv.Itoa(pid))
	stat, err := os.ReadFile(filepath.Join(dir, "stat"))
	if err != nil {
		return procSample{}, fmt.Errorf("%w: %w", ErrNoProcess, err)
	}
	cpu, err := parseStatCPU(stat)
	if err != nil {
		return procSample{}, err
	}
	status, err := os.ReadFile(filepath.Join(dir, "status"))
	if err != nil {
		return procSample{}, fmt.Errorf("%w: %w", ErrNoProcess, err)
	}
	s := procSample{cpu: cpu, readable: true}
	s.peakRSS = statusKB(status, "VmHWM:")
	s.rss = statusKB(status, "VmRSS:")
	return s, nil
}

// parseStatCPU returns utime + stime from a /proc/<pid>/stat line; the
// command name in parentheses may itself hold spaces and parentheses.
func parseStatCPU(stat []byte) (time.Duration, error) {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("%w: malformed stat", ErrNoProcess)
	}
	f := strings.Fields(string(stat[i+1:]))
	if len(f) < 13 { // state is field 3; utime, stime are fields 14 and 15
		return 0, fmt.Errorf("%w: short stat", ErrNoProcess)
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("%w: malformed stat times", ErrNoProcess)
	}
	return time.Duration(ut+st) * clockTick, nil
}

// statusKB reads a "Key:   1234 kB" line of /proc/<pid>/status, in bytes.
func statusKB(status []byte, key string) int64 {
	for line := range strings.Lines(string(status)) {
		if rest, ok := strings.CutPrefix(line, key); ok {
			f := strings.Fields(rest)
			if len(f) > 0 {
				n, _ := strconv.ParseInt(f[0], 10, 64)
				return n << 10
			}
		}
	}
	return 0
}

// findListener returns the process listening on TCP port (IPv4 or IPv6):
// the socket's inode from <root>/net/tcp{,6}, then the process holding that
// socket among <root>/<pid>/fd.
func findListener(root string, port int) (int, error) {
	inodes := map[string]bool{}
	for _, name := range []string{"tcp", "tcp6"} {
		f, err := os.Open(filepath.Join(root, "net", name))
		if err != nil {
			continue
		}
		for _, ino := range listeningInodes(f, port) {
			inodes["socket:["+ino+"]"] = true
		}
		f.Close()
	}
	if len(inodes) == 0 {
		return 0, fmt.Errorf("%w: no listener on port %d", ErrNoProcess, port)
	}
	procs, err := os.ReadDir(root)
	if err != nil {
		return 0, fmt.Errorf("%w: %w", ErrNoProcess, err)
	}
	for _, p := range procs {
		pid, err := strconv.Atoi(p.Name())
		if err != nil {
			continue
		}
		if holdsSocket(filepath.Join(root, p.Name(), "fd"), inodes) {
			return pid, nil
		}
	}
	return 0, fmt.Errorf("%w: the listener on port %d belongs to no process this user can read", ErrNoProcess, port)
}

func holdsSocket(fdDir string, inodes map[string]bool) bool {
	fds, err := os.ReadDir(fdDir)
	if err != nil {
		return false
	}
	for _, fd := range fds {
		if link, err := os.Readlink(filepath.Join(fdDir, fd.Name())); err == nil && inodes[link] {
			return true
		}
	}
	return false
}

// listeningInodes parses /proc/net/tcp{,6}: the inodes of sockets in state
// LISTEN (0A) on port.
func listeningInodes(r io.Reader, port int) []string {
	var out []string
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 10 || f[3] != "0A" {
			continue
		}
		_, hexPort, ok := strings.Cut(f[1], ":")
		if !ok {
			continue
		}
		if p, err := strconv.ParseUint(hexPort, 16, 16); err == nil && int(p) == port {
			out = append(out, f[9])
		}
	}
	return out
}
