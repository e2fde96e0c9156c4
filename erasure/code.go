package erasure

import (
	"errors"
	"fmt"
	"time"

	"github.com/klauspost/reedsolomon"
)

const (
	// MaxShards is the largest k+m a Code accepts: the GF(2^8) limit of the
	// classic Reed-Solomon codec.
	MaxShards = 256
	// MaxPackLen bounds the pack lengths the arithmetic accepts (far above
	// any pack target), so that no offset computation can overflow.
	MaxPackLen = 1 << 40
	// ShardAlign is the multiple shard sizes are rounded up to, so that the
	// SIMD kernels cover every byte. Part of the format (see ShardSize).
	ShardAlign = 64
)

// Errors. Functions wrap them with %w; match with errors.Is.
var (
	// ErrInvalidScheme: k < 1, m < 0 or k+m > MaxShards.
	ErrInvalidScheme = errors.New("erasure: invalid k+m scheme")
	// ErrShardCount: a shard slice whose length is not k+m, or a shard index
	// outside 0..k+m-1.
	ErrShardCount = errors.New("erasure: wrong shard count or index")
	// ErrRange: a pack range outside [0, packLen), or a negative length.
	ErrRange = errors.New("erasure: range out of bounds")
	// ErrTooFewShards: fewer than k shards could be read for some range, so
	// it cannot be rebuilt. The error is a *TooFewShardsError naming the
	// failed shards.
	ErrTooFewShards = errors.New("erasure: too few shards")
)

// Code is a k+m Reed-Solomon scheme. It is immutable and safe for concurrent
// use; build one per scheme and share it.
type Code struct {
	k, m  int
	extra int                 // extra reads when rebuilding a range (WithExtraReads)
	hedge time.Duration       // start a rebuild when a direct read is this slow (WithHedge)
	rs    reedsolomon.Encoder // nil when m == 0
}

// NewCode returns the k+m code: k data shards, m parity shards. k >= 1,
// m >= 0, k+m <= MaxShards. m == 0 stores the data shards only (no
// redundancy); k == 1 makes every parity shard a copy of the pack
// (replication, n = 1+m copies).
func NewCode(k, m int) (*Code, error) {
	if k < 1 || m < 0 || k+m > MaxShards {
		return nil, fmt.Errorf("%w: %d+%d", ErrInvalidScheme, k, m)
	}
	c := &Code{k: k, m: m}
	if m > 0 {
		rs, err := reedsolomon.New(k, m)
		if err != nil {
			return nil, fmt.Errorf("%w: %d+%d: %v", ErrInvalidScheme, k, m, err)
		}
		c.rs = rs
	}
	return c, nil
}

// WithExtraReads returns a copy of c whose ReadRange and Reconstruct, when
// they must rebuild a range, read it from k+n shards at once instead of k
// and cancel the n slowest once k have answered: a slow node then costs
// bytes instead of latency. The default, 0, reads exactly the k shards it
// needs and asks the next one only when a read fails. n < 0 counts as 0.
func (c *Code) WithExtraReads(n int) *Code {
	c2 := *c
	c2.extra = max(n, 0)
	return &c2
}

// WithHedge returns a copy of c whose ReadRange, when a span's data shard
// has not answered after d, also starts rebuilding the span from other
// shards and keeps whichever finishes first, cancelling the other: hedged
// reads cut the tail a slow node adds. d <= 0 (the default) disables it;
// codes without parity never hedge.
func (c *Code) WithHedge(d time.Duration) *Code {
	c2 := *c
	c2.hedge = max(d, 0)
	return &c2
}

// K returns the number of data shards.
func (c *Code) K() int { return c.k }

// M returns the number of parity shards.
func (c *Code) M() int { return c.m }

// N returns the number of shards, k+m.
func (c *Code) N() int { return c.k + c.m }

// String returns "k+m".
func (c *Code) String() string { return fmt.Sprintf("%d+%d", c.k, c.m) }

// ShardSize returns S, the size of every shard of a pack of packLen bytes:
// ceil(packLen/k) rounded up to a multiple of ShardAlign. It is 0 for an
// empty (or negative) length. This is part of the stored format.
// Lengths outside (0, MaxPackLen] give 0.
func (c *Code) ShardSize(packLen int64) int64 {
	if packLen <= 0 || packLen > MaxPackLen {
		return 0
	}
	s := (packLen + int64(c.k) - 1) / int64(c.k)
	return (s + ShardAlign - 1) / ShardAlign * ShardAlign
}

// PaddedLen returns k*ShardSize(packLen): the capacity a pack buffer needs
// for Encode to use it in place, without copying.
func (c *Code) PaddedLen(packLen int64) int64 {
	return int64(c.k) * c.ShardSize(packLen)
}

// Encode codes pack into k+m shards and sets shards[i] to shard i; len(shards)
// must be k+m. Every shard gets length S = ShardSize(len(pack)).
//
// When cap(pack) >= PaddedLen(len(pack)) the data shards are sub-slices of
// pack's backing array (no copy): Encode zeroes the padding pack[len:k*S] and
// the caller must not modify pack while the shards are in use. Otherwise the
// data shards are copied into shards[i]'s backing array when its capacity is
// at least S, or into fresh buffers. Parity shards likewise reuse shards[i]'s
// capacity when it suffices. An empty pack gives k+m empty shards.
func (c *Code) Encode(pack []byte, shards [][]byte) error {
	n := c.k + c.m
	if len(shards) != n {
		return fmt.Errorf("%w: %d shard buffers for %s", ErrShardCount, len(shards), c)
	}
	packLen := int64(len(pack))
	s := c.ShardSize(packLen)
	if s == 0 {
		for i := range shards {
			shards[i] = shards[i][:0]
		}
		return nil
	}
	if int64(cap(pack)) >= int64(c.k)*s {
		padded := pack[:int64(c.k)*s]
		clear(padded[packLen:])
		for i := range c.k {
			lo, hi := int64(i)*s, int64(i+1)*s
			shards[i] = padded[lo:hi:hi]
		}
	} else {
		for i := range c.k {
			buf := sized(shards[i], s)
			lo, hi := min(int64(i)*s, packLen), min(int64(i+1)*s, packLen)
			clear(buf[copy(buf, pack[lo:hi]):])
			shards[i] = buf
		}
	}
	for i := c.k; i < n; i++ {
		shards[i] = sized(shards[i], s)
	}
	if c.rs == nil {
		return nil
	}
	if err := c.rs.Encode(shards); err != nil {
		// Unreachable with the sizes set above; kept as an error, not a panic.
		return fmt.Errorf("erasure: encode %s: %w", c, err)
	}
	return nil
}

// sized returns b resliced to n bytes when its capacity allows, else a new
// buffer of n bytes. The contents are unspecified.
func sized(b []byte, n int64) []byte {
	if int64(cap(b)) >= n {
		return b[:n]
	}
	return make([]byte, n)
}
