package bench

import (
	"os"
	"os/exec"
	"syscall"
	"unsafe"
)

// IsTerminal reports whether f is a terminal (not a pipe, file or /dev/null).
func IsTerminal(f *os.File) bool {
	var t syscall.Termios
	_, _, errno := syscall.Syscall(syscall.SYS_IOCTL, f.Fd(), syscall.TCGETS, uintptr(unsafe.Pointer(&t)))
	return errno == 0
}

// dieWithParent makes the kernel kill a child when bench exits, however it
// exits, so no server bench started outlives it.
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
