package audit_test

import (
	"encoding/base64"
	"sync"
	"time"
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
