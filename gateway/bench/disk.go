package bench

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
)

// diskFloor measures, in dir, the two costs a durable audit log cannot
// avoid: the p50 of an fsync after a small append, and the p50 of a bbolt
// commit of one small record (the audit log's unit of durability).
func diskFloor(dir string, n int) (fsyncP50, commitP50 time.Duration, err error) {
	f, err := os.Create(filepath.Join(dir, "fsync-probe"))
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	record := make([]byte, 256)
	h := newHistogram()
	for range n {
		if _, err := f.Write(record); err != nil {
			return 0, 0, err
		}
		t := time.Now()
		if err := f.Sync(); err != nil {
			return 0, 0, err
		}
		h.Record(time.Since(t))
	}
	db, err := bolt.Open(filepath.Join(dir, "commit-probe.db"), 0o600, &bolt.Options{Timeout: time.Second, FreelistType: bolt.FreelistMapType})
	if err != nil {
		return 0, 0, err
	}
	defer db.Close()
	c := newHistogram()
	key := make([]byte, 8)
	for i := range n {
		binary.BigEndian.PutUint64(key, uint64(i))
		t := time.Now()
		err := db.Update(func(tx *bolt.Tx) error {
			b, err := tx.CreateBucketIfNotExists([]byte("records"))
			if err != nil {
				return err
			}
			return b.Put(key, record)
		})
		if err != nil {
			return 0, 0, err
		}
		c.Record(time.Since(t))
	}
	return h.Quantile(0.5), c.Quantile(0.5), nil
}
