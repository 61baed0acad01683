package sse

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// ErrLineTooLong means an event line exceeded the reader's limit.
var ErrLineTooLong = errors.New("sse: line too long")

// Event is one dispatched event. Data joins multiple data lines with "\n".
type Event struct {
	Event string
	Data  []byte
	ID    string
	Retry string
	// Comment marks a block with no data, event, id or retry, such as a
	// ": keep-alive" line; it carries nothing but keeps the connection alive.
	Comment bool
}

// Reader splits a stream into events.
type Reader struct {
	br      *bufio.Reader
	maxLine int
	ev      Event
	data    bytes.Buffer
}

// NewReader reads events from r; a line longer than maxLine bytes fails with
// ErrLineTooLong.
func NewReader(r io.Reader, maxLine int) *Reader {
	return &Reader{br: bufio.NewReaderSize(r, 16<<10), maxLine: maxLine}
}

// Next returns the next event. At the end of the stream it returns io.EOF if
// the stream ended on an event boundary and io.ErrUnexpectedEOF if it ended
// inside an event. The returned Data is valid until the next call.
func (r *Reader) Next() (Event, error) {
	r.ev = Event{}
	r.data.Reset()
	hasData, started := false, false
	for {
		line, err := r.readLine()
		if err != nil {
			if errors.Is(err, io.EOF) && started {
				return Event{}, io.ErrUnexpectedEOF
			}
			return Event{}, err
		}
		if len(line) == 0 {
			if !started {
				continue
			}
			if hasData {
				r.ev.Data = r.data.Bytes()
				if r.ev.Data == nil {
					r.ev.Data = []byte{} // "data" with an empty value is still data
				}
			}
			r.ev.Comment = !hasData && r.ev.Event == "" && r.ev.ID == "" && r.ev.Retry == ""
			return r.ev, nil
		}
		started = true
		field, value := line, []byte(nil)
		if i := bytes.IndexByte(line, ':'); i >= 0 {
			field, value = line[:i], line[i+1:]
			if len(value) > 0 && value[0] == ' ' {
				value = value[1:]
			}
		}
		switch string(field) {
		case "data":
			if hasData {
				r.data.WriteByte('\n')
			}
			r.data.Write(value)
			hasData = true
		case "event":
			r.ev.Event = string(value)
		case "id":
			r.ev.ID = string(value)
		case "retry":
			r.ev.Retry = string(value)
		}
	}
}

// readLine returns one line without its terminator (\n, \r\n or \r).
func (r *Reader) readLine() ([]byte, error) {
	var line []byte
	for {
		b, err := r.br.ReadByte()
		if err != nil {
			if errors.Is(err, io.EOF) && len(line) > 0 {
				return line, nil
			}
			return nil, err
		}
		switch b {
		case '\n':
			return line, nil
		case '\r':
			if next, err := r.br.Peek(1); err == nil && next[0] == '\n' {
				_, _ = r.br.ReadByte()
			}
			return line, nil
		}
		if len(line) >= r.maxLine {
			return nil, ErrLineTooLong
		}
		line = append(line, b)
	}
}

// Write frames ev onto w. Multi-line data is split into several data lines.
func Write(w io.Writer, ev Event) error {
	var buf bytes.Buffer
	if ev.Comment {
		buf.WriteString(":\n\n")
		_, err := w.Write(buf.Bytes())
		return err
	}
	if ev.Event != "" {
		fmt.Fprintf(&buf, "event: %s\n", ev.Event)
	}
	if ev.ID != "" {
		fmt.Fprintf(&buf, "id: %s\n", ev.ID)
	}
	if ev.Retry != "" {
		fmt.Fprintf(&buf, "retry: %s\n", ev.Retry)
	}
	if ev.Data != nil {
		for _, line := range bytes.Split(ev.Data, []byte("\n")) {
			buf.WriteString("data: ")
			buf.Write(line)
			buf.WriteByte('\n')
		}
	}
	buf.WriteByte('\n')
	_, err := w.Write(buf.Bytes())
	return err
}
