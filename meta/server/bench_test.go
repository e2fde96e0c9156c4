package server

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"sort"
	"syscall"
	"testing"
	"time"

	"github.com/cockroachdb/pebble"

	"github.com/tessera-store/tessera/meta"
)

// putCommand is a PUT of an object with n new chunks in one new pack.
func putCommand(n int) *Command {
	o := sampleObject(n)
	o.Bucket, o.Key = "bench", "some/key/of/typical/length.bin"
	req := &meta.PutObjectRequest{Object: *o}
	p := meta.Pack{ID: [16]byte{1, 2, 3}, Pool: "default", K: 8, M: 4, Length: int64(n) * 40000, ShardSize: int64(n) * 5000,
		Nodes: []string{"n1", "n2", "n3", "n4", "n5", "n6", "n7", "n8", "n9", "n10", "n11", "n12"}}
	req.NewPacks = []meta.Pack{p}
	for i, c := range o.Chunks {
		req.NewChunks = append(req.NewChunks, meta.ChunkInfo{Addr: c.Addr, Pack: p.ID, Offset: int64(i) * 40000, Length: 40000, Size: c.Size})
	}
	return &Command{Op: OpPutObject, ReqID: "0123456789abcdef", Time: time.Now().UnixNano(), Put: req}
}

// BenchmarkCommandCodec encodes and decodes a PUT command (manifest, new
// chunk entries and pack): the per-commit cost on the proposer and on
// every replica.
func BenchmarkCommandCodec(b *testing.B) {
	for _, n := range []int{1, 1000} {
		b.Run(fmt.Sprintf("chunks=%d", n), func(b *testing.B) {
			c := putCommand(n)
			enc, _ := EncodeCommand(c)
			b.SetBytes(int64(len(enc)))
			b.ReportAllocs()
			cpu0 := cpuTime()
			for b.Loop() {
				p, err := EncodeCommand(c)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := DecodeCommand(p); err != nil {
					b.Fatal(err)
				}
			}
			reportCPU(b, cpu0)
		})
	}
}

// BenchmarkListPage lists one page of 1,000 keys from buckets of 100,000
// and 1,000,000 keys on disk (built once with large batches): plain, and
// with a delimiter that rolls up 1,000 directories (one seek per prefix).
// heap-MiB is the Go heap in use after the listings: it must not grow with
// the bucket (listing streams from a Pebble iterator; the block cache and
// memtables are bounded).
func BenchmarkListPage(b *testing.B) {
	for _, nKeys := range []int{100_000, 1_000_000} {
		b.Run(fmt.Sprintf("keys=%d", nKeys), func(b *testing.B) { benchListPage(b, nKeys) })
	}
}

func benchListPage(b *testing.B, nKeys int) {
	const nDirs = 2000
	st, err := Open(b.TempDir(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	start := time.Now()
	db := st.h.db
	batch := db.NewBatch()
	obj := EncodeObject(&meta.Object{Size: 1 << 20, ETag: "0123456789abcdef0123456789abcdef", Modified: 1, ContentType: "image/jpeg",
		Chunks: sampleObject(4).Chunks})
	batch.Set(bucketKey("big"), encodeBucket(&meta.Bucket{Name: "big"}), nil)
	for i := 0; i < nKeys; i++ {
		k := fmt.Sprintf("dir%04d/photo-%07d.jpg", i%nDirs, i)
		batch.Set(objectKey("big", k), obj, nil)
		if batch.Len() > 8<<20 {
			if err := batch.Commit(pebble.NoSync); err != nil {
				b.Fatal(err)
			}
			batch = db.NewBatch()
		}
	}
	if err := batch.Commit(pebble.NoSync); err != nil {
		b.Fatal(err)
	}
	if err := db.Flush(); err != nil {
		b.Fatal(err)
	}
	// Let compactions settle so that they neither compete with the reads
	// nor invalidate the block cache while we measure.
	if err := db.Compact([]byte("a"), []byte("z"), true); err != nil {
		b.Fatal(err)
	}
	b.Logf("built %d keys in %v", nKeys, time.Since(start))
	rng := rand.New(rand.NewPCG(1, 1))
	for _, tc := range []struct {
		name  string
		delim string
	}{{"plain", ""}, {"delimiter", "/"}} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			var lat []time.Duration
			cpu0 := cpuTime()
			for b.Loop() {
				req := &meta.ListRequest{Bucket: "big", Delimiter: tc.delim, MaxKeys: 1000}
				if tc.delim == "" {
					// Start inside a random directory; the page runs on
					// into the next ones.
					req.Marker = fmt.Sprintf("dir%04d/", rng.IntN(nDirs/2))
				}
				t0 := time.Now()
				res, err := st.ListObjects(req)
				lat = append(lat, time.Since(t0))
				if err != nil || len(res.Objects)+len(res.CommonPrefixes) != 1000 || !res.IsTruncated {
					b.Fatalf("page: %d + %d, %v", len(res.Objects), len(res.CommonPrefixes), err)
				}
			}
			reportCPU(b, cpu0)
			sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "median-ms")
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "heap-MiB")
		})
	}
}

// cpuTime is the process's user+system CPU time. The machine the figures
// come from is shared, so wall time per op is noisy; CPU time per op is not.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func reportCPU(b *testing.B, since time.Duration) {
	b.ReportMetric(float64((cpuTime()-since).Microseconds())/float64(b.N), "cpu-us/op")
}
