package gateway

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/custos-gateway/custos/audit"
	"github.com/custos-gateway/custos/gateway/auth"
)

// errDiskLow: the audit log's filesystem is below its free-space floor, so
// new work is refused before the log fills.
var errDiskLow = errors.New("gateway: audit disk space below the configured floor")

// headroom watches free space on the audit log's filesystem, reading it at
// most once a second.
type headroom struct {
	floor   int64
	checked atomic.Int64 // unix nanoseconds of the last statfs
	isLow   atomic.Bool
}

type freeSpacer interface{ FreeBytes() (uint64, error) }

// low reports whether free space is below the floor (never, without a
// floor or a log that can tell).
func (h *headroom) low(log AuditLog) bool {
	fs, ok := log.(freeSpacer)
	if h.floor <= 0 || !ok {
		return false
	}
	now := time.Now().UnixNano()
	if last := h.checked.Load(); now-last > int64(time.Second) && h.checked.CompareAndSwap(last, now) {
		free, err := fs.FreeBytes()
		h.isLow.Store(err == nil && free < uint64(h.floor))
	}
	return h.isLow.Load()
}

// unauthenticated reports a request refused before a caller was known:
// such requests are recorded in aggregate, per source and minute.
func unauthenticated(ex *exchange) bool {
	err := ex.end.err
	return ex.caller.Role == "" && err != nil && (errors.Is(err, auth.ErrMissingKey) || errors.Is(err, auth.ErrUnknownKey) ||
		errors.Is(err, auth.ErrRevokedKey) || errors.Is(err, errTooManyFailures))
}

// noteUnauthenticated counts one failed authentication for its source
// (the client address when addresses are recorded, else a keyed hash of
// it) and appends the aggregate records of a window that ended.
func (s *Server) noteUnauthenticated(c *gin.Context, ex *exchange) {
	addr := clientAddr(c)
	source := addr
	if !s.cfg.Audit.RecordClientIP {
		m := hmac.New(sha256.New, s.hashKey)
		m.Write([]byte(addr))
		source = "h:" + hex.EncodeToString(m.Sum(nil)[:8])
	}
	s.appendAll(s.unauth.Note(time.Now(), source, ex.meta.route.path, recordCode(ex.end.err)))
}

// appendAll queues records for the next group commit.
func (s *Server) appendAll(recs []audit.Record) {
	for _, r := range recs {
		if err := s.audit.AppendDeferred(r); err != nil {
			s.outcomeFailures.Add(1)
			s.log.Error("audit record not appended", "kind", r.Kind, "error", err.Error())
		}
	}
}

// background writes the aggregate records of each window that ended, until
// the server stops.
func (s *Server) background() {
	t := time.NewTicker(15 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-s.stopBackground:
			return
		case now := <-t.C:
			s.appendAll(s.unauth.Due(now))
		}
	}
}
