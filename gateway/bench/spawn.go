package bench

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"time"
)

// child is a server process bench started: the stub, the bare proxy or a
// gateway. Its stderr goes to a log file, shown in part if it fails.
type child struct {
	name    string
	cmd     *exec.Cmd
	URL     string
	logPath string
	exited  chan struct{}
	idleRSS int64 // resident size once listening, before any load
}

var listeningLine = regexp.MustCompile(`listening on (https?://\S+)`)

// spawn starts self with args and waits for its "listening on URL" line.
func spawn(name, self string, args []string, logPath string) (*child, error) {
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logFile.Close() // the child holds its own descriptor
	cmd := exec.Command(self, args...)
	cmd.Stderr = logFile
	cmd.Env = childEnv()
	dieWithParent(cmd)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	c := &child{name: name, cmd: cmd, logPath: logPath, exited: make(chan struct{})}
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := listeningLine.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
				break
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
		_ = cmd.Wait()
		close(c.exited)
	}()
	select {
	case c.URL = <-found:
		if s, err := readProc("/proc", c.pid()); err == nil {
			c.idleRSS = s.rss
		}
		return c, nil
	case <-c.exited:
		return nil, fmt.Errorf("%s exited before listening: %s", name, c.logTail())
	case <-time.After(30 * time.Second):
		_ = c.stop()
		return nil, fmt.Errorf("%s did not start listening within 30s: %s", name, c.logTail())
	}
}

func (c *child) pid() int { return c.cmd.Process.Pid }

// stop sends SIGTERM, then SIGKILL if the process has not ended in 10s.
func (c *child) stop() error {
	select {
	case <-c.exited:
		return nil
	default:
	}
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.exited:
		return nil
	case <-time.After(10 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.exited
		return fmt.Errorf("%s did not stop on SIGTERM; killed", c.name)
	}
}

// alive reports an error if the child has exited.
func (c *child) alive() error {
	select {
	case <-c.exited:
		return fmt.Errorf("%s exited during the run: %s", c.name, c.logTail())
	default:
		return nil
	}
}

// logTail is the last lines of the child's stderr.
func (c *child) logTail() string {
	b, err := os.ReadFile(c.logPath)
	if err != nil {
		return "(no log)"
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > 5 {
		lines = lines[len(lines)-5:]
	}
	if len(lines) == 1 && lines[0] == "" {
		return "(no output)"
	}
	return strings.Join(lines, " | ")
}

var errNoSelf = errors.New("bench: this needs the custos executable to start child processes")
