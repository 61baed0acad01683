package gateway_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// TestRequestLogLine: a request's line carries its stages in order and
// each stage's time as whole microseconds, latency in nanoseconds.
func TestRequestLogLine(t *testing.T) {
	h := startGateway(t, nil)
	if resp := h.post(t, "/v1/chat/completions", "application/json", appKey, okBody); resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	var line map[string]any
	for _, l := range strings.Split(h.waitForRequestLogs(t, 1), "\n") {
		if strings.Contains(l, `"msg":"request"`) {
			d := json.NewDecoder(bytes.NewReader([]byte(l)))
			d.UseNumber()
			if err := d.Decode(&line); err != nil {
				t.Fatalf("%v: %s", err, l)
			}
		}
	}
	stages, _ := line["stages"].([]any)
	times, _ := line["stage_us"].(map[string]any)
	if len(stages) < 5 || len(times) == 0 {
		t.Fatalf("stages %v, times %v", line["stages"], line["stage_us"])
	}
	for _, s := range stages {
		n, ok := times[s.(string)].(json.Number)
		if _, err := n.Int64(); !ok || err != nil {
			t.Errorf("stage %v: time %v, want whole microseconds", s, times[s.(string)])
		}
	}
	if len(times) > len(stages) {
		t.Errorf("times for stages that did not run: %v (ran %v)", times, stages)
	}
	if n, ok := line["latency"].(json.Number); !ok || strings.Contains(n.String(), ".") {
		t.Errorf("latency %v, want nanoseconds", line["latency"])
	}
}
