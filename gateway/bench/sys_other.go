//go:build !linux

package bench

import (
	"os"
	"os/exec"
)

// IsTerminal is false where bench cannot tell; no progress line is drawn.
func IsTerminal(*os.File) bool { return false }

func dieWithParent(*exec.Cmd) {}
