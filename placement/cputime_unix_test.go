//go:build unix

package placement

import "syscall"

// cpuTime returns the process's user+system CPU time in nanoseconds, so that
// benchmarks on a shared machine can report CPU cost beside wall time.
func cpuTime() int64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
