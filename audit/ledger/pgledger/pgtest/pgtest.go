package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// ErrNoServer means the PostgreSQL server binaries are not installed.
var ErrNoServer = errors.New("pgtest: PostgreSQL server binaries not found: install them (Debian: apt-get install -y postgresql) or set CUSTOS_PG_BIN to their directory")

// Cluster is one throwaway PostgreSQL server.
type Cluster struct {
	dir  string // temporary directory: data/, the socket, the log
	bin  string // directory of initdb and postgres
	port int
	cred *syscall.Credential // nil unless running as root

	mu   sync.Mutex
	proc *exec.Cmd
	done chan struct{} // closed when proc exits

	dbs atomic.Int64
}

// Start creates and starts a cluster.
func Start() (*Cluster, error) {
	bin, err := findBin()
	if err != nil {
		return nil, err
	}
	c := &Cluster{bin: bin}
	if os.Geteuid() == 0 {
		if c.cred, err = nobody(); err != nil {
			return nil, err
		}
	}
	if c.dir, err = os.MkdirTemp("", "custos-pg-"); err != nil {
		return nil, fmt.Errorf("pgtest: %w", err)
	}
	if err := os.Chmod(c.dir, 0o777); err != nil {
		return nil, errors.Join(fmt.Errorf("pgtest: %w", err), os.RemoveAll(c.dir))
	}
	if err := c.initdb(); err != nil {
		return nil, errors.Join(err, os.RemoveAll(c.dir))
	}
	for attempt := 0; ; attempt++ {
		if c.port, err = freePort(); err == nil {
			err = c.Resume()
		}
		if err == nil || attempt == 4 {
			break
		}
	}
	if err != nil {
		return nil, errors.Join(err, os.RemoveAll(c.dir))
	}
	return c, nil
}

// findBin locates initdb and postgres: $CUSTOS_PG_BIN, the newest
// /usr/lib/postgresql/N/bin (Debian), or the PATH.
func findBin() (string, error) {
	if d := os.Getenv("CUSTOS_PG_BIN"); d != "" {
		return checkBin(d)
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, d := range dirs {
		if b, err := checkBin(d); err == nil {
			return b, nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return checkBin(filepath.Dir(p))
	}
	return "", ErrNoServer
}

func version(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

func checkBin(d string) (string, error) {
	for _, name := range []string{"initdb", "postgres"} {
		if st, err := os.Stat(filepath.Join(d, name)); err != nil || st.Mode()&0o111 == 0 {
			return "", fmt.Errorf("%w (no %s in %s)", ErrNoServer, name, d)
		}
	}
	return d, nil
}

// nobody is the unprivileged user the server runs as under root (the
// server refuses to run as root).
func nobody() (*syscall.Credential, error) {
	u, err := user.Lookup("nobody")
	if err != nil {
		return nil, fmt.Errorf("pgtest: running as root needs the user nobody: %w", err)
	}
	uid, _ := strconv.ParseUint(u.Uid, 10, 32)
	gid, _ := strconv.ParseUint(u.Gid, 10, 32)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), NoSetGroups: true}, nil
}

func (c *Cluster) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(c.bin, name), args...)
	cmd.Dir = c.dir
	cmd.Env = []string{"LC_ALL=C", "TZ=UTC", "HOME=" + c.dir, "PATH=/usr/bin:/bin"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred, Pdeathsig: syscall.SIGQUIT}
	return cmd
}

func (c *Cluster) initdb() error {
	cmd := c.command("initdb", "-D", filepath.Join(c.dir, "data"), "-A", "trust", "-U", "postgres",
		"-E", "UTF8", "--no-locale", "--no-sync", "--no-instructions")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("pgtest: initdb: %w: %s", err, tail(string(out)))
	}
	return nil
}

// settings keep the server small: it shares a small machine. fsync stays
// on: what runs against it is a ledger.
func (c *Cluster) settings() []string {
	set := []string{
		"listen_addresses=127.0.0.1", "port=" + strconv.Itoa(c.port), "unix_socket_directories=" + c.dir,
		"shared_buffers=16MB", "max_connections=120", "fsync=on", "synchronous_commit=on",
		"max_wal_size=256MB", "log_min_messages=warning", "log_min_error_statement=panic",
		"autovacuum_naptime=10s", "timezone=UTC",
	}
	args := []string{"-D", filepath.Join(c.dir, "data")}
	for _, s := range set {
		args = append(args, "-c", s)
	}
	return args
}

// Resume starts the server (again, after Stop) and waits until it accepts
// connections.
func (c *Cluster) Resume() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.proc != nil {
		return nil
	}
	logf, err := os.OpenFile(filepath.Join(c.dir, "log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o666)
	if err != nil {
		return fmt.Errorf("pgtest: %w", err)
	}
	cmd := c.command("postgres", c.settings()...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("pgtest: postgres: %w", err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); logf.Close(); close(done) }()
	c.proc, c.done = cmd, done
	if err := c.waitReady(done); err != nil {
		cmd.Process.Signal(syscall.SIGQUIT)
		<-done
		c.proc = nil
		return err
	}
	return nil
}

func (c *Cluster) waitReady(exited <-chan struct{}) error {
	deadline := time.Now().Add(60 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		conn, err := pgx.Connect(ctx, c.DSN("postgres"))
		cancel()
		if err == nil {
			conn.Close(context.Background())
			return nil
		}
		select {
		case <-exited:
			return fmt.Errorf("pgtest: postgres exited at start: %s", c.logTail())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("pgtest: postgres not ready after 60s: %w: %s", err, c.logTail())
		}
	}
}

// Stop shuts the server down as pg_ctl stop -m fast does (SIGINT: active
// transactions are rolled back, clients disconnected, a checkpoint
// written) and waits for it to exit. Resume starts it again.
func (c *Cluster) Stop() error { return c.signal(syscall.SIGINT) }

func (c *Cluster) signal(sig syscall.Signal) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.proc == nil {
		return nil
	}
	if err := c.proc.Process.Signal(sig); err != nil {
		return fmt.Errorf("pgtest: %w", err)
	}
	select {
	case <-c.done:
	case <-time.After(60 * time.Second):
		return fmt.Errorf("pgtest: postgres did not stop: %s", c.logTail())
	}
	c.proc = nil
	return nil
}

// Close stops the server and removes its directory.
func (c *Cluster) Close() error {
	err := c.Stop()
	return errors.Join(err, os.RemoveAll(c.dir))
}

// Port is the loopback TCP port the server listens on.
func (c *Cluster) Port() int { return c.port }

// DSN is the connection string of database db.
func (c *Cluster) DSN(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", c.port, db)
}

// Database creates a fresh, empty database for t and returns its
// connection string; it is dropped when t ends.
func (c *Cluster) Database(t testing.TB) string {
	t.Helper()
	name := fmt.Sprintf("t%d_%d", os.Getpid(), c.dbs.Add(1))
	if err := c.admin("CREATE DATABASE " + name); err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	t.Cleanup(func() {
		if err := c.admin("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)"); err != nil {
			t.Errorf("pgtest: drop database: %v", err)
		}
	})
	return c.DSN(name)
}

func (c *Cluster) admin(sql string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, c.DSN("postgres"))
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(ctx, sql)
	return err
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pgtest: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func (c *Cluster) logTail() string {
	b, _ := os.ReadFile(filepath.Join(c.dir, "log"))
	return tail(string(b))
}

func tail(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-8):], "\n")
}

var shared *Cluster

// Main runs a test binary's tests against one cluster started for it:
// call it from TestMain. It fails the binary, with the reason, when no
// server can be started.
func Main(m *testing.M) {
	c, err := Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		fmt.Fprintln(os.Stderr, "FAIL: these tests need a PostgreSQL server")
		os.Exit(1)
	}
	shared = c
	code := m.Run()
	if err := c.Close(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = max(code, 1)
	}
	os.Exit(code)
}

// Shared is the cluster Main started.
func Shared(t testing.TB) *Cluster {
	t.Helper()
	if shared == nil {
		t.Fatal("pgtest: call pgtest.Main from TestMain")
	}
	return shared
}

// CPU is the processor time (user and system) the server's processes
// have used so far: the postmaster and its children, as /proc counts them
// (Linux; 0 elsewhere). Backends that exited are not counted, so compare
// readings taken while the same connections stay open.
func (c *Cluster) CPU() time.Duration {
	c.mu.Lock()
	proc := c.proc
	c.mu.Unlock()
	if proc == nil {
		return 0
	}
	root := proc.Process.Pid
	entries, _ := os.ReadDir("/proc")
	var ticks int64
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ... utime(14) stime(15): comm may hold spaces.
		f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
		if len(f) < 13 {
			continue
		}
		if ppid, _ := strconv.Atoi(f[1]); pid == root || ppid == root {
			u, _ := strconv.ParseInt(f[11], 10, 64)
			s, _ := strconv.ParseInt(f[12], 10, 64)
			ticks += u + s
		}
	}
	return time.Duration(ticks) * (time.Second / 100) // USER_HZ is 100 on Linux
}
