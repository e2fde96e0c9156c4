package erasure

import (
	"math/bits"
	"sync"
)

// Rebuild buffers (width*l bytes for the k+extra source ranges of a rebuild)
// come from per-size-class pools: a 1 MiB degraded read on 10+4 needs 10 MiB,
// and allocating and zeroing that per read showed in the CPU profile of
// BenchmarkReadRange (mallocgcLarge + memclr). Classes are powers of two
// from 64 KiB to 256 MiB; larger requests are allocated.
const (
	minBufClass = 16 // 64 KiB
	maxBufClass = 28 // 256 MiB
)

var bufPools [maxBufClass + 1]sync.Pool

// getBuf returns a buffer of n bytes (contents unspecified) and the token to
// give back to putBuf.
func getBuf(n int) (*[]byte, []byte) {
	c := bufClass(n)
	if c < 0 {
		b := make([]byte, n)
		return nil, b
	}
	if p, ok := bufPools[c].Get().(*[]byte); ok {
		return p, (*p)[:n]
	}
	b := make([]byte, 1<<c)
	return &b, b[:n]
}

// bufClass returns the pool class of an n-byte buffer, -1 if none.
func bufClass(n int) int {
	c := max(bits.Len(uint(n-1)), minBufClass)
	if n <= 0 || c > maxBufClass {
		return -1
	}
	return c
}

// putBuf returns a buffer from getBuf; the caller must not touch it after.
func putBuf(p *[]byte) {
	if p == nil {
		return
	}
	bufPools[bits.Len(uint(cap(*p)-1))].Put(p)
}
