//go:build unix && !linux

package exec

import (
	"errors"
	"syscall"
)

// groupAlive reports whether any process of group pgid is left (zombies
// included, which only delays the SIGKILL to the end of the grace period).
func groupAlive(pgid int) bool {
	return !errors.Is(syscall.Kill(-pgid, 0), syscall.ESRCH)
}
