package local_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/tessera-store/tessera/chunk"
	"github.com/tessera-store/tessera/meta"
	"github.com/tessera-store/tessera/meta/local"
	"github.com/tessera-store/tessera/meta/server"
	"github.com/tessera-store/tessera/pack"
)

// seq makes unique chunk addresses and pack IDs cheaply.
var seq atomic.Uint64

func addrOf(n uint64) (a chunk.Addr) {
	binary.BigEndian.PutUint64(a[:], n)
	a[31] = 0xC5
	return a
}

// commitReq builds a PUT of a fresh object with n new chunks in a new pack.
func commitReq(n int) *meta.PutObjectRequest {
	base := seq.Add(uint64(n) + 1)
	var id pack.ID
	binary.BigEndian.PutUint64(id[:], base)
	id[15] = 1
	req := &meta.PutObjectRequest{ReqID: fmt.Sprintf("r%d", base), Time: int64(base)}
	o := &req.Object
	o.Bucket, o.Key, o.ETag = "bench", fmt.Sprintf("obj/%012d", base), "0123456789abcdef0123456789abcdef"
	o.Chunks = make([]meta.ChunkRef, n)
	req.NewChunks = make([]meta.ChunkInfo, n)
	for i := range o.Chunks {
		a := addrOf(base - uint64(i))
		o.Chunks[i] = meta.ChunkRef{Addr: a, Size: 65536}
		req.NewChunks[i] = meta.ChunkInfo{Addr: a, Pack: id, Offset: int64(i) * 40000, Length: 40000, Size: 65536}
	}
	o.Size = int64(n) * 65536
	req.NewPacks = []meta.Pack{{ID: id, Pool: "default", K: 4, M: 2, Length: int64(n) * 40000, ShardSize: int64(n) * 10000,
		Nodes: []string{"n1", "n2", "n3", "n4", "n5", "n6"}}}
	return req
}

func openBench(b *testing.B, sync bool) *local.Service {
	s, err := local.Open(b.TempDir(), server.Options{Sync: sync})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	if err := s.CreateBucket(context.Background(), "", 1, meta.Bucket{Name: "bench", Owner: "o"}); err != nil {
		b.Fatal(err)
	}
	return s
}

// BenchmarkCommit measures PUT commits on disk with fsync, 64 clients at a
// time: each iteration is 64 concurrent commits, grouped by the proposer.
func BenchmarkCommit(b *testing.B) {
	for _, chunks := range []int{1, 1000} {
		b.Run(fmt.Sprintf("chunks=%d/clients=64", chunks), func(b *testing.B) {
			const clients = 64
			s := openBench(b, true)
			ctx := context.Background()
			cmd, _ := server.EncodeCommand(&server.Command{Op: server.OpPutObject, Put: commitReq(chunks)})
			b.SetBytes(int64(len(cmd)) * clients)
			b.ReportAllocs()
			reqs := make([]*meta.PutObjectRequest, clients)
			cpu0 := cpuTime()
			for b.Loop() {
				b.StopTimer()
				for i := range reqs {
					reqs[i] = commitReq(chunks)
				}
				b.StartTimer()
				var wg sync.WaitGroup
				for _, r := range reqs {
					wg.Add(1)
					go func() {
						defer wg.Done()
						if err := s.PutObject(ctx, r); err != nil {
							b.Error(err)
						}
					}()
				}
				wg.Wait()
			}
			b.ReportMetric(float64(clients*b.N)/b.Elapsed().Seconds(), "commits/s")
			b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(clients*b.N), "cpu-us/commit")
		})
	}
}

// BenchmarkLookupChunks looks up 1,000 addresses (half of them indexed) in
// an index of 100,000 chunks.
func BenchmarkLookupChunks(b *testing.B) {
	s := openBench(b, false)
	ctx := context.Background()
	first := seq.Load() + 1
	for i := 0; i < 100; i++ {
		if err := s.PutObject(ctx, commitReq(1000)); err != nil {
			b.Fatal(err)
		}
	}
	addrs := make([]chunk.Addr, 1000)
	for i := range addrs {
		if i%2 == 0 {
			addrs[i] = addrOf(first + uint64(i*97))
		} else {
			addrs[i] = addrOf(1<<60 + uint64(i))
		}
	}
	b.SetBytes(int64(len(addrs)) * 32)
	b.ReportAllocs()
	cpu0 := cpuTime()
	for b.Loop() {
		ci, err := s.LookupChunks(ctx, addrs)
		if err != nil || len(ci) != len(addrs) {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-us/op")
}

// cpuTime is the process's user+system CPU time (the machine is shared, so
// wall time is noisy; CPU time per op is not).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
