package audit

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
)

// The write-ahead file. Under group durability a durable append is made
// durable by one write to a preallocated file beside the log (<log>.wal),
// opened for synchronous data writes: one device flush, where a bbolt
// commit costs two. The batch stays in memory and is committed to the log
// later (the flush interval, a full batch, a checkpoint, Rotate, Flush,
// Close); once that commit is durable the file's frames are obsolete and
// the next write starts again at its beginning. Opening the log commits the
// frames a crash left beyond the log's head, in order, before anything else.
//
// A frame is: body length (uint32), CRC-32C of sequence number and body
// (uint32), sequence number (uint64), body (the record's JSON). Reading
// stops at the first frame that is torn, fails its checksum or does not
// follow its predecessor's sequence number: frames left from an earlier
// pass over the file all have lower numbers than the current pass's first.

const (
	walFileSize    = 1 << 20 // 1,024 records of 1 KB: a full batch; a larger one is committed instead
	walFrameHeader = 16
	walMaxBody     = 1 << 20
)

var walCRC = crc32.MakeTable(crc32.Castagnoli)

// WALPath is the write-ahead file of the log at path.
func WALPath(path string) string { return path + ".wal" }

type walFile struct {
	f    *os.File
	path string
	off  int64 // where the next frame goes
	buf  []byte
}

// walFrame is one record read back from the file.
type walFrame struct {
	seq  uint64
	body []byte
}

// openWAL opens (creating and preallocating) the write-ahead file and
// returns the frames it holds.
func openWAL(path string) (*walFile, []walFrame, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|walOpenFlags, 0o600)
	if err != nil {
		return nil, nil, fmt.Errorf("audit: opening %s: %w", path, err)
	}
	frames, err := readFrames(f)
	if err == nil {
		err = preallocate(f)
	}
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("audit: %s: %w", path, err)
	}
	return &walFile{f: f, path: path}, frames, nil
}

// preallocate writes zeros up to walFileSize, so that later writes change
// no file metadata and a data flush is all they cost; a file it creates is
// made durable in its directory too.
func preallocate(f *os.File) error {
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if fi.Size() >= walFileSize {
		return nil
	}
	zeros := make([]byte, walFileSize-fi.Size())
	if _, err := f.WriteAt(zeros, fi.Size()); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	return syncDir(filepath.Dir(f.Name()))
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// readFrames reads the valid frames from the start of r.
func readFrames(r io.ReaderAt) ([]walFrame, error) {
	var frames []walFrame
	var off int64
	var hdr [walFrameHeader]byte
	for {
		if _, err := r.ReadAt(hdr[:], off); err != nil {
			if errors.Is(err, io.EOF) {
				return frames, nil
			}
			return nil, err
		}
		n := binary.BigEndian.Uint32(hdr[0:])
		sum := binary.BigEndian.Uint32(hdr[4:])
		seq := binary.BigEndian.Uint64(hdr[8:])
		if n == 0 || n > walMaxBody || (len(frames) > 0 && seq != frames[len(frames)-1].seq+1) {
			return frames, nil
		}
		body := make([]byte, n)
		if _, err := r.ReadAt(body, off+walFrameHeader); err != nil {
			if errors.Is(err, io.EOF) {
				return frames, nil
			}
			return nil, err
		}
		if frameSum(hdr[8:16], body) != sum {
			return frames, nil
		}
		frames = append(frames, walFrame{seq: seq, body: body})
		off += walFrameHeader + int64(n)
	}
}

func frameSum(seq, body []byte) uint32 {
	return crc32.Update(crc32.Checksum(seq, walCRC), walCRC, body)
}

// encode lays out the frames of recs in the write buffer.
func (w *walFile) encode(recs []*pending) error {
	w.buf = w.buf[:0]
	for _, p := range recs {
		value, err := p.rec.marshalValue()
		if err != nil {
			return err
		}
		body := value[valueHeader:]
		if len(body) > walMaxBody {
			return fmt.Errorf("%w: record of %d bytes", ErrInvalid, len(body))
		}
		var hdr [walFrameHeader]byte
		binary.BigEndian.PutUint32(hdr[0:], uint32(len(body)))
		binary.BigEndian.PutUint64(hdr[8:], p.rec.Seq)
		binary.BigEndian.PutUint32(hdr[4:], frameSum(hdr[8:16], body))
		w.buf = append(append(w.buf, hdr[:]...), body...)
		p.body, p.value = body, value
	}
	return nil
}

// fits reports whether the encoded frames fit after the current offset.
func (w *walFile) fits() bool { return w.off+int64(len(w.buf)) <= walFileSize }

// write makes the encoded frames durable at the current offset.
func (w *walFile) write() error {
	if _, err := w.f.WriteAt(w.buf, w.off); err != nil {
		return err
	}
	if err := walSync(w.f); err != nil {
		return err
	}
	w.off += int64(len(w.buf))
	return nil
}

// reset starts the next pass at the beginning: everything written so far
// is committed to the log.
func (w *walFile) reset() { w.off = 0 }

// close closes the file and, when every frame is committed, removes it.
func (w *walFile) close(committed bool) error {
	err := w.f.Close()
	if committed && err == nil {
		err = os.Remove(w.path)
	}
	return err
}

// pendingFrames reads the frames beyond head from the write-ahead file
// beside the log at path (none when there is no such file).
func pendingFrames(path string, head uint64) ([]walFrame, error) {
	f, err := os.Open(WALPath(path))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	defer f.Close()
	frames, err := readFrames(f)
	if err != nil {
		return nil, fmt.Errorf("audit: reading %s: %w", WALPath(path), err)
	}
	return framesAfter(frames, head, WALPath(path))
}

// framesAfter keeps the frames beyond head, which must start at head+1.
func framesAfter(frames []walFrame, head uint64, name string) ([]walFrame, error) {
	i := 0
	for i < len(frames) && frames[i].seq <= head {
		i++
	}
	if i < len(frames) && frames[i].seq != head+1 {
		return nil, fmt.Errorf("audit: %s holds record %d where %d is next: it does not continue this file", name, frames[i].seq, head+1)
	}
	return frames[i:], nil
}

// decodeFrames decodes frames into records.
func decodeFrames(frames []walFrame, name string) ([]Record, error) {
	out := make([]Record, len(frames))
	for i, fr := range frames {
		if err := json.Unmarshal(fr.body, &out[i]); err != nil || out[i].Seq != fr.seq {
			return nil, fmt.Errorf("audit: %s: record %d does not decode", name, fr.seq)
		}
	}
	return out, nil
}
