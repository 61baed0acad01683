package audit

import (
	"bytes"
	"time"
)

// PairingFields exposes pairingFields to the external tests.
var PairingFields = pairingFields

// SetAfterFunc replaces the flush timer: f receives the interval and the
// function to call when it has passed.
func SetAfterFunc(o *Options, f func(time.Duration, func())) { o.afterFunc = f }

// InjectCommitFault makes every commit fail with f's error while f returns one.
func InjectCommitFault(l *Log, f func() error) {
	_ = l.do(func() error { l.fault = f; return nil })
}

// ReadFrames reads write-ahead frames from b and returns their sequence
// numbers.
func ReadFrames(b []byte) []uint64 {
	frames, err := readFrames(bytes.NewReader(b))
	if err != nil {
		panic(err)
	}
	seqs := make([]uint64, len(frames))
	for i, fr := range frames {
		seqs[i] = fr.seq
	}
	return seqs
}

// EncodeFrames lays out write-ahead frames of intents numbered from first,
// each with the given request ID, as the log writes them.
func EncodeFrames(first uint64, ids []string) []byte {
	w := &walFile{}
	ps := make([]*pending, len(ids))
	for i, id := range ids {
		ps[i] = &pending{rec: Record{Seq: first + uint64(i), Kind: KindIntent, RequestID: id}}
	}
	if err := w.encode(ps); err != nil {
		panic(err)
	}
	return w.buf
}

// PendingRecords returns the records the write-ahead file beside the log at
// path holds after head.
func PendingRecords(path string, head uint64) ([]Record, error) {
	frames, err := pendingFrames(path, head)
	if err != nil {
		return nil, err
	}
	return decodeFrames(frames, WALPath(path))
}
