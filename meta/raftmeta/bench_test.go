package raftmeta

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tessera-store/tessera/meta"
	"github.com/tessera-store/tessera/meta/metatest"
)

// benchClients is the number of concurrent committers.
const benchClients = 64

// benchCommits measures PutObject commits of chunks-chunk manifests (all
// chunks already indexed: the dedup case, each commit adds a refcount per
// chunk) with benchClients concurrent callers. fsync is on (Config default).
// With fresh set, every commit instead brings its own new pack and chunk
// entries (first upload of new data).
func benchCommits(b *testing.B, voters, chunks int, fresh, viaGRPC bool) {
	ctx := context.Background()
	c := newCluster(b, voters, func(c *Config) {
		// Default (LAN) timeouts: the fast test ones cause spurious
		// elections on a loaded machine.
		c.HeartbeatTimeout, c.ElectionTimeout, c.LeaderLeaseTimeout = 0, 0, 0
	})
	l, err := c.leader(ctx)
	if err != nil {
		b.Fatal(err)
	}
	var cur atomic.Pointer[meta.Service]
	setSvc := func(s meta.Service) { cur.Store(&s) }
	setSvc(l.node.Service())
	if viaGRPC {
		setSvc(c.client(b)) // follows the leader itself
	}
	svc := *cur.Load()
	nums := make([]int, chunks)
	for i := range nums {
		nums[i] = i
	}
	refs, packs, infos := metatest.Content{Pack: 1, Chunks: nums}.Build()
	if err := svc.CreateBucket(ctx, "mk", 1, meta.Bucket{Name: "bench", Owner: "u"}); err != nil {
		b.Fatal(err)
	}
	obj := meta.Object{Bucket: "bench", Key: "seed", Chunks: refs, Size: int64(chunks) * 1000, ETag: "e"}
	if err := svc.PutObject(ctx, &meta.PutObjectRequest{ReqID: "seed", Time: 2, Object: obj, NewPacks: packs, NewChunks: infos}); err != nil {
		b.Fatal(err)
	}
	perClient := 8
	if chunks > 100 {
		perClient = 1
	}
	var seq atomic.Int64
	round := func() {
		var wg sync.WaitGroup
		for range benchClients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range perClient {
					n := seq.Add(1)
					o := obj
					o.Key = fmt.Sprintf("o-%d", n)
					req := &meta.PutObjectRequest{ReqID: o.Key, Time: n, Object: o}
					if fresh {
						first := int(n) * chunks
						nums := make([]int, chunks)
						for i := range nums {
							nums[i] = first + i
						}
						req.Object.Chunks, req.NewPacks, req.NewChunks = metatest.Content{Pack: int(n) + 1, Chunks: nums}.Build()
					}
					for try := 0; ; try++ {
						err := (*cur.Load()).PutObject(ctx, req)
						if err == nil {
							break
						}
						// A leader change under load: retry on the new
						// leader with the same ReqID, as a client does.
						if try == 20 || !(errors.Is(err, meta.ErrNotLeader) || errors.Is(err, meta.ErrUnavailable)) {
							b.Error(err)
							return
						}
						if nl, err := c.leader(ctx); err == nil && !viaGRPC {
							setSvc(nl.node.Service())
						}
					}
				}
			}()
		}
		wg.Wait()
	}
	round() // warm up
	b.SetBytes(int64(benchClients * perClient * (chunks*36 + 64)))
	b.ReportAllocs()
	start := time.Now()
	rounds := 0
	for b.Loop() {
		round()
		rounds++
	}
	b.ReportMetric(float64(rounds*benchClients*perClient)/time.Since(start).Seconds(), "commits/s")
}

func BenchmarkCommit(b *testing.B) {
	for _, voters := range []int{1, 3} {
		for _, tt := range []struct {
			chunks int
			fresh  bool
		}{{1, false}, {1000, false}, {1000, true}} {
			mode := "dedup"
			if tt.fresh {
				mode = "new"
			}
			b.Run(fmt.Sprintf("voters=%d/chunks=%d/%s", voters, tt.chunks, mode), func(b *testing.B) {
				benchCommits(b, voters, tt.chunks, tt.fresh, false)
			})
		}
	}
}

func BenchmarkCommitGRPC(b *testing.B) {
	for _, voters := range []int{1, 3} {
		b.Run(fmt.Sprintf("voters=%d/chunks=1", voters), func(b *testing.B) {
			benchCommits(b, voters, 1, false, true)
		})
	}
}
