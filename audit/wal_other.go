//go:build !linux

package audit

import "os"

const walOpenFlags = 0

func walSync(f *os.File) error { return f.Sync() }
