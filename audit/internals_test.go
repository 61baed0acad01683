package audit

import "time"

// PairingFields exposes pairingFields to the external tests.
var PairingFields = pairingFields

// SetAfterFunc replaces the flush timer: f receives the interval and the
// function to call when it has passed.
func SetAfterFunc(o *Options, f func(time.Duration, func())) { o.afterFunc = f }

// InjectCommitFault makes every commit fail with f's error while f returns one.
func InjectCommitFault(l *Log, f func() error) {
	_ = l.do(func() error { l.fault = f; return nil })
}
