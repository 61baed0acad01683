package sse

import (
	"bytes"
	"errors"
	"io"
	"sync"
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

// Reader splits a stream into events. Its buffer starts small and grows
// to the longest line met (at most maxLine); lines are read in place,
// without a copy each.
type Reader struct {
	r       io.Reader
	buf     []byte
	start   int // buf[start:end] is read and not yet consumed
	end     int
	err     error // the reader's error, once buf is drained
	maxLine int
	ev      Event
	data    bytes.Buffer
	skipLF  bool // the last line ended with a CR: a LF that follows belongs to it
}

// NewReader reads events from r; a line longer than maxLine bytes fails with
// ErrLineTooLong.
func NewReader(r io.Reader, maxLine int) *Reader {
	return &Reader{r: r, buf: make([]byte, 4<<10), maxLine: maxLine}
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

// Ready reports whether Next would return without reading from the
// stream: the buffer holds the end of an event (a blank line after a line
// that is not blank), or the stream has ended. A relay flushes what it has
// written only when the next event is not ready, so that a burst of events
// leaves in one write without holding any event back.
func (r *Reader) Ready() bool {
	if r.err != nil {
		return true
	}
	b := r.buf[r.start:r.end]
	if r.skipLF && len(b) > 0 && b[0] == '\n' {
		b = b[1:]
	}
	started := false
	for {
		i := bytes.IndexAny(b, "\r\n")
		if i < 0 {
			return false
		}
		if i == 0 && started {
			return true
		}
		started = started || i > 0
		if b[i] == '\r' && i+1 < len(b) && b[i+1] == '\n' {
			i++
		}
		b = b[i+1:]
	}
}

// readLine returns one line without its terminator (\n, \r\n or \r).
func (r *Reader) readLine() ([]byte, error) {
	for {
		if r.skipLF && r.start < r.end {
			if r.buf[r.start] == '\n' {
				r.start++
			}
			r.skipLF = false
		}
		if i := lineEnd(r.buf[r.start:r.end]); i >= 0 {
			line := r.buf[r.start : r.start+i]
			r.skipLF = r.buf[r.start+i] == '\r'
			r.start += i + 1
			if len(line) > r.maxLine {
				return nil, ErrLineTooLong
			}
			return line, nil
		}
		if r.end-r.start > r.maxLine {
			return nil, ErrLineTooLong
		}
		if r.err != nil {
			if r.start < r.end { // a last line without its end
				line := r.buf[r.start:r.end]
				r.start = r.end
				return line, nil
			}
			return nil, r.err
		}
		r.fill()
	}
}

// lineEnd is the index of b's first \r or \n, or -1: two vectorised byte
// searches rather than one for either byte (a byte at a time), window by
// window, so that a stream whose lines end in only one of the two is not
// searched to the buffer's end for the other at every line.
func lineEnd(b []byte) int {
	for off := 0; off < len(b); off += lineWindow {
		w := b[off:min(off+lineWindow, len(b))]
		i := bytes.IndexByte(w, '\n')
		before := w
		if i >= 0 {
			before = w[:i]
		}
		if j := bytes.IndexByte(before, '\r'); j >= 0 {
			return off + j
		}
		if i >= 0 {
			return off + i
		}
	}
	return -1
}

// lineWindow is the stretch lineEnd searches at once: about an event's
// line.
const lineWindow = 512

// fill reads more into the buffer: what is left is moved to the front, and
// the buffer doubles when a line fills it.
func (r *Reader) fill() {
	if r.start > 0 {
		r.end = copy(r.buf, r.buf[r.start:r.end])
		r.start = 0
	}
	if r.end == len(r.buf) {
		grown := make([]byte, 2*len(r.buf))
		copy(grown, r.buf[:r.end])
		r.buf = grown
	}
	n, err := r.r.Read(r.buf[r.end:])
	r.end += n
	if err != nil {
		r.err = err
	}
}

// Write frames ev onto w in one write. Multi-line data is split into
// several data lines.
func Write(w io.Writer, ev Event) error {
	bp := framePool.Get().(*[]byte)
	buf := appendEvent((*bp)[:0], ev)
	_, err := w.Write(buf)
	if cap(buf) <= 64<<10 {
		*bp = buf
		framePool.Put(bp)
	}
	return err
}

var framePool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// appendEvent appends ev's wire form to buf.
func appendEvent(buf []byte, ev Event) []byte {
	if ev.Comment {
		return append(buf, ":\n\n"...)
	}
	for _, f := range [...]struct{ name, value string }{{"event", ev.Event}, {"id", ev.ID}, {"retry", ev.Retry}} {
		if f.value != "" {
			buf = append(append(append(append(buf, f.name...), ": "...), f.value...), '\n')
		}
	}
	if ev.Data != nil {
		data := ev.Data
		for {
			i := bytes.IndexByte(data, '\n')
			if i < 0 {
				buf = append(append(append(buf, "data: "...), data...), '\n')
				break
			}
			buf = append(append(append(buf, "data: "...), data[:i]...), '\n')
			data = data[i+1:]
		}
	}
	return append(buf, '\n')
}
