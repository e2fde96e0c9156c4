//go:build unix

package chunk

import (
	"syscall"
	"time"
)

// processCPU returns the user+system CPU time the process has used. On a
// shared machine it measures work done, not time spent waiting for a core.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
