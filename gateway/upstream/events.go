package upstream

import (
	"encoding/json"
	"errors"
	"io"

	"github.com/custos-gateway/custos/gateway/sse"
)

// MaxEventLine bounds one SSE line from a provider.
const MaxEventLine = 4 << 20

// ErrStreamInterrupted means a provider's stream could not be read to its end.
var ErrStreamInterrupted = errors.New("upstream: provider stream ended before completion")

// translatedEvents turns a provider's own stream format into OpenAI chunk
// events: translate maps one provider event to zero or more chunk payloads;
// end, when the provider's stream carries no end marker, is asked at EOF for
// the closing payloads and whether the stream had finished (else it was cut).
type translatedEvents struct {
	r         *sse.Reader
	translate func(sse.Event) ([][]byte, error)
	end       func() ([][]byte, bool)
	queue     [][]byte
	ended     bool
}

// Ready reports an event already translated, or the end: a buffered
// provider event may translate to nothing, so it does not count.
func (t *translatedEvents) Ready() bool { return len(t.queue) > 0 || t.ended }

func (t *translatedEvents) Next() (sse.Event, error) {
	for len(t.queue) == 0 {
		if t.ended {
			return sse.Event{}, io.EOF
		}
		ev, err := t.r.Next()
		if errors.Is(err, io.EOF) && t.end != nil {
			out, finished := t.end()
			if !finished {
				return sse.Event{}, io.ErrUnexpectedEOF
			}
			t.queue, t.ended = out, true
			continue
		}
		if err != nil {
			return sse.Event{}, err
		}
		if ev.Comment {
			continue
		}
		out, err := t.translate(ev)
		if err != nil {
			return sse.Event{}, errors.Join(ErrStreamInterrupted, err)
		}
		t.queue = out
	}
	data := t.queue[0]
	t.queue = t.queue[1:]
	return sse.Event{Data: data}, nil
}

// openAIErrorMessage reads {"error":{"message":...}} or {"message":...}.
func openAIErrorMessage(body []byte) string {
	var v struct {
		Error struct {
			Message string `json:"message"`
		} `json:"error"`
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &v) != nil {
		return ""
	}
	if v.Error.Message != "" {
		return v.Error.Message
	}
	return v.Message
}
