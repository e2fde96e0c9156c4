package erasure

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/klauspost/reedsolomon"
)

var benchSchemes = []struct{ k, m int }{{4, 2}, {10, 4}}

// BenchmarkEncode compares Code.Encode (pack buffer with capacity k*S, data
// shards aliasing it) with reedsolomon's Encode on the same shard buffers.
func BenchmarkEncode(b *testing.B) {
	for _, sc := range benchSchemes {
		for _, size := range []int{8 << 20, 16 << 20} {
			c, _ := NewCode(sc.k, sc.m)
			s := c.ShardSize(int64(size))
			pack := make([]byte, size, c.PaddedLen(int64(size)))
			r := rand.New(rand.NewPCG(1, 1))
			for i := range pack {
				pack[i] = byte(r.Uint32())
			}
			shards := make([][]byte, c.N())
			for i := c.K(); i < c.N(); i++ {
				shards[i] = make([]byte, s)
			}
			if err := c.Encode(pack, shards); err != nil { // sets the data shards for raw
				b.Fatal(err)
			}
			name := fmt.Sprintf("%dx%dx%dMiB", sc.k, sc.m, size>>20)
			b.Run("code/"+name, func(b *testing.B) {
				b.SetBytes(int64(size))
				b.ReportAllocs()
				if err := c.Encode(pack, shards); err != nil { // warm up
					b.Fatal(err)
				}
				cpu := startCPU()
				for b.Loop() {
					if err := c.Encode(pack, shards); err != nil {
						b.Fatal(err)
					}
				}
				cpu.report(b)
			})
			b.Run("raw/"+name, func(b *testing.B) {
				rs, _ := reedsolomon.New(sc.k, sc.m)
				raw := make([][]byte, c.N())
				copy(raw, shards) // the same buffers Code.Encode filled
				b.SetBytes(int64(size))
				b.ReportAllocs()
				if err := rs.Encode(raw); err != nil {
					b.Fatal(err)
				}
				cpu := startCPU()
				for b.Loop() {
					if err := rs.Encode(raw); err != nil {
						b.Fatal(err)
					}
				}
				cpu.report(b)
			})
		}
	}
}

// BenchmarkReadRange reads a range inside one data shard of a 16 MiB pack,
// healthy and with 1 or m shards lost (the range's own shard first), and
// compares with reedsolomon.ReconstructData of the same loss on full shards.
func BenchmarkReadRange(b *testing.B) {
	const packLen = 16 << 20
	ctx := context.Background()
	for _, sc := range benchSchemes {
		c, _ := NewCode(sc.k, sc.m)
		r := rand.New(rand.NewPCG(2, 2))
		pack := make([]byte, packLen)
		for i := range pack {
			pack[i] = byte(r.Uint32())
		}
		shards := encode(b, c, pack)
		s := c.ShardSize(packLen)
		for _, lost := range []int{0, 1, sc.m} {
			fr := newFakeReader(shards)
			for i := range lost {
				fr.faults[1+i] = fault{kind: missing} // shard 1 holds the range
			}
			for _, n := range []int{64 << 10, 1 << 20} {
				off := s + 4096 // inside data shard 1
				p := make([]byte, n)
				b.Run(fmt.Sprintf("%dx%d/lost%d/%dKiB", sc.k, sc.m, lost, n>>10), func(b *testing.B) {
					b.SetBytes(int64(n))
					b.ReportAllocs()
					if err := c.ReadRange(ctx, fr, packLen, p, off); err != nil {
						b.Fatal(err)
					}
					cpu := startCPU()
					for b.Loop() {
						if err := c.ReadRange(ctx, fr, packLen, p, off); err != nil {
							b.Fatal(err)
						}
					}
					cpu.report(b)
				})
			}
			if lost == 0 {
				// Hedging armed but not firing: the cost of the goroutine and
				// timer on a healthy read.
				hc := c.WithHedge(time.Hour)
				p := make([]byte, 64<<10)
				b.Run(fmt.Sprintf("%dx%d/lost0/64KiB/hedged", sc.k, sc.m), func(b *testing.B) {
					b.SetBytes(int64(len(p)))
					b.ReportAllocs()
					cpu := startCPU()
					for b.Loop() {
						if err := hc.ReadRange(ctx, fr, packLen, p, s+4096); err != nil {
							b.Fatal(err)
						}
					}
					cpu.report(b)
				})
				continue
			}
			// Baseline: rebuild the lost data shards whole from full shards.
			b.Run(fmt.Sprintf("%dx%d/lost%d/rawReconstructData", sc.k, sc.m, lost), func(b *testing.B) {
				rs, _ := reedsolomon.New(sc.k, sc.m)
				work := make([][]byte, c.N())
				spare := make([][]byte, lost)
				for i := range spare {
					spare[i] = make([]byte, s)
				}
				b.SetBytes(s * int64(lost))
				b.ReportAllocs()
				cpu := startCPU()
				for b.Loop() {
					copy(work, shards)
					for i := range lost {
						work[1+i] = spare[i][:0]
					}
					if err := rs.ReconstructData(work); err != nil {
						b.Fatal(err)
					}
				}
				cpu.report(b)
			})
		}
	}
}
