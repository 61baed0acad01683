package audit

import (
	"fmt"
	"syscall"
)

func freeBytes(dir string) (uint64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, fmt.Errorf("audit: statfs %s: %w", dir, err)
	}
	return st.Bavail * uint64(st.Bsize), nil
}
