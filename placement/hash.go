package placement

import (
	"encoding/binary"
	"math"
	"math/bits"

	"github.com/zeebo/xxh3"
)

// PGOf returns the placement group, in [0, pgs), of a pack. It is a jump
// consistent hash (Lamping and Veach 2014) of the pack ID's xxh3, so growing
// a pool from P to P+1 groups moves only 1/(P+1) of the packs. pgs < 1 is
// treated as 1.
func PGOf(packID [16]byte, pgs int) int {
	if pgs <= 1 {
		return 0
	}
	return jump(xxh3.Hash(packID[:]), pgs)
}

func jump(key uint64, buckets int) int {
	var b, j int64 = -1, 0
	for j < int64(buckets) {
		b = j
		key = key*2862933555777941757 + 1
		j = int64(float64(b+1) * (float64(int64(1)<<31) / float64((key>>33)+1)))
	}
	return int(b)
}

// pgKey is the per-(pool, PG) seed of the rendezvous draw.
func pgKey(poolSeed uint64, pg int) uint64 {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(pg))
	return xxh3.HashSeed(b[:], poolSeed)
}

// mix64 is the splitmix64 finalizer: a bijection on 64 bits whose output
// bits each depend on every input bit.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// log2Table[i] = log2(1 + i/1024) in units of 2^-32.
var log2Table = func() (t [1025]uint64) {
	for i := range t {
		t[i] = uint64(math.Round(math.Log2(1+float64(i)/1024) * (1 << 32)))
	}
	return t
}()

// negLog2 returns -log2(h / 2^64) in units of 2^-32, for h read as a uniform
// number in (0, 1); h = 0 counts as 1. The result is in (0, 64·2^32]. It is
// integer arithmetic apart from the table, so the draw is the same on every
// platform that builds the same table.
func negLog2(h uint64) uint64 {
	if h == 0 {
		h = 1
	}
	lz := bits.LeadingZeros64(h)
	m := h << lz // top bit set
	idx := (m >> 53) & 1023
	frac := (m >> 21) & 0xffffffff
	lo, hi := log2Table[idx], log2Table[idx+1]
	f := lo + ((hi-lo)*frac)>>32
	log2h := uint64(63-lz)<<32 + f
	return 64<<32 - log2h
}

// lowerNegLog2 is a lower bound of float64(negLog2(h)) that costs two
// operations: with u = h/2^64, -log2(u) ≥ (1-u)·log2(e), and 1-u is
// (^h+1)/2^64. The factor and the offset leave room for the table's
// rounding, so the bound never exceeds negLog2 (tested).
func lowerNegLog2(h uint64) float64 {
	// ^h>>11 fits 53 bits: an exact, cheap int64 conversion.
	return float64(int64(^h>>11))*(math.Log2E*0x1p-21*0.999999) - 4
}
