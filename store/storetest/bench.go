package storetest

import (
	"bytes"
	"context"
	"math/rand/v2"
	"runtime"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/tessera-store/tessera/store"
)

// benchShardSize is the shard size the read benchmarks use: a 16 MiB pack
// split 4 ways.
const benchShardSize = 4 << 20

// Bench runs the store benchmarks: Put of a 4 MiB shard, sequential random
// range reads of 64 KiB and 1 MiB (reporting p50 and p99 latency), and 1 MiB
// range reads from 16 concurrent readers. open returns a fresh store.
func Bench(b *testing.B, open func(b *testing.B) store.Store) {
	b.Run("Put/4MiB", func(b *testing.B) {
		s := open(b)
		ctx := context.Background()
		data := Data(1, benchShardSize)
		r := bytes.NewReader(data)
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			id := newID(i % 6)
			i++
			r.Reset(data)
			if err := s.Put(ctx, store.ShardInfo{ID: id, Size: int64(len(data)), K: 4, M: 2}, r); err != nil {
				b.Fatal(err)
			}
			if err := s.Delete(ctx, id); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, size := range []int{64 << 10, 1 << 20} {
		b.Run("ReadAt/"+sizeName(size), func(b *testing.B) {
			s, ids := fill(b, open)
			ctx := context.Background()
			p := make([]byte, size)
			rng := rand.New(rand.NewPCG(1, 2))
			lat := make([]time.Duration, 0, 1<<16)
			// Warm up: one pass over the data (page cache, connections).
			for _, id := range ids {
				for off := 0; off+size <= benchShardSize; off += size {
					if err := s.ReadAt(ctx, id, p, int64(off)); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				id := ids[rng.IntN(len(ids))]
				off := int64(rng.IntN(benchShardSize/size)) * int64(size)
				t0 := time.Now()
				if err := s.ReadAt(ctx, id, p, off); err != nil {
					b.Fatal(err)
				}
				if len(lat) < cap(lat) {
					lat = append(lat, time.Since(t0))
				}
			}
			reportLatency(b, lat)
		})
	}
	b.Run("ReadAtParallel16/1MiB", func(b *testing.B) {
		s, ids := fill(b, open)
		const size = 1 << 20
		b.SetBytes(size)
		b.ReportAllocs()
		b.SetParallelism((16 + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			ctx := context.Background()
			p := make([]byte, size)
			rng := rand.New(rand.NewPCG(rand.Uint64(), 2))
			for pb.Next() {
				id := ids[rng.IntN(len(ids))]
				off := int64(rng.IntN(benchShardSize/size)) * size
				if err := s.ReadAt(ctx, id, p, off); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

// fill stores four 4 MiB shards (16 MiB: warm in any page cache).
func fill(b *testing.B, open func(b *testing.B) store.Store) (store.Store, []store.ShardID) {
	s := open(b)
	var ids []store.ShardID
	for i := range 4 {
		id := newID(i)
		Put(b, s, id, Data(uint64(i), benchShardSize))
		ids = append(ids, id)
	}
	return s, ids
}

func reportLatency(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2])/1e3, "p50-us")
	b.ReportMetric(float64(lat[len(lat)*99/100])/1e3, "p99-us")
}

func sizeName(n int) string {
	if n >= 1<<20 {
		return strconv.Itoa(n>>20) + "MiB"
	}
	return strconv.Itoa(n>>10) + "KiB"
}
