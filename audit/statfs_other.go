//go:build !linux

package audit

import (
	"errors"
	"fmt"
)

func freeBytes(dir string) (uint64, error) {
	return 0, fmt.Errorf("audit: free space of %s: %w", dir, errors.ErrUnsupported)
}
