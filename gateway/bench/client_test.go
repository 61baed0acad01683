package bench

import (
	"bufio"
	"strings"
	"testing"
	"time"
)

func TestReadStream(t *testing.T) {
	long := "data: {\"x\":\"" + strings.Repeat("a", 40<<10) + "\"}\n\n"
	for _, tc := range []struct {
		name, in, err string
	}{
		{"chat", "data: {\"choices\":[]}\n\ndata: [DONE]\n\n", ""},
		{"chat without done", "data: {\"choices\":[]}\n\n", "stream incomplete"},
		{"openai error event", "data: {\"choices\":[]}\n\ndata: {\"error\":{\"type\":\"server_error\",\"code\":\"upstream_interrupted\"}}\n\n", "stream upstream_interrupted"},
		{"anthropic", "event: message_start\ndata: {}\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n", ""},
		{"anthropic error", "event: message_start\ndata: {}\n\nevent: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\"}}\n\n", "stream overloaded_error"},
		{"responses", "event: response.created\ndata: {}\n\nevent: response.completed\ndata: {}\n\n", ""},
		{"line longer than the buffer", long + "data: [DONE]\n\n", ""},
		{"a long line that merely mentions done", "data: " + strings.Repeat("b", 20<<10) + "data: [DONE]\n\n", "stream incomplete"},
		{"empty", "", "stream incomplete"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := readStream(strings.NewReader(tc.in), time.Now(), bufio.NewReaderSize(nil, 16<<10))
			if o.err != tc.err {
				t.Errorf("err = %q, want %q", o.err, tc.err)
			}
			if tc.in != "" && o.ttft <= 0 || o.end < o.ttft {
				t.Errorf("ttft %v, end %v", o.ttft, o.end)
			}
		})
	}
}
