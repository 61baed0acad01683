package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/custos-gateway/custos/audit/ledger"
)

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
)

// buildCustos compiles the real binary once per test run.
func buildCustos(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "custos-bin-")
		if err != nil {
			buildErr = err
			return
		}
		builtBin = filepath.Join(dir, "custos")
		if out, err := exec.Command("go", "build", "-o", builtBin, ".").CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return builtBin
}

func TestMain(m *testing.M) {
	// Every gateway these tests start decides within a generous bound: on a
	// loaded machine a first evaluation can exceed the 50 ms default, and an
	// outcome must not depend on the machine's load.
	os.Setenv("CUSTOS_POLICY_TIMEOUT", "5s")
	code := m.Run()
	if builtBin != "" {
		os.RemoveAll(filepath.Dir(builtBin))
	}
	os.Exit(code)
}

// TestServeDev runs `custos serve --dev` as a newcomer would, sends a chat
// completion and stops it with SIGTERM.
func TestServeDev(t *testing.T) {
	bin := buildCustos(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "serve", "--dev", "--dev-key", "cst_dev_fixed", "--listen", "127.0.0.1:0")
	workDir := t.TempDir()
	cmd.Dir = workDir
	stdout, _ := cmd.StdoutPipe()
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stdout)
	var addr, key string
	for sc.Scan() && (addr == "" || key == "") {
		line := sc.Text()
		if m := regexp.MustCompile(`listening on (http://\S+)`).FindStringSubmatch(line); m != nil {
			addr = m[1]
		}
		if k, ok := strings.CutPrefix(line, "dev app key: "); ok {
			key = k
		}
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	if addr == "" || key != "cst_dev_fixed" {
		t.Fatalf("serve --dev printed addr=%q key=%q; stderr:\n%s", addr, key, stderr.String())
	}

	const prompt = "Hello from a newcomer"
	req, _ := http.NewRequest(http.MethodPost, addr+"/v1/chat/completions",
		strings.NewReader(`{"model":"echo","messages":[{"role":"system","content":"be brief"},{"role":"user","content":"`+prompt+`"}]}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var out struct {
		Choices []struct {
			Message struct{ Content string } `json:"message"`
		} `json:"choices"`
	}
	err = json.NewDecoder(resp.Body).Decode(&out)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 || len(out.Choices) != 1 {
		t.Fatalf("status %d, err %v", resp.StatusCode, err)
	}
	if got := out.Choices[0].Message.Content; got != prompt {
		t.Errorf("echo answered %q, want the last user message %q", got, prompt)
	}
	if resp.Header.Get("x-custos-region") != "local" {
		t.Errorf("x-custos-region = %q, want local", resp.Header.Get("x-custos-region"))
	}
	// A newcomer sees cost and balance on the first request.
	amount, ok := strings.CutSuffix(resp.Header.Get("x-custos-cost"), " USD")
	if micros, err := ledger.ParseAmount(amount); !ok || err != nil || micros <= 0 || micros > 1000 {
		t.Errorf("x-custos-cost = %q, want a few micro-dollars", resp.Header.Get("x-custos-cost"))
	}
	creq, _ := http.NewRequest(http.MethodGet, addr+"/v1/credits", nil)
	creq.Header.Set("Authorization", "Bearer "+key)
	cresp, err := http.DefaultClient.Do(creq)
	if err != nil {
		t.Fatal(err)
	}
	var credit struct {
		Billing         string `json:"billing"`
		BalanceMicros   int64  `json:"balance_micros"`
		AvailableMicros int64  `json:"available_micros"`
	}
	err = json.NewDecoder(cresp.Body).Decode(&credit)
	cresp.Body.Close()
	if err != nil || credit.Billing != "prepaid" || credit.AvailableMicros >= 10_000_000 || credit.AvailableMicros < 9_990_000 {
		t.Errorf("GET /v1/credits = %+v (%v); want the 10 USD dev credit less the first request", credit, err)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("serve did not exit cleanly on SIGTERM: %v\nstderr:\n%s", err, stderr.String())
	}
	if strings.Contains(stderr.String(), prompt) {
		t.Errorf("the prompt reached the log:\n%s", stderr.String())
	}

	// The dev audit log sits in custos-dev/, holds the request, and a clean
	// shutdown signed its head.
	db := filepath.Join(workDir, "custos-dev", "audit.db")
	vout, err := exec.Command(bin, "audit", "verify", "--json", "--db", db, "--pubkey", filepath.Join(workDir, "custos-dev", "audit-signing.pem.pub")).Output()
	if err != nil {
		t.Fatalf("verify: %v\n%s", err, vout)
	}
	var rep struct {
		Verified       int `json:"verified"`
		LastSeq        int `json:"last_seq"`
		LastCheckpoint int `json:"last_checkpoint"`
	}
	// The dev credit, the chat's intent and outcome, the credits read.
	if err := json.Unmarshal(vout, &rep); err != nil || rep.Verified != 4 || rep.LastCheckpoint != rep.LastSeq {
		t.Errorf("dev audit log after SIGTERM: %+v (%v); want credit, intent, outcome and credits read, head signed", rep, err)
	}
}

func TestKeysCreate(t *testing.T) {
	bin := buildCustos(t)
	out, err := exec.Command(bin, "keys", "create", "--tenant", "st-marys", "--app", "clinical-assistant").Output()
	if err != nil {
		t.Fatal(err)
	}
	key := regexp.MustCompile(`(?m)^key: (cst_\S+)$`).FindStringSubmatch(string(out))
	hash := regexp.MustCompile(`sha256: ([0-9a-f]{64})`).FindStringSubmatch(string(out))
	if key == nil || hash == nil {
		t.Fatalf("output lacks key or hash:\n%s", out)
	}
	sum := sha256.Sum256([]byte(key[1]))
	if hex.EncodeToString(sum[:]) != hash[1] {
		t.Errorf("printed hash is not the SHA-256 of the printed key")
	}
	if strings.Count(string(out), key[1]) != 1 {
		t.Errorf("key printed more than once")
	}

	// With --config, tenant and app must exist.
	cfg := filepath.Join(t.TempDir(), "custos.yaml")
	os.WriteFile(cfg, []byte("audit: {path: a.db, signing_key_file: a.pem, checkpoint_file: a.checkpoints}\ntenants: [{id: t1, apps: [{id: a1, purpose: treatment}]}]\nendpoints: [{name: e, kind: openai, base_url: 'http://127.0.0.1:9/v1', region: eu-west, models: [m], keyless: true}]\n"), 0o600)
	if out, err := exec.Command(bin, "keys", "create", "--tenant", "t1", "--app", "nope", "--config", cfg).CombinedOutput(); err == nil ||
		!strings.Contains(string(out), `app "nope" is not in tenant "t1"`) {
		t.Errorf("unknown app accepted: %v %s", err, out)
	}
}

func TestServeRejectsBadConfig(t *testing.T) {
	bin := buildCustos(t)
	cfg := filepath.Join(t.TempDir(), "custos.yaml")
	os.WriteFile(cfg, []byte("tenants: [{id: t1, apps: [{id: a1}]}]\nendpoints: []\n"), 0o600)
	out, err := exec.Command(bin, "serve", "--config", cfg).CombinedOutput()
	if err == nil {
		t.Fatal("serve started with an invalid config")
	}
	for _, want := range []string{"tenants[0].apps[0].purpose", "endpoints: at least one endpoint"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("error output lacks %q:\n%s", want, out)
		}
	}
}

// TestServeDevRedacts: with serve --dev, a prompt with a name, an e-mail and
// a medical record number reaches the echo provider with placeholders only,
// and a card number is refused as the starter policy says.
func TestServeDevRedacts(t *testing.T) {
	addr := startServe(t, t.TempDir(), nil, "serve", "--dev", "--dev-key", "cst_dev_pii", "--listen", "127.0.0.1:0").addr
	ask := func(prompt string) (int, string) {
		body, _ := json.Marshal(map[string]any{"model": "echo", "messages": []map[string]string{{"role": "user", "content": prompt}}})
		req, _ := http.NewRequest(http.MethodPost, addr+"/v1/chat/completions", strings.NewReader(string(body)))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer cst_dev_pii")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	status, body := ask("Summarise the chart of John Miller, MRN 4471203, e-mail john.miller@example.org")
	if status != 200 {
		t.Fatalf("status %d: %s", status, body)
	}
	var out struct {
		Choices []struct {
			Message struct{ Content string } `json:"message"`
		} `json:"choices"`
	}
	json.Unmarshal([]byte(body), &out)
	echoed := out.Choices[0].Message.Content
	want := "Summarise the chart of [PERSON_1], MRN [MEDICAL_RECORD_NUMBER_1], e-mail [EMAIL_1]"
	if echoed != want {
		t.Errorf("the echo provider saw %q, want %q", echoed, want)
	}
	status, body = ask("Charge 4111 1111 1111 1111 for the copay")
	if status != 403 || !strings.Contains(body, "pii_blocked") || strings.Contains(body, "4111") {
		t.Errorf("card: %d %s", status, body)
	}
}

// custos version and --version name the build and the embedded policies.
func TestVersion(t *testing.T) {
	bin := buildCustos(t)
	for _, args := range [][]string{{"version"}, {"--version"}} {
		out, err := exec.Command(bin, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
		s := string(out)
		for _, want := range []string{"custos ", "commit ", "go1.", "embedded policies 2026-11-27.1+sha256:"} {
			if !strings.Contains(s, want) {
				t.Errorf("%v output lacks %q:\n%s", args, want, s)
			}
		}
	}
}

// serve --dev answers embeddings too: a vector derived from the text the
// provider saw, so inputs that differ only in a redacted name embed alike.
func TestServeDevEmbeddings(t *testing.T) {
	srv := startServe(t, t.TempDir(), nil, "serve", "--dev", "--dev-key", "cst_dev_embed", "--listen", "127.0.0.1:0")
	embed := func(input string) []float64 {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, srv.addr+"/v1/embeddings",
			strings.NewReader(`{"model":"echo","input":["`+input+`"]}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer cst_dev_embed")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out struct {
			Data []struct {
				Embedding []float64 `json:"embedding"`
			} `json:"data"`
			Usage struct {
				PromptTokens int `json:"prompt_tokens"`
			} `json:"usage"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != 200 || len(out.Data) != 1 || out.Usage.PromptTokens == 0 {
			t.Fatalf("embeddings: status %d, %+v, %v", resp.StatusCode, out, err)
		}
		return out.Data[0].Embedding
	}
	a, b, c := embed("Patient Maria Garcia has a cough"), embed("Patient John Miller has a cough"), embed("The ward is quiet")
	if len(a) == 0 || fmt.Sprint(a) != fmt.Sprint(b) {
		t.Errorf("inputs differing only in a redacted name embed differently: %v %v", a, b)
	}
	if fmt.Sprint(a) == fmt.Sprint(c) {
		t.Error("different texts embed the same")
	}
}
