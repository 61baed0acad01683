package audit_test

import (
	"encoding/base64"
	"sync"
	"sync/atomic"
	"time"

	"github.com/custos-gateway/custos/audit"
)

func base64Std(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// returnsWithin reports whether every goroutine of wg has returned within
// d: a bound on a wait that must not hang, never a pause.
func returnsWithin(wg *sync.WaitGroup, d time.Duration) bool {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
		return true
	case <-time.After(d):
		return false
	}
}

// failCommits makes the log's commits (and write-ahead writes) fail with
// err until the returned function is called.
func failCommits(l *audit.Log, err error) (recover func()) {
	var failing atomic.Bool
	failing.Store(true)
	audit.InjectCommitFault(l, func() error {
		if failing.Load() {
			return err
		}
		return nil
	})
	return func() { failing.Store(false) }
}
