package bench

import (
	"net"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseStatCPU(t *testing.T) {
	for _, tc := range []struct {
		name, stat string
		want       time.Duration
		ok         bool
	}{
		{"plain", "1234 (custos) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 12 0 100 0 0", 3 * time.Second, true},
		{"name with spaces and parens", "99 (a) b (c)) R 1 99 99 0 -1 0 0 0 0 0 7 3 0 0 20 0 1 0 5 0 0", 100 * time.Millisecond, true},
		{"short", "1 (x) S 1 2 3", 0, false},
		{"garbage", "nothing here", 0, false},
	} {
		got, err := parseStatCPU([]byte(tc.stat))
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("%s: %v, %v; want %v ok %v", tc.name, got, err, tc.want, tc.ok)
		}
	}
}

func TestStatusKB(t *testing.T) {
	status := "Name:\tcustos\nVmPeak:\t 900000 kB\nVmHWM:\t  20480 kB\nVmRSS:\t  10240 kB\n"
	if got := statusKB([]byte(status), "VmHWM:"); got != 20480<<10 {
		t.Errorf("VmHWM = %d", got)
	}
	if got := statusKB([]byte(status), "VmRSS:"); got != 10240<<10 {
		t.Errorf("VmRSS = %d", got)
	}
	if got := statusKB([]byte(status), "VmSwap:"); got != 0 {
		t.Errorf("absent key = %d, want 0", got)
	}
}

func TestListeningInodes(t *testing.T) {
	f, err := os.Open("testdata/net_tcp")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got := listeningInodes(f, 8080); !slices.Equal(got, []string{"41234"}) {
		t.Errorf("port 8080: %v, want only the listening socket 41234", got)
	}
}

// TestFindListenerFindsThisProcess listens on loopback and expects the real
// /proc to lead back to this test's own process.
func TestFindListenerFindsThisProcess(t *testing.T) {
	for _, network := range []struct{ net, addr string }{{"tcp4", "127.0.0.1:0"}, {"tcp6", "[::1]:0"}} {
		ln, err := net.Listen(network.net, network.addr)
		if err != nil {
			t.Logf("%s: %v (no such stack here)", network.net, err)
			continue
		}
		port := ln.Addr().(*net.TCPAddr).Port
		pid, err := findListener("/proc", port)
		ln.Close()
		if err != nil || pid != os.Getpid() {
			t.Errorf("%s: findListener = %d, %v; want %d", network.net, pid, err, os.Getpid())
		}
	}
	s, err := readProc("/proc", os.Getpid())
	if err != nil || !s.readable || s.peakRSS <= 0 || s.rss <= 0 || s.peakRSS < s.rss {
		t.Errorf("readProc(self) = %+v, %v", s, err)
	}
	if _, err := findListener("/proc", 1); err == nil || !strings.Contains(err.Error(), "port 1") {
		t.Errorf("port 1: err = %v, want no listener", err)
	}
}
