package audit

import (
	"os"
	"syscall"
)

// On Linux the write-ahead file is opened with O_DSYNC: each write returns
// once its data is on the device, one system call and one flush.
const walOpenFlags = syscall.O_DSYNC

func walSync(*os.File) error { return nil }
