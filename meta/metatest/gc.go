package metatest

import (
	"errors"
	"reflect"
	"testing"

	"github.com/tessera-store/tessera/chunk"
	"github.com/tessera-store/tessera/meta"
	"github.com/tessera-store/tessera/pack"
)

func testRefcounts(t *testing.T, e *env) {
	e.mkBucket("bkt")
	e.putChunks("bkt", "a", Content{Pack: 1, Chunks: []int{1, 2, 1}}, 10) // repeats count
	if r1, r2 := e.refs(1), e.refs(2); r1 != 2 || r2 != 1 {
		t.Fatalf("refs = %d, %d; want 2, 1", r1, r2)
	}
	// "c" reuses chunk 1 without registering it: dedup hit.
	o := meta.Object{Bucket: "bkt", Key: "c", Size: 1000, ETag: etag("c"), Chunks: []meta.ChunkRef{{Addr: Addr(1), Size: 1000}}}
	if err := e.s.PutObject(e.ctx, &meta.PutObjectRequest{ReqID: e.id(), Time: 11, Object: o}); err != nil {
		t.Fatal(err)
	}
	// Registering an already indexed chunk again (a lost race) keeps the
	// first entry.
	_, packs, infos := Content{Pack: 9, Chunks: []int{1, 3}}.Build()
	o2 := meta.Object{Bucket: "bkt", Key: "d", Size: 2000, ETag: etag("d"), Chunks: []meta.ChunkRef{{Addr: Addr(1), Size: 1000}, {Addr: Addr(3), Size: 1000}}}
	if err := e.s.PutObject(e.ctx, &meta.PutObjectRequest{ReqID: e.id(), Time: 12, Object: o2, NewPacks: packs, NewChunks: infos}); err != nil {
		t.Fatal(err)
	}
	ci, err := e.s.LookupChunks(e.ctx, []chunk.Addr{Addr(1), Addr(3), Addr(99)})
	if err != nil {
		t.Fatal(err)
	}
	if ci[0].Pack != PackID(1) || ci[0].Refs != 4 || ci[1].Pack != PackID(9) || ci[2].Found || ci[2].Addr != Addr(99) {
		t.Fatalf("LookupChunks = %+v", ci)
	}
	ps, _ := e.s.GetPacks(e.ctx, []pack.ID{PackID(1), PackID(9)})
	if ps[0].LiveBytes != 1000 || ps[1].LiveBytes != 500 {
		t.Fatalf("LiveBytes = %d, %d; want 1000 (two frames), 500 (chunk 1's frame in pack 9 is unused)", ps[0].LiveBytes, ps[1].LiveBytes)
	}
	st := e.stats()
	if st.Chunks != 6 || st.UniqueChunks != 3 || st.Objects != 3 || st.Packs != 2 {
		t.Fatalf("Stats = %+v", st)
	}
	if st.StoredBytes != ps[0].Length+ps[1].Length || st.RawBytes != 3*(ps[0].ShardSize+ps[1].ShardSize) {
		t.Fatalf("Stats bytes = %+v", st)
	}
}

func (e *env) gc(tm, grace int64, limit int) *meta.GCResult {
	e.t.Helper()
	r, err := e.s.CollectGarbage(e.ctx, &meta.GCRequest{ReqID: e.id(), Time: tm, Grace: grace, Limit: limit})
	if err != nil {
		e.t.Fatalf("CollectGarbage: %v", err)
	}
	return r
}

func testGC(t *testing.T, e *env) {
	e.mkBucket("bkt")
	e.putChunks("bkt", "x", Content{Pack: 1, Chunks: []int{1, 2, 3}}, 100)
	e.putChunks("bkt", "y", Content{Pack: 2, Chunks: []int{3, 4}}, 100)
	// Overwrite x at 200: chunks 1, 2 die (tombstoned at 200), 3 lives on via y.
	e.putChunks("bkt", "x", Content{Pack: 3, Chunks: []int{5}}, 200)
	if r := e.gc(250, 100, 0); r.CollectedChunks != 0 || len(r.DeadPacks) != 0 || r.More {
		t.Fatalf("GC within grace = %+v", r)
	}
	r := e.gc(400, 100, 1)
	if r.CollectedChunks != 1 || !r.More {
		t.Fatalf("GC limit 1 = %+v", r)
	}
	r = e.gc(400, 100, 0)
	if r.CollectedChunks != 1 || r.More {
		t.Fatalf("GC rest = %+v", r)
	}
	// Pack 1 held 1, 2, 3; 3 still lives, so pack 1 is not dead.
	if len(r.DeadPacks) != 0 || e.refs(1) != -1 || e.refs(2) != -1 || e.refs(3) != 1 {
		t.Fatalf("after GC: %+v refs %d %d %d", r, e.refs(1), e.refs(2), e.refs(3))
	}
	ps, _ := e.s.GetPacks(e.ctx, []pack.ID{PackID(1)})
	if ps[0].LiveBytes != 500 {
		t.Fatalf("pack 1 LiveBytes = %d", ps[0].LiveBytes)
	}
	// Delete y and x: everything dies at 500.
	for _, k := range []string{"x", "y"} {
		if err := e.s.DeleteObject(e.ctx, &meta.DeleteObjectRequest{ReqID: e.id(), Time: 500, Bucket: "bkt", Key: k}); err != nil {
			t.Fatal(err)
		}
	}
	r = e.gc(700, 100, 0)
	if r.CollectedChunks != 3 || len(r.DeadPacks) != 3 {
		t.Fatalf("GC all = %+v", r)
	}
	var ids []pack.ID
	for _, p := range r.DeadPacks {
		if p.LiveBytes != 0 {
			t.Fatalf("dead pack %+v has live bytes", p)
		}
		ids = append(ids, p.ID)
	}
	// Dead packs are reported again until forgotten.
	if r2 := e.gc(701, 100, 0); len(r2.DeadPacks) != 3 || r2.CollectedChunks != 0 {
		t.Fatalf("GC again = %+v", r2)
	}
	if err := e.s.ForgetPacks(e.ctx, e.id(), ids); err != nil {
		t.Fatal(err)
	}
	got, _ := e.s.GetPacks(e.ctx, ids)
	for _, p := range got {
		if p.ID != (pack.ID{}) {
			t.Fatalf("forgotten pack still there: %+v", p)
		}
	}
	if st := e.stats(); st != (meta.Stats{Buckets: 1}) {
		t.Fatalf("Stats after full GC = %+v", st)
	}
}

func testGCRevive(t *testing.T, e *env) {
	e.mkBucket("bkt")
	e.putChunks("bkt", "x", Content{Pack: 1, Chunks: []int{1}}, 100)
	if err := e.s.DeleteObject(e.ctx, &meta.DeleteObjectRequest{ReqID: e.id(), Time: 200, Bucket: "bkt", Key: "x"}); err != nil {
		t.Fatal(err)
	}
	if r := e.refs(1); r != 0 {
		t.Fatalf("refs = %d", r)
	}
	// Revived at 250 by a commit that references it without registering it.
	o := meta.Object{Bucket: "bkt", Key: "y", Size: 1000, ETag: etag("y"), Chunks: []meta.ChunkRef{{Addr: Addr(1), Size: 1000}}}
	if err := e.s.PutObject(e.ctx, &meta.PutObjectRequest{ReqID: e.id(), Time: 250, Object: o}); err != nil {
		t.Fatal(err)
	}
	if r := e.gc(1000, 10, 0); r.CollectedChunks != 0 || e.refs(1) != 1 {
		t.Fatalf("GC collected a revived chunk: %+v", r)
	}
	// Dies again at 300; the GC at 305 with grace 10 must not collect it
	// (the old tombstone at 200 is gone, the new one is within grace).
	if err := e.s.DeleteObject(e.ctx, &meta.DeleteObjectRequest{ReqID: e.id(), Time: 300, Bucket: "bkt", Key: "y"}); err != nil {
		t.Fatal(err)
	}
	if r := e.gc(305, 10, 0); r.CollectedChunks != 0 || e.refs(1) != 0 {
		t.Fatalf("GC within grace = %+v", r)
	}
	if st := e.stats(); st.UniqueChunks != 0 || st.Chunks != 0 {
		t.Fatalf("Stats = %+v", st)
	}
	if r := e.gc(311, 10, 0); r.CollectedChunks != 1 || len(r.DeadPacks) != 1 {
		t.Fatalf("GC = %+v", r)
	}
	// Once collected, a reference fails the commit.
	err := e.s.PutObject(e.ctx, &meta.PutObjectRequest{ReqID: e.id(), Time: 400, Object: o})
	if !errors.Is(err, meta.ErrMissingChunks) {
		t.Fatalf("commit of a collected chunk = %v", err)
	}
	// A new chunk may not be placed in a dead pack.
	_, _, infos := Content{Pack: 1, Chunks: []int{2}}.Build()
	o.Chunks = []meta.ChunkRef{{Addr: Addr(2), Size: 1000}}
	err = e.s.PutObject(e.ctx, &meta.PutObjectRequest{ReqID: e.id(), Time: 400, Object: o, NewChunks: infos})
	if !errors.Is(err, meta.ErrInvalidArgument) {
		t.Fatalf("commit into a dead pack = %v", err)
	}
}

func testPacks(t *testing.T, e *env) {
	e.mkBucket("bkt")
	e.putChunks("bkt", "x", Content{Pack: 1, Chunks: []int{1}}, 1)
	id := PackID(1)
	if err := e.s.MarkShardsMissing(e.ctx, e.id(), id, []int{2, 0, 2}); err != nil {
		t.Fatal(err)
	}
	ps, _ := e.s.GetPacks(e.ctx, []pack.ID{id, PackID(77)})
	if !reflect.DeepEqual(ps[0].Missing, []int{0, 2}) || ps[1].ID != (pack.ID{}) {
		t.Fatalf("GetPacks = %+v", ps)
	}
	tests := []struct {
		name    string
		fn      func() error
		wantErr error
	}{
		{"mark out of range", func() error { return e.s.MarkShardsMissing(e.ctx, e.id(), id, []int{3}) }, meta.ErrInvalidArgument},
		{"mark unknown pack", func() error { return e.s.MarkShardsMissing(e.ctx, e.id(), PackID(77), []int{0}) }, meta.ErrInvalidArgument},
		{"set wrong count", func() error { return e.s.SetPackShards(e.ctx, e.id(), id, []string{"a"}, nil) }, meta.ErrInvalidArgument},
		{"set", func() error { return e.s.SetPackShards(e.ctx, e.id(), id, []string{"n4", "n2", "n3"}, []int{1}) }, nil},
	}
	for _, tt := range tests {
		if err := tt.fn(); !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
			t.Errorf("%s = %v, want %v", tt.name, err, tt.wantErr)
		}
	}
	ps, _ = e.s.GetPacks(e.ctx, []pack.ID{id})
	if !reflect.DeepEqual(ps[0].Nodes, []string{"n4", "n2", "n3"}) || !reflect.DeepEqual(ps[0].Missing, []int{1}) || ps[0].LiveBytes != 500 {
		t.Fatalf("after SetPackShards: %+v", ps[0])
	}
	// ForgetPacks leaves live packs alone.
	if err := e.s.ForgetPacks(e.ctx, e.id(), []pack.ID{id}); err != nil {
		t.Fatal(err)
	}
	if ps, _ = e.s.GetPacks(e.ctx, []pack.ID{id}); ps[0].ID != id {
		t.Fatal("ForgetPacks removed a live pack")
	}
}

func testIdempotency(t *testing.T, e *env) {
	ctx := e.ctx
	e.mkBucket("bkt")
	// Same ReqID: the retry returns the first (successful) result and does
	// not apply again, even with a different body.
	for i, data := range []string{"first", "second"} {
		err := e.s.PutObject(ctx, &meta.PutObjectRequest{ReqID: "put-1", Time: int64(10 + i), Object: meta.Object{
			Bucket: "bkt", Key: "k", Size: int64(len(data)), ETag: etag(data), Inline: []byte(data)}})
		if err != nil {
			t.Fatalf("put %d: %v", i, err)
		}
	}
	if o, _ := e.s.GetObject(ctx, "bkt", "k"); string(o.Inline) != "first" || o.Modified != 10 {
		t.Fatalf("retry applied again: %+v", o)
	}
	for i := 0; i < 2; i++ {
		if err := e.s.CreateBucket(ctx, "mk-1", 5, meta.Bucket{Name: "ccc", Owner: "alice"}); err != nil {
			t.Fatalf("CreateBucket retry %d = %v", i, err)
		}
	}
	if err := e.s.CreateBucket(ctx, "mk-2", 5, meta.Bucket{Name: "ccc", Owner: "alice"}); !errors.Is(err, meta.ErrBucketOwnedByYou) {
		t.Fatalf("CreateBucket new ID = %v", err)
	}
	// CompleteUpload retried after the upload is gone returns the object.
	e.createUpload("bkt", "m", "u")
	tag := e.putPart("bkt", "m", "u", 1, Content{Pack: 1, Chunks: []int{1}})
	req := &meta.CompleteUploadRequest{ReqID: "done-1", Time: 30, Bucket: "bkt", Key: "m", UploadID: "u", Parts: []meta.CompletedPart{cp(1, tag)}}
	o1, err := e.s.CompleteUpload(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	o2, err := e.s.CompleteUpload(ctx, req)
	if err != nil || !reflect.DeepEqual(o1, o2) {
		t.Fatalf("retried CompleteUpload = %+v, %v; first %+v", o2, err, o1)
	}
	if r := e.refs(1); r != 1 {
		t.Fatalf("refs after retried complete = %d", r)
	}
	// Delete retried after another put under the same key must not delete it.
	del := &meta.DeleteObjectRequest{ReqID: "del-1", Time: 40, Bucket: "bkt", Key: "k"}
	if err := e.s.DeleteObject(ctx, del); err != nil {
		t.Fatal(err)
	}
	e.putInline("bkt", "k", "again")
	if err := e.s.DeleteObject(ctx, del); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.GetObject(ctx, "bkt", "k"); err != nil {
		t.Fatalf("retried delete applied again: %v", err)
	}
	// GC retried returns the first result.
	g1, err := e.s.CollectGarbage(ctx, &meta.GCRequest{ReqID: "gc-1", Time: 100})
	if err != nil {
		t.Fatal(err)
	}
	g2, err := e.s.CollectGarbage(ctx, &meta.GCRequest{ReqID: "gc-1", Time: 100})
	if err != nil || !reflect.DeepEqual(g1, g2) {
		t.Fatalf("retried GC = %+v, %v; first %+v", g2, err, g1)
	}
	// A failed command is not remembered: the retry runs again.
	o := meta.Object{Bucket: "bkt", Key: "z", Size: 1000, ETag: etag("z"), Chunks: []meta.ChunkRef{{Addr: Addr(50), Size: 1000}}}
	if err := e.s.PutObject(ctx, &meta.PutObjectRequest{ReqID: "z-1", Time: 50, Object: o}); !errors.Is(err, meta.ErrMissingChunks) {
		t.Fatalf("first = %v", err)
	}
	_, packs, infos := Content{Pack: 50, Chunks: []int{50}}.Build()
	if err := e.s.PutObject(ctx, &meta.PutObjectRequest{ReqID: "z-1", Time: 51, Object: o, NewPacks: packs, NewChunks: infos}); err != nil {
		t.Fatalf("retry after missing chunks = %v", err)
	}
}

// testSharedPack: two uploads whose new chunks sit in one pack (the object
// layer packs small uploads together) each list the pack in their commit.
// The pack is registered once and its LiveBytes count both uploads' frames,
// so it dies only when both objects are gone.
func testSharedPack(t *testing.T, e *env) {
	e.mkBucket("bkt")
	_, packs, infos := Content{Pack: 5, Chunks: []int{1, 2, 3, 4}}.Build()
	packs[0].Length = 4 * 500
	put := func(key string, tm int64, chunks []meta.ChunkInfo) {
		t.Helper()
		var refs []meta.ChunkRef
		for _, c := range chunks {
			refs = append(refs, meta.ChunkRef{Addr: c.Addr, Size: c.Size})
		}
		o := meta.Object{Bucket: "bkt", Key: key, Size: int64(len(refs)) * 1000, ETag: etag(key), Chunks: refs}
		if err := e.s.PutObject(e.ctx, &meta.PutObjectRequest{ReqID: e.id(), Time: tm, Object: o, NewPacks: packs, NewChunks: chunks}); err != nil {
			t.Fatalf("put %s: %v", key, err)
		}
	}
	put("a", 10, infos[:2])
	put("b", 11, infos[2:])
	ps, err := e.s.GetPacks(e.ctx, []pack.ID{PackID(5)})
	if err != nil || len(ps) != 1 || ps[0].ID != PackID(5) {
		t.Fatalf("GetPacks = %+v, %v", ps, err)
	}
	if ps[0].LiveBytes != 2000 {
		t.Fatalf("LiveBytes = %d, want 2000 (both uploads' frames)", ps[0].LiveBytes)
	}
	if st := e.stats(); st.Packs != 1 || st.StoredBytes != 2000 {
		t.Fatalf("Stats = %+v, want the pack counted once", st)
	}
	del := func(key string, tm int64) {
		t.Helper()
		if err := e.s.DeleteObject(e.ctx, &meta.DeleteObjectRequest{ReqID: e.id(), Time: tm, Bucket: "bkt", Key: key}); err != nil {
			t.Fatal(err)
		}
	}
	del("a", 20)
	if r := e.gc(1000, 10, 0); len(r.DeadPacks) != 0 {
		t.Fatalf("pack died while b still uses it: %+v", r.DeadPacks)
	}
	del("b", 1001)
	if r := e.gc(2000, 10, 0); len(r.DeadPacks) != 1 || r.DeadPacks[0].ID != PackID(5) {
		t.Fatalf("DeadPacks = %+v, want pack 5", r.DeadPacks)
	}
}

// testEmptySharedPack: the first upload to commit a shared pack may add no
// live bytes to it (its only chunk was committed meanwhile by another
// upload, from another pack). The pack must not die then: a second upload
// with fresh chunks in it commits later. A pack that stays empty dies after
// the grace period.
func testEmptySharedPack(t *testing.T, e *env) {
	e.mkBucket("bkt")
	e.putChunks("bkt", "first", Content{Pack: 1, Chunks: []int{1}}, 10) // chunk 1 lands in pack 1
	_, packs, infos := Content{Pack: 5, Chunks: []int{1, 2}}.Build()    // pack 5 holds copies of 1 and 2
	packs[0].Length = 1000
	// Upload a: chunk 1 only, which the index already holds: pack 5 gains
	// no live bytes from it.
	o := meta.Object{Bucket: "bkt", Key: "a", Size: 1000, ETag: etag("a"), Chunks: []meta.ChunkRef{{Addr: Addr(1), Size: 1000}}}
	if err := e.s.PutObject(e.ctx, &meta.PutObjectRequest{ReqID: e.id(), Time: 11, Object: o, NewPacks: packs, NewChunks: infos[:1]}); err != nil {
		t.Fatal(err)
	}
	if r := e.gc(12, 10, 0); len(r.DeadPacks) != 0 {
		t.Fatalf("empty pack dead before the grace period: %+v", r.DeadPacks)
	}
	// Upload b: chunk 2, fresh, in pack 5.
	o = meta.Object{Bucket: "bkt", Key: "b", Size: 1000, ETag: etag("b"), Chunks: []meta.ChunkRef{{Addr: Addr(2), Size: 1000}}}
	if err := e.s.PutObject(e.ctx, &meta.PutObjectRequest{ReqID: e.id(), Time: 13, Object: o, NewPacks: packs, NewChunks: infos[1:]}); err != nil {
		t.Fatalf("second upload into the shared pack: %v", err)
	}
	if r := e.gc(100, 10, 0); len(r.DeadPacks) != 0 {
		t.Fatalf("pack with a live chunk died: %+v", r.DeadPacks)
	}
	// A pack nobody adds to dies after the grace period.
	_, packs, infos = Content{Pack: 6, Chunks: []int{1}}.Build()
	o = meta.Object{Bucket: "bkt", Key: "c", Size: 1000, ETag: etag("c"), Chunks: []meta.ChunkRef{{Addr: Addr(1), Size: 1000}}}
	if err := e.s.PutObject(e.ctx, &meta.PutObjectRequest{ReqID: e.id(), Time: 200, Object: o, NewPacks: packs, NewChunks: infos}); err != nil {
		t.Fatal(err)
	}
	if r := e.gc(205, 10, 0); len(r.DeadPacks) != 0 {
		t.Fatalf("empty pack dead before the grace period: %+v", r.DeadPacks)
	}
	if r := e.gc(300, 10, 0); len(r.DeadPacks) != 1 || r.DeadPacks[0].ID != PackID(6) {
		t.Fatalf("DeadPacks = %+v, want pack 6", r.DeadPacks)
	}
}
