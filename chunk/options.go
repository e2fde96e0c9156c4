package chunk

import (
	"errors"
	"fmt"
	"math/bits"
)

// Default chunk sizes, chosen by the dataset survey (docs/arch/chunk.md,
// go run ./internal/survey): the average with the best net ratio whose
// metadata stays below 0.5% of the stored bytes on every dataset. 64 KiB
// reaches 1.1% on versioned source trees and 128 KiB 0.51%. They are part
// of the storage format for data written with them.
const (
	DefaultMin = 64 << 10
	DefaultAvg = 256 << 10
	DefaultMax = 1 << 20
)

// Limits on Options. MaxLimit bounds every chunk (and so every buffer that
// holds one) at 64 MiB.
const (
	MinLimit = 64
	MaxLimit = 64 << 20
)

// KeySize is the length of a private domain key.
const KeySize = 32

// ErrBadOptions reports Options that Validate rejects.
var ErrBadOptions = errors.New("chunk: invalid options")

// Options configures a Splitter. The zero value gives the defaults.
type Options struct {
	// Min, Avg and Max are the chunk size bounds and the target average in
	// bytes. Avg must be a power of two, and MinLimit <= Min <= Avg <= Max <=
	// MaxLimit. Zero picks a default: Avg = DefaultAvg when all three are
	// zero; otherwise Min = Avg/4 and Max = 4*Avg.
	Min, Avg, Max int

	// Key, when set, is the 32-byte key of a private dedup domain: Addr is
	// then the keyed BLAKE3 of the chunk. Nil means the global domain.
	Key []byte

	// Serial makes the Splitter hash every chunk on the calling goroutine.
	// By default it overlaps hashing one chunk with scanning for the next
	// on a helper goroutine when GOMAXPROCS > 1. Serial suits callers that
	// already keep every core busy with one Splitter each. It does not
	// change chunks or addresses.
	Serial bool
}

// withDefaults returns o with zero sizes filled in.
func (o Options) withDefaults() Options {
	if o.Min == 0 && o.Avg == 0 && o.Max == 0 {
		o.Min, o.Avg, o.Max = DefaultMin, DefaultAvg, DefaultMax
		return o
	}
	if o.Avg == 0 {
		o.Avg = DefaultAvg
	}
	if o.Min == 0 {
		o.Min = o.Avg / 4
	}
	if o.Max == 0 {
		o.Max = o.Avg * 4
	}
	return o
}

// Validate reports whether o (after defaults) describes a valid chunker. The
// error matches ErrBadOptions.
func (o Options) Validate() error {
	o = o.withDefaults()
	switch {
	case o.Avg < MinLimit || o.Avg > MaxLimit || bits.OnesCount(uint(o.Avg)) != 1:
		return fmt.Errorf("%w: avg %d is not a power of two in [%d, %d]", ErrBadOptions, o.Avg, MinLimit, MaxLimit)
	case o.Min < MinLimit || o.Min > o.Avg:
		return fmt.Errorf("%w: min %d not in [%d, avg %d]", ErrBadOptions, o.Min, MinLimit, o.Avg)
	case o.Max < o.Avg || o.Max > MaxLimit:
		return fmt.Errorf("%w: max %d not in [avg %d, %d]", ErrBadOptions, o.Max, o.Avg, MaxLimit)
	case o.Key != nil && len(o.Key) != KeySize:
		return fmt.Errorf("%w: key is %d bytes, want %d", ErrBadOptions, len(o.Key), KeySize)
	}
	return nil
}

// masks returns the normalized-chunking masks for an average of avg bytes:
// maskS has log2(avg)+2 top bits set, maskL log2(avg)-2.
func masks(avg int) (maskS, maskL uint64) {
	b := bits.TrailingZeros(uint(avg))
	return ^uint64(0) << (64 - (b + 2)), ^uint64(0) << (64 - (b - 2))
}
