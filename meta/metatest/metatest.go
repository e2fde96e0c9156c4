// Package metatest is the conformance suite every meta.Service passes:
// meta/local over an in-memory and an on-disk Pebble, and the replicated
// and remote implementations built on it.
package metatest

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/tessera-store/tessera/chunk"
	"github.com/tessera-store/tessera/meta"
	"github.com/tessera-store/tessera/pack"
)

// Run runs the whole suite. open returns a fresh, empty service for each
// subtest; it should register its own cleanup.
func Run(t *testing.T, open func(t *testing.T) meta.Service) {
	tests := []struct {
		name string
		fn   func(t *testing.T, e *env)
	}{
		{"Buckets", testBuckets},
		{"BucketNames", testBucketNames},
		{"Objects", testObjects},
		{"Conditional", testConditional},
		{"MissingChunks", testMissingChunks},
		{"Limits", testLimits},
		{"Tags", testTags},
		{"Listing", testListing},
		{"ListingLarge", testListingLarge},
		{"Multipart", testMultipart},
		{"PartChecksums", testPartChecksums},
		{"MultipartErrors", testMultipartErrors},
		{"ListUploads", testListUploads},
		{"Refcounts", testRefcounts},
		{"GC", testGC},
		{"GCRevive", testGCRevive},
		{"Packs", testPacks},
		{"SharedPack", testSharedPack},
		{"EmptySharedPack", testEmptySharedPack},
		{"Idempotency", testIdempotency},
		{"Cluster", testCluster},
		{"Users", testUsers},
		{"Concurrency", testConcurrency},
		{"BucketConfigs", testBucketConfigs},
		{"Versions", testVersions},
		{"VersionsSuspended", testVersionsSuspended},
		{"VersionListing", testVersionListing},
		{"ObjectLock", testObjectLock},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := &env{t: t, s: open(t), ctx: context.Background()}
			tt.fn(t, e)
		})
	}
}

// env is one subtest's service with helpers for request IDs, times and
// content.
type env struct {
	t   *testing.T
	s   meta.Service
	ctx context.Context
	seq atomic.Int64
}

// id returns a fresh request ID.
func (e *env) id() string { return fmt.Sprintf("req-%d", e.seq.Add(1)) }

// Addr returns a deterministic chunk address for n.
func Addr(n int) chunk.Addr {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(n))
	return chunk.Addr(sha256.Sum256(b[:]))
}

// PackID returns a deterministic pack ID for n.
func PackID(n int) pack.ID {
	var id pack.ID
	binary.BigEndian.PutUint64(id[8:], uint64(n)+1)
	id[0] = 0x70
	return id
}

// Content describes chunks to commit: numbers of chunks, each of chunkSize
// bytes and frame length chunkSize/2, all stored in one pack.
type Content struct {
	Pack   int
	Chunks []int // chunk numbers, repeats allowed
	Size   uint32
}

// Build returns the manifest, the pack and the chunk entries for c.
func (c Content) Build() ([]meta.ChunkRef, []meta.Pack, []meta.ChunkInfo) {
	size := c.Size
	if size == 0 {
		size = 1000
	}
	refs := make([]meta.ChunkRef, len(c.Chunks))
	var infos []meta.ChunkInfo
	seen := map[int]bool{}
	off := int64(0)
	for i, n := range c.Chunks {
		refs[i] = meta.ChunkRef{Addr: Addr(n), Size: size}
		if !seen[n] {
			seen[n] = true
			infos = append(infos, meta.ChunkInfo{Addr: Addr(n), Pack: PackID(c.Pack), Offset: off, Length: int32(size / 2), Size: size})
			off += int64(size / 2)
		}
	}
	p := meta.Pack{ID: PackID(c.Pack), Pool: "default", K: 2, M: 1, Length: off, ShardSize: (off + 1) / 2, Nodes: []string{"n1", "n2", "n3"}}
	return refs, []meta.Pack{p}, infos
}

func (e *env) mkBucket(name string) {
	e.t.Helper()
	if err := e.s.CreateBucket(e.ctx, e.id(), 1, meta.Bucket{Name: name, Owner: "alice"}); err != nil {
		e.t.Fatalf("CreateBucket %s: %v", name, err)
	}
}

// putInline commits a small inline object.
func (e *env) putInline(bucket, key string, data string) {
	e.t.Helper()
	err := e.s.PutObject(e.ctx, &meta.PutObjectRequest{ReqID: e.id(), Time: 10, Object: meta.Object{
		Bucket: bucket, Key: key, Size: int64(len(data)), ETag: etag(data), Inline: []byte(data)}})
	if err != nil {
		e.t.Fatalf("PutObject %s/%s: %v", bucket, key, err)
	}
}

// putChunks commits an object with content c at time tm, registering c's
// pack and chunks as new.
func (e *env) putChunks(bucket, key string, c Content, tm int64) *meta.Object {
	e.t.Helper()
	refs, packs, infos := c.Build()
	o := meta.Object{Bucket: bucket, Key: key, Chunks: refs, ETag: etag(key)}
	for _, r := range refs {
		o.Size += int64(r.Size)
	}
	if err := e.s.PutObject(e.ctx, &meta.PutObjectRequest{ReqID: e.id(), Time: tm, Object: o, NewPacks: packs, NewChunks: infos}); err != nil {
		e.t.Fatalf("PutObject %s/%s: %v", bucket, key, err)
	}
	return &o
}

func etag(s string) string {
	h := md5.Sum([]byte(s))
	return hex.EncodeToString(h[:])
}

// refs returns the refcount of chunk n (-1 if not indexed).
func (e *env) refs(n int) int64 {
	e.t.Helper()
	ci, err := e.s.LookupChunks(e.ctx, []chunk.Addr{Addr(n)})
	if err != nil {
		e.t.Fatalf("LookupChunks: %v", err)
	}
	if !ci[0].Found {
		return -1
	}
	return ci[0].Refs
}

func (e *env) stats() meta.Stats {
	e.t.Helper()
	st, err := e.s.Stats(e.ctx)
	if err != nil {
		e.t.Fatalf("Stats: %v", err)
	}
	return st
}
