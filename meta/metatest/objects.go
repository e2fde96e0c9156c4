package metatest

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/tessera-store/tessera/chunk"
	"github.com/tessera-store/tessera/meta"
)

func testBuckets(t *testing.T, e *env) {
	ctx := e.ctx
	if err := e.s.CreateBucket(ctx, e.id(), 5, meta.Bucket{Name: "photos", Owner: "alice", Region: "eu"}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		b       meta.Bucket
		wantErr error
	}{
		{"same owner", meta.Bucket{Name: "photos", Owner: "alice"}, meta.ErrBucketOwnedByYou},
		{"other owner", meta.Bucket{Name: "photos", Owner: "bob"}, meta.ErrBucketExists},
		{"bad name", meta.Bucket{Name: "Photos", Owner: "bob"}, meta.ErrInvalidBucketName},
		{"bad domain key", meta.Bucket{Name: "keyed", Owner: "bob", DomainKey: []byte{1, 2}}, meta.ErrInvalidArgument},
		{"domain key", meta.Bucket{Name: "keyed", Owner: "bob", DomainKey: make([]byte, 32)}, nil},
		{"second", meta.Bucket{Name: "archive", Owner: "bob"}, nil},
	}
	for _, tt := range tests {
		if err := e.s.CreateBucket(ctx, e.id(), 6, tt.b); !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
			t.Errorf("%s: CreateBucket = %v, want %v", tt.name, err, tt.wantErr)
		}
	}
	b, err := e.s.GetBucket(ctx, "photos")
	if err != nil || b.Owner != "alice" || b.Region != "eu" || b.Created != 5 {
		t.Fatalf("GetBucket = %+v, %v", b, err)
	}
	if _, err := e.s.GetBucket(ctx, "nope"); !errors.Is(err, meta.ErrNoSuchBucket) {
		t.Fatalf("GetBucket(nope) = %v", err)
	}
	bs, err := e.s.ListBuckets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, b := range bs {
		names = append(names, b.Name)
	}
	if want := []string{"archive", "keyed", "photos"}; !reflect.DeepEqual(names, want) {
		t.Fatalf("ListBuckets = %v, want %v", names, want)
	}
	if st := e.stats(); st.Buckets != 3 {
		t.Fatalf("Stats.Buckets = %d", st.Buckets)
	}
	// Delete: missing, not empty (object, then upload), empty.
	if err := e.s.DeleteBucket(ctx, e.id(), 7, "nope"); !errors.Is(err, meta.ErrNoSuchBucket) {
		t.Fatalf("DeleteBucket(nope) = %v", err)
	}
	e.putInline("photos", "a.jpg", "x")
	if err := e.s.DeleteBucket(ctx, e.id(), 7, "photos"); !errors.Is(err, meta.ErrBucketNotEmpty) {
		t.Fatalf("DeleteBucket(non-empty) = %v", err)
	}
	if err := e.s.DeleteObject(ctx, &meta.DeleteObjectRequest{ReqID: e.id(), Time: 8, Bucket: "photos", Key: "a.jpg"}); err != nil {
		t.Fatal(err)
	}
	if err := e.s.CreateUpload(ctx, &meta.CreateUploadRequest{ReqID: e.id(), Time: 8, Upload: meta.Upload{Bucket: "photos", Key: "big", UploadID: "u1"}}); err != nil {
		t.Fatal(err)
	}
	if err := e.s.DeleteBucket(ctx, e.id(), 9, "photos"); !errors.Is(err, meta.ErrBucketNotEmpty) {
		t.Fatalf("DeleteBucket(upload) = %v", err)
	}
	if err := e.s.AbortUpload(ctx, e.id(), 9, "photos", "big", "u1"); err != nil {
		t.Fatal(err)
	}
	// A bucket whose name prefixes another's must not see its objects.
	e.mkBucket("photos2")
	e.putInline("photos2", "k", "v")
	if err := e.s.DeleteBucket(ctx, e.id(), 10, "photos"); err != nil {
		t.Fatalf("DeleteBucket(empty) = %v", err)
	}
	if _, err := e.s.GetBucket(ctx, "photos"); !errors.Is(err, meta.ErrNoSuchBucket) {
		t.Fatalf("GetBucket after delete = %v", err)
	}
	if st := e.stats(); st.Buckets != 3 || st.Objects != 1 || st.Uploads != 0 {
		t.Fatalf("Stats = %+v", st)
	}
}

func testBucketNames(t *testing.T, e *env) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"abc", true}, {"my-bucket.v2", true}, {"a1b", true}, {strings.Repeat("a", 63), true},
		{"ab", false}, {strings.Repeat("a", 64), false}, {"ABC", false}, {"-abc", false}, {"abc-", false},
		{"a..b", false}, {"192.168.1.1", false}, {"xn--abc", false}, {"sthree-abc", false},
		{"abc-s3alias", false}, {"abc--ol-s3", false}, {"ab_c", false}, {"ab c", false}, {".abc", false},
		{"a/b", false},
	}
	for _, tt := range tests {
		err := e.s.CreateBucket(e.ctx, e.id(), 1, meta.Bucket{Name: tt.name, Owner: "o"})
		if tt.ok != (err == nil) || (!tt.ok && !errors.Is(err, meta.ErrInvalidBucketName)) {
			t.Errorf("CreateBucket(%q) = %v, want ok=%v", tt.name, err, tt.ok)
		}
	}
}

func testObjects(t *testing.T, e *env) {
	ctx := e.ctx
	e.mkBucket("bkt")
	in := meta.Object{Bucket: "bkt", Key: "dir/é.txt", Size: 5, ETag: etag("hello"), ContentType: "text/plain",
		Headers:  map[string]string{"Cache-Control": "no-cache"},
		UserMeta: map[string]string{"color": "blue"}, Tags: map[string]string{"k": "v"},
		Checksums: map[string]string{"CRC32": "AAAAAA=="}, ChecksumType: "FULL_OBJECT", Inline: []byte("hello")}
	if err := e.s.PutObject(ctx, &meta.PutObjectRequest{ReqID: e.id(), Time: 42, Object: in}); err != nil {
		t.Fatal(err)
	}
	got, err := e.s.GetObject(ctx, "bkt", "dir/é.txt")
	if err != nil {
		t.Fatal(err)
	}
	want := in
	want.Modified = 42
	if !reflect.DeepEqual(*got, want) {
		t.Fatalf("GetObject = %+v\nwant %+v", *got, want)
	}
	// A chunked object, then overwrite it.
	o := e.putChunks("bkt", "big", Content{Pack: 1, Chunks: []int{1, 2, 3}}, 50)
	got, err = e.s.GetObject(ctx, "bkt", "big")
	if err != nil || !reflect.DeepEqual(got.Chunks, o.Chunks) || got.Size != 3000 || got.Modified != 50 {
		t.Fatalf("GetObject(big) = %+v, %v", got, err)
	}
	e.putChunks("bkt", "big", Content{Pack: 2, Chunks: []int{4}}, 60)
	for n, want := range map[int]int64{1: 0, 2: 0, 3: 0, 4: 1} {
		if r := e.refs(n); r != want {
			t.Errorf("refs(%d) = %d, want %d", n, r, want)
		}
	}
	st := e.stats()
	if st.Objects != 2 || st.LogicalBytes != 5+1000 || st.Chunks != 1 || st.UniqueChunks != 1 || st.Packs != 2 {
		t.Fatalf("Stats = %+v", st)
	}
	// Errors.
	tests := []struct {
		name    string
		bucket  string
		key     string
		wantErr error
	}{
		{"missing key", "bkt", "nope", meta.ErrNoSuchKey},
		{"missing bucket", "nope", "k", meta.ErrNoSuchBucket},
		{"empty key", "bkt", "", meta.ErrInvalidKey},
		{"long key", "bkt", strings.Repeat("k", 1025), meta.ErrInvalidKey},
		{"bad utf8", "bkt", "\xff\xfe", meta.ErrInvalidKey},
	}
	for _, tt := range tests {
		if _, err := e.s.GetObject(ctx, tt.bucket, tt.key); !errors.Is(err, tt.wantErr) {
			t.Errorf("GetObject %s = %v, want %v", tt.name, err, tt.wantErr)
		}
	}
	// Delete: present, missing (succeeds), missing bucket.
	for _, key := range []string{"big", "big"} {
		if err := e.s.DeleteObject(ctx, &meta.DeleteObjectRequest{ReqID: e.id(), Time: 70, Bucket: "bkt", Key: key}); err != nil {
			t.Fatalf("DeleteObject(%s) = %v", key, err)
		}
	}
	if err := e.s.DeleteObject(ctx, &meta.DeleteObjectRequest{ReqID: e.id(), Time: 70, Bucket: "nope", Key: "k"}); !errors.Is(err, meta.ErrNoSuchBucket) {
		t.Fatalf("DeleteObject(missing bucket) = %v", err)
	}
	if r := e.refs(4); r != 0 {
		t.Fatalf("refs after delete = %d", r)
	}
	if st := e.stats(); st.Objects != 1 || st.LogicalBytes != 5 || st.Chunks != 0 || st.UniqueChunks != 0 {
		t.Fatalf("Stats after delete = %+v", st)
	}
	// Empty object.
	if err := e.s.PutObject(ctx, &meta.PutObjectRequest{ReqID: e.id(), Time: 80, Object: meta.Object{Bucket: "bkt", Key: "empty", ETag: etag("")}}); err != nil {
		t.Fatal(err)
	}
	if got, err := e.s.GetObject(ctx, "bkt", "empty"); err != nil || got.Size != 0 {
		t.Fatalf("GetObject(empty) = %+v, %v", got, err)
	}
}

func testConditional(t *testing.T, e *env) {
	e.mkBucket("bkt")
	put := func(ifMatch, ifNoneMatch, data string) error {
		return e.s.PutObject(e.ctx, &meta.PutObjectRequest{ReqID: e.id(), Time: 1, IfMatch: ifMatch, IfNoneMatch: ifNoneMatch,
			Object: meta.Object{Bucket: "bkt", Key: "k", Size: int64(len(data)), ETag: etag(data), Inline: []byte(data)}})
	}
	tests := []struct {
		name                 string
		ifMatch, ifNoneMatch string
		wantErr              error
	}{
		{"if-match on missing", etag("a"), "", meta.ErrPrecondition},
		{"if-none-match on missing", "", "*", nil},
		{"if-none-match on present", "", "*", meta.ErrPrecondition},
		{"if-match wrong", etag("zzz"), "", meta.ErrPrecondition},
		{"if-match right", etag("a"), "", nil},
		{"if-match quoted", `"` + etag("a") + `"`, "", nil},
		{"if-none-match not star", "", etag("a"), meta.ErrInvalidArgument},
	}
	for _, tt := range tests {
		if err := put(tt.ifMatch, tt.ifNoneMatch, "a"); !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
			t.Errorf("%s: PutObject = %v, want %v", tt.name, err, tt.wantErr)
		}
	}
}

func testMissingChunks(t *testing.T, e *env) {
	e.mkBucket("bkt")
	e.putChunks("bkt", "base", Content{Pack: 1, Chunks: []int{1}}, 1)
	// Chunk 1 is indexed; 2 and 3 are neither indexed nor new.
	o := meta.Object{Bucket: "bkt", Key: "k", Size: 3000, ETag: etag("k"), Chunks: []meta.ChunkRef{
		{Addr: Addr(2), Size: 1000}, {Addr: Addr(1), Size: 1000}, {Addr: Addr(3), Size: 1000}}}
	err := e.s.PutObject(e.ctx, &meta.PutObjectRequest{ReqID: e.id(), Time: 2, Object: o})
	var mce *meta.MissingChunksError
	if !errors.As(err, &mce) || !errors.Is(err, meta.ErrMissingChunks) {
		t.Fatalf("PutObject = %v, want *MissingChunksError", err)
	}
	if want := []chunk.Addr{Addr(2), Addr(3)}; !reflect.DeepEqual(mce.Addrs, want) {
		t.Fatalf("missing = %v, want %v", mce.Addrs, want)
	}
	if _, err := e.s.GetObject(e.ctx, "bkt", "k"); !errors.Is(err, meta.ErrNoSuchKey) {
		t.Fatalf("failed commit is visible: %v", err)
	}
	if r := e.refs(1); r != 1 {
		t.Fatalf("failed commit changed refs: %d", r)
	}
	// The retry with the chunks registered succeeds.
	_, packs, infos := Content{Pack: 2, Chunks: []int{2, 3}}.Build()
	if err := e.s.PutObject(e.ctx, &meta.PutObjectRequest{ReqID: e.id(), Time: 3, Object: o, NewPacks: packs, NewChunks: infos}); err != nil {
		t.Fatalf("retry: %v", err)
	}
	if r := e.refs(1); r != 2 {
		t.Fatalf("refs(1) = %d", r)
	}
}

func testLimits(t *testing.T, e *env) {
	e.mkBucket("bkt")
	big := map[string]string{"m": strings.Repeat("x", 2100)}
	tags := map[string]string{}
	for i := 0; i < 11; i++ {
		tags[string(rune('a'+i))] = "v"
	}
	refs, packs, infos := Content{Pack: 1, Chunks: []int{1}}.Build()
	badPack := packs[0]
	badPack.Nodes = []string{"n1"}
	badChunk := infos[0]
	badChunk.Length = 0
	farChunk := infos[0]
	farChunk.Offset = 1 << 40
	tests := []struct {
		name    string
		o       meta.Object
		packs   []meta.Pack
		chunks  []meta.ChunkInfo
		wantErr error
	}{
		{"key too long", meta.Object{Key: strings.Repeat("k", 1025)}, nil, nil, meta.ErrInvalidKey},
		{"user meta", meta.Object{Key: "k", UserMeta: big}, nil, nil, meta.ErrInvalidArgument},
		{"tags", meta.Object{Key: "k", Tags: tags}, nil, nil, meta.ErrInvalidArgument},
		{"size mismatch inline", meta.Object{Key: "k", Size: 3, Inline: []byte("ab")}, nil, nil, meta.ErrInvalidArgument},
		{"size mismatch chunks", meta.Object{Key: "k", Size: 1, Chunks: refs}, packs, infos, meta.ErrInvalidArgument},
		{"inline and chunks", meta.Object{Key: "k", Size: 1000, Chunks: refs, Inline: []byte("a")}, packs, infos, meta.ErrInvalidArgument},
		{"pack nodes", meta.Object{Key: "k", Size: 1000, Chunks: refs}, []meta.Pack{badPack}, infos, meta.ErrInvalidArgument},
		{"chunk length", meta.Object{Key: "k", Size: 1000, Chunks: refs}, packs, []meta.ChunkInfo{badChunk}, meta.ErrInvalidArgument},
		{"chunk beyond pack", meta.Object{Key: "k", Size: 1000, Chunks: refs}, packs, []meta.ChunkInfo{farChunk}, meta.ErrInvalidArgument},
		{"chunk in unknown pack", meta.Object{Key: "k", Size: 1000, Chunks: refs}, nil, infos, meta.ErrInvalidArgument},
		{"duplicate pack", meta.Object{Key: "k", Size: 1000, Chunks: refs}, append(packs, packs...), infos, meta.ErrInvalidArgument},
		{"negative size", meta.Object{Key: "k", Size: -1}, nil, nil, meta.ErrInvalidArgument},
	}
	for _, tt := range tests {
		tt.o.Bucket = "bkt"
		err := e.s.PutObject(e.ctx, &meta.PutObjectRequest{ReqID: e.id(), Time: 1, Object: tt.o, NewPacks: tt.packs, NewChunks: tt.chunks})
		if !errors.Is(err, tt.wantErr) {
			t.Errorf("%s: PutObject = %v, want %v", tt.name, err, tt.wantErr)
		}
	}
	if st := e.stats(); st.Objects != 0 || st.Packs != 0 || st.UniqueChunks != 0 {
		t.Fatalf("rejected commits changed stats: %+v", st)
	}
}

func testTags(t *testing.T, e *env) {
	e.mkBucket("bkt")
	e.putInline("bkt", "k", "data")
	if err := e.s.PutObjectTags(e.ctx, e.id(), 2, "bkt", "k", map[string]string{"a": "1", "b": "2"}); err != nil {
		t.Fatal(err)
	}
	o, err := e.s.GetObject(e.ctx, "bkt", "k")
	if err != nil || !reflect.DeepEqual(o.Tags, map[string]string{"a": "1", "b": "2"}) || string(o.Inline) != "data" {
		t.Fatalf("GetObject = %+v, %v", o, err)
	}
	many := map[string]string{}
	for i := 0; i < 11; i++ {
		many[strings.Repeat("t", i+1)] = "v"
	}
	tests := []struct {
		name    string
		key     string
		tags    map[string]string
		wantErr error
	}{
		{"too many", "k", many, meta.ErrInvalidArgument},
		{"missing key", "nope", nil, meta.ErrNoSuchKey},
		{"clear", "k", nil, nil},
	}
	for _, tt := range tests {
		err := e.s.PutObjectTags(e.ctx, e.id(), 3, "bkt", tt.key, tt.tags)
		if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
			t.Errorf("%s: PutObjectTags = %v, want %v", tt.name, err, tt.wantErr)
		}
	}
	if o, _ := e.s.GetObject(e.ctx, "bkt", "k"); len(o.Tags) != 0 {
		t.Fatalf("tags not cleared: %v", o.Tags)
	}
}
