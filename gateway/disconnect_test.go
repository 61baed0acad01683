package gateway_test

import (
	"context"
	"io"
	"math/rand"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/custos-gateway/custos/audit"
	"github.com/custos-gateway/custos/gateway/providertest"
)

// 200 clients that go away at random points (while the provider works
// before its header, mid-stream, or after the answer) leave no request with
// an intent and not exactly one outcome.
func TestEveryIntentHasOneOutcomeWhenClientsDisconnect(t *testing.T) {
	h := startGateway(t, nil)
	h.Sim.SetDefault(providertest.Behaviour{Latency: 60 * time.Millisecond, ChunkDelay: 8 * time.Millisecond,
		Reply: strings.Repeat("word ", 20)})
	const clients = 200
	rng := rand.New(rand.NewSource(7))
	delays := make([]time.Duration, clients)
	for i := range delays {
		delays[i] = time.Duration(rng.Intn(300)) * time.Millisecond
	}
	client := &http.Client{Transport: &http.Transport{}}
	var wg sync.WaitGroup
	for i := 0; i < clients; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			stream := i%2 == 0
			body := `{"model":"gpt-4o-mini","stream":` + map[bool]string{true: "true", false: "false"}[stream] +
				`,"messages":[{"role":"user","content":"hello"}]}`
			ctx, cancel := context.WithTimeout(context.Background(), delays[i])
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, h.URL+"/chat/completions", strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+appKey)
			req.Header.Set("Content-Type", "application/json")
			resp, err := client.Do(req)
			if err != nil {
				return // gone before the header
			}
			_, _ = io.Copy(io.Discard, resp.Body) // gone mid-stream, or read to the end
			resp.Body.Close()
		}(i)
	}
	wg.Wait()
	// A cancelled dial's connection goes to the client's idle pool without a
	// request; close them, or the server's shutdown waits them out.
	client.CloseIdleConnections()
	recs := h.records(t) // stops the gateway: every request it received has ended
	received := strings.Count(h.Logs.String(), `"msg":"request"`)
	intents, outcomes := map[uint64]string{}, map[uint64]int{}
	byID := map[string]int{}
	for _, r := range recs {
		switch r.Kind {
		case audit.KindIntent:
			intents[r.Seq] = r.RequestID
		case audit.KindOutcome:
			byID[r.RequestID]++
			if r.IntentSeq != 0 {
				outcomes[r.IntentSeq]++
			}
		}
	}
	if len(byID) != received {
		t.Errorf("%d requests have outcome records; the gateway received %d of %d", len(byID), received, clients)
	}
	// Under load some clients give up before the gateway has their request
	// (a short deadline spent dialling): fewer to check, the same invariant.
	if received < clients/2 {
		t.Errorf("the gateway received only %d of %d requests: too few to exercise disconnects", received, clients)
	}
	for id, n := range byID {
		if n != 1 {
			t.Errorf("request %s has %d outcome records", id, n)
		}
	}
	cut := 0
	for seq, id := range intents {
		if outcomes[seq] != 1 {
			t.Errorf("intent %d (request %s) has %d outcomes, want 1", seq, id, outcomes[seq])
		}
		if byID[id] == 0 {
			t.Errorf("intent %d has no outcome", seq)
		}
	}
	for _, r := range recs {
		if r.Kind == audit.KindOutcome && r.ErrorCode == "client_closed" {
			cut++
		}
	}
	if len(intents) < clients/4 || cut < clients/8 {
		t.Errorf("the test did not exercise disconnects: %d intents, %d client_closed outcomes", len(intents), cut)
	}
	t.Logf("%d clients, %d requests received, %d forwarded (intent), %d ended by the client", clients, received, len(intents), cut)
}
