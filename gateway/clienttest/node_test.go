package clienttest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// nodeDir holds the scripts and their pinned dependencies.
const nodeDir = "node"

// scriptTimeout bounds one script: a few seconds of work, with room for a
// loaded machine.
const scriptTimeout = 45 * time.Second

// nodeSlots bounds the Node processes running at once: one per core, so
// the suite leaves room for the packages tested beside it.
var nodeSlots = make(chan struct{}, 2)

// usage is a token count pair as a client reads it.
type usage struct {
	Input  int `json:"input"`
	Output int `json:"output"`
}

type toolCall struct {
	Name      string `json:"name"`
	Arguments string `json:"arguments"`
}

type modelInfo struct {
	ID          string `json:"id"`
	Object      string `json:"object"`
	OwnedBy     string `json:"owned_by"`
	Type        string `json:"type"`
	DisplayName string `json:"display_name"`
	CreatedAt   string `json:"created_at"`
}

// exchange is one HTTP exchange a library made, as its fetch saw it.
type exchange struct {
	Method          string `json:"method"`
	Path            string `json:"path"`
	Status          int    `json:"status"`
	CustosRequestID string `json:"custos_request_id"`
	XRequestID      string `json:"x_request_id"`
	RequestID       string `json:"request_id"`
}

// observation is the one JSON line a script prints.
type observation struct {
	Content      string      `json:"content"`
	Usage        *usage      `json:"usage"`
	SDKRequestID *string     `json:"sdk_request_id"`
	ToolCalls    []toolCall  `json:"tool_calls"`
	Models       []string    `json:"models"`
	Listed       []modelInfo `json:"listed"`
	Model        *modelInfo  `json:"model"`
	Events       []string    `json:"events"`
	Embeddings   [][]float64 `json:"embeddings"`
	Error        string      `json:"error"`
	Status       int         `json:"status"`
	Exchanges    []exchange  `json:"exchanges"`
	Refused      []string    `json:"refused"`
}

// requireNode fails unless node and every pinned package, at its pinned
// version, are installed: a missing dependency is a failure, never a skip.
func requireNode(t testing.TB) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node (20 or later) is required to run the client libraries")
	}
	var manifest struct {
		Dependencies map[string]string `json:"dependencies"`
	}
	readJSON(t, filepath.Join(nodeDir, "package.json"), &manifest)
	if len(manifest.Dependencies) == 0 {
		t.Fatal("node/package.json pins no client library")
	}
	for name, pinned := range manifest.Dependencies {
		var installed struct {
			Version string `json:"version"`
		}
		data, err := os.ReadFile(filepath.Join(nodeDir, "node_modules", name, "package.json"))
		if err == nil {
			err = json.Unmarshal(data, &installed)
		}
		if err != nil || installed.Version != pinned {
			t.Fatalf("%s %s is not installed (found %q): run `npm ci` in gateway/clienttest/node", name, pinned, installed.Version)
		}
	}
	return node
}

func readJSON(t testing.TB, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// runScript runs one scenario script with the given settings and returns
// what it observed; a script that fails, prints no observation or tried to
// leave the loopback interface fails the test.
func runScript(t testing.TB, node, script string, settings map[string]string) observation {
	t.Helper()
	nodeSlots <- struct{}{}
	defer func() { <-nodeSlots }()
	ctx, cancel := context.WithTimeout(context.Background(), scriptTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "--import", "./guard.mjs", script)
	cmd.Dir = nodeDir
	cmd.Env = scriptEnv(t, settings)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	var obs observation
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	decodeErr := json.Unmarshal([]byte(lines[len(lines)-1]), &obs)
	if runErr != nil || decodeErr != nil || len(obs.Refused) > 0 {
		t.Fatalf("node %s (%s): %v %v\nobserved: %s\nstderr:\n%s", script, settings["SCENARIO"], runErr, decodeErr,
			stdout.String(), tail(stderr.String(), 4000))
	}
	return obs
}

// scriptEnv is a clean environment: no key, proxy or option of the
// machine's, every library's tracing and telemetry off.
func scriptEnv(t testing.TB, settings map[string]string) []string {
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + t.TempDir(),
		"NO_COLOR=1",
		"LANGSMITH_TRACING=false",
		"LANGCHAIN_TRACING_V2=false",
		"LANGCHAIN_TRACING=false",
		"LANGCHAIN_CALLBACKS_BACKGROUND=false",
		"OPENAI_AGENTS_DISABLE_TRACING=1",
		"DO_NOT_TRACK=1",
	}
	for k, v := range settings {
		env = append(env, k+"="+v)
	}
	return env
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}
