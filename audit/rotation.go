package audit

import (
	"encoding/hex"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

var monthSuffix = regexp.MustCompile(`^-\d{4}-\d{2}$`)

// validMonthSuffix reports "-YYYY-MM" naming a real month.
func validMonthSuffix(s string) bool {
	if !monthSuffix.MatchString(s) {
		return false
	}
	_, err := time.Parse("2006-01", s[1:])
	return err == nil
}

// ErrRotationSet is what Open returns when the newest file of a monthly
// rotation set cannot be the one the chain continues in: continuing any
// file of the set would then fork the chain or lose records.
var ErrRotationSet = errors.New("audit: the rotated files do not continue one chain")

// continuedIn is the file a log opened at base writes to, and the month
// that file holds. Under monthly rotation it is the newest of the files
// rotation continued base in, so that a restart goes on where the chain
// (and the journal's balances) left off rather than forking it from base's
// older head; otherwise, and before the first rotation, base itself,
// holding the current month. The newest file must continue the one before
// it and be dated no later than now, and no older file may hold records
// written ahead but not committed; otherwise Open refuses (fail closed).
func continuedIn(base string, opts Options) (string, string, error) {
	now := month(opts.Now())
	if !opts.RotateMonthly {
		return base, now, nil
	}
	files, err := RotatedFiles(base)
	if err != nil {
		return "", "", err
	}
	if len(files) == 0 || files[len(files)-1] == base {
		return base, now, nil
	}
	last := files[len(files)-1]
	m := fileMonth(base, last)
	if m > now {
		return "", "", fmt.Errorf("%w: %s is dated after the current month %s (check the clock, or move the file)", ErrRotationSet, last, now)
	}
	if err := checkContinues(files); err != nil {
		return "", "", err
	}
	return last, m, nil
}

// checkContinues checks that the newest of files (in month order)
// continues the one before it, and that no file before it holds records
// written ahead beyond its head.
func checkContinues(files []string) error {
	last := files[len(files)-1]
	c, err := ReadChain(last)
	if err != nil {
		return fmt.Errorf("%w: %s holds no chain (a rotation interrupted before its first commit leaves an empty file: remove it to continue in the file before it): %w", ErrRotationSet, last, err)
	}
	for _, f := range files[:len(files)-1] {
		head, err := fileHead(f)
		if err != nil {
			return err
		}
		if frames, err := pendingFrames(f, head.Seq); err != nil || len(frames) > 0 {
			return fmt.Errorf("%w: %s has records written ahead but not committed (%d, %v): open it alone to commit them first", ErrRotationSet, f, len(frames), err)
		}
		if f == files[len(files)-2] && (c.FirstSeq != head.Seq+1 || c.Prev != hex.EncodeToString(head.Hash[:])) {
			return fmt.Errorf("%w: %s starts at %d after %.12s…, but %s ends at %d with %x…", ErrRotationSet, last, c.FirstSeq, c.Prev, f, head.Seq, head.Hash[:6])
		}
	}
	return nil
}

// fileHead reads the head of the log file at path.
func fileHead(path string) (Receipt, error) {
	var h Receipt
	err := ViewFile(path, func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if meta == nil {
			return fmt.Errorf("audit: %s is not a Custos audit log", path)
		}
		h = decodeHead(meta.Get(keyHead))
		return nil
	})
	return h, err
}

// fileMonth is the month (YYYY-MM) in the name of a file rotation
// continued base in.
func fileMonth(base, file string) string {
	ext := filepath.Ext(base)
	stem := strings.TrimSuffix(filepath.Base(base), ext)
	return strings.TrimSuffix(strings.TrimPrefix(filepath.Base(file), stem+"-"), ext)
}

// NewestFile is the file of path's monthly rotation set (path a base file
// or one of its NAME-YYYY-MM files) the chain continues in: where a record
// may be added without forking it.
func NewestFile(path string) (string, error) {
	base := path
	ext := filepath.Ext(path)
	stem := strings.TrimSuffix(path, ext)
	if i := len(stem) - len("-2006-01"); i > 0 && validMonthSuffix(stem[i:]) {
		base = stem[:i] + ext
	}
	files, err := RotatedFiles(base)
	if err != nil || len(files) == 0 {
		return path, err
	}
	return files[len(files)-1], nil
}
