package metatest

import (
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"

	"github.com/tessera-store/tessera/meta"
)

const mib = 1 << 20

// putPart uploads part n with content c (chunk size c.Size) and returns its ETag.
func (e *env) putPart(bucket, key, id string, n int, c Content) string {
	e.t.Helper()
	refs, packs, infos := c.Build()
	var size int64
	for _, r := range refs {
		size += int64(r.Size)
	}
	tag := etag(fmt.Sprintf("%s-%d-%v", id, n, c.Chunks))
	err := e.s.PutPart(e.ctx, &meta.PutPartRequest{ReqID: e.id(), Time: 20, Bucket: bucket, Key: key, UploadID: id,
		Part: meta.Part{Number: n, Size: size, ETag: tag, Chunks: refs}, NewPacks: packs, NewChunks: infos})
	if err != nil {
		e.t.Fatalf("PutPart %d: %v", n, err)
	}
	return tag
}

func (e *env) createUpload(bucket, key, id string) {
	e.t.Helper()
	err := e.s.CreateUpload(e.ctx, &meta.CreateUploadRequest{ReqID: e.id(), Time: 15, Upload: meta.Upload{
		Bucket: bucket, Key: key, UploadID: id,
		Object: meta.Object{ContentType: "video/mp4", UserMeta: map[string]string{"a": "b"}}}})
	if err != nil {
		e.t.Fatalf("CreateUpload: %v", err)
	}
}

func multipartETag(tags ...string) string {
	h := md5.New()
	for _, t := range tags {
		b, _ := hex.DecodeString(t)
		h.Write(b)
	}
	return fmt.Sprintf("%s-%d", hex.EncodeToString(h.Sum(nil)), len(tags))
}

func testMultipart(t *testing.T, e *env) {
	ctx := e.ctx
	e.mkBucket("bkt")
	e.createUpload("bkt", "movie", "u1")
	u, err := e.s.GetUpload(ctx, "bkt", "movie", "u1")
	if err != nil || u.Initiated != 15 || u.Object.ContentType != "video/mp4" {
		t.Fatalf("GetUpload = %+v, %v", u, err)
	}
	// Part 1 first with chunks 1,2 then replaced by 3,4 (5 MiB + 1 MiB).
	e.putPart("bkt", "movie", "u1", 1, Content{Pack: 1, Chunks: []int{1, 2}, Size: 3 * mib})
	if r := e.refs(1); r != 1 {
		t.Fatalf("refs(1) = %d", r)
	}
	t1 := e.putPart("bkt", "movie", "u1", 1, Content{Pack: 2, Chunks: []int{3, 4}, Size: 3 * mib})
	if r1, r3 := e.refs(1), e.refs(3); r1 != 0 || r3 != 1 {
		t.Fatalf("after replacing part 1: refs(1) = %d, refs(3) = %d", r1, r3)
	}
	t2 := e.putPart("bkt", "movie", "u1", 2, Content{Pack: 3, Chunks: []int{5}, Size: mib})
	e.putPart("bkt", "movie", "u1", 3, Content{Pack: 4, Chunks: []int{6, 4}, Size: 3 * mib}) // not completed
	p, err := e.s.GetPart(ctx, "bkt", "movie", "u1", 2)
	if err != nil || p.Size != mib || p.ETag != t2 || len(p.Chunks) != 1 || p.Modified != 20 {
		t.Fatalf("GetPart = %+v, %v", p, err)
	}
	if _, err := e.s.GetPart(ctx, "bkt", "movie", "u1", 9); !errors.Is(err, meta.ErrInvalidPart) {
		t.Fatalf("GetPart(9) = %v", err)
	}
	lp, err := e.s.ListParts(ctx, &meta.ListPartsRequest{Bucket: "bkt", Key: "movie", UploadID: "u1"})
	if err != nil || len(lp.Parts) != 3 || lp.IsTruncated || lp.Parts[0].Number != 1 || len(lp.Parts[0].Chunks) != 0 {
		t.Fatalf("ListParts = %+v, %v", lp, err)
	}
	lp, err = e.s.ListParts(ctx, &meta.ListPartsRequest{Bucket: "bkt", Key: "movie", UploadID: "u1", Marker: 1, MaxParts: 1})
	if err != nil || len(lp.Parts) != 1 || lp.Parts[0].Number != 2 || !lp.IsTruncated || lp.NextMarker != 2 {
		t.Fatalf("ListParts page = %+v, %v", lp, err)
	}
	if st := e.stats(); st.Uploads != 1 || st.Chunks != 5 {
		t.Fatalf("Stats = %+v", st)
	}
	// Complete with parts 1 and 2; part 3 is released.
	o, err := e.s.CompleteUpload(ctx, &meta.CompleteUploadRequest{ReqID: e.id(), Time: 30, Bucket: "bkt", Key: "movie", UploadID: "u1",
		Parts: []meta.CompletedPart{cp(1, t1), cp(2, `"`+t2+`"`)}, Checksums: map[string]string{"CRC32": "x"}})
	if err != nil {
		t.Fatal(err)
	}
	if want := multipartETag(t1, t2); o.ETag != want || o.Size != 7*mib || o.Modified != 30 {
		t.Fatalf("CompleteUpload = %+v, want ETag %s", o, want)
	}
	got, err := e.s.GetObject(ctx, "bkt", "movie")
	if err != nil {
		t.Fatal(err)
	}
	var addrs []int
	for _, c := range got.Chunks {
		for n := 1; n <= 6; n++ {
			if c.Addr == Addr(n) {
				addrs = append(addrs, n)
			}
		}
	}
	if !slices.Equal(addrs, []int{3, 4, 5}) || !reflect.DeepEqual(got.PartSizes, []int64{6 * mib, mib}) ||
		got.ContentType != "video/mp4" || got.UserMeta["a"] != "b" || got.ChecksumType != "COMPOSITE" {
		t.Fatalf("completed object = %+v (chunks %v)", got, addrs)
	}
	for n, want := range map[int]int64{1: 0, 3: 1, 4: 1, 5: 1, 6: 0} {
		if r := e.refs(n); r != want {
			t.Errorf("refs(%d) = %d, want %d", n, r, want)
		}
	}
	if _, err := e.s.GetUpload(ctx, "bkt", "movie", "u1"); !errors.Is(err, meta.ErrNoSuchUpload) {
		t.Fatalf("upload still there: %v", err)
	}
	if st := e.stats(); st.Uploads != 0 || st.Objects != 1 || st.LogicalBytes != 7*mib || st.Chunks != 3 {
		t.Fatalf("Stats = %+v", st)
	}
	// Abort releases everything.
	e.createUpload("bkt", "movie", "u2")
	e.putPart("bkt", "movie", "u2", 1, Content{Pack: 5, Chunks: []int{7, 3}, Size: 3 * mib})
	if err := e.s.AbortUpload(ctx, e.id(), 40, "bkt", "movie", "u2"); err != nil {
		t.Fatal(err)
	}
	if r7, r3 := e.refs(7), e.refs(3); r7 != 0 || r3 != 1 {
		t.Fatalf("after abort: refs(7) = %d, refs(3) = %d", r7, r3)
	}
	if err := e.s.AbortUpload(ctx, e.id(), 40, "bkt", "movie", "u2"); !errors.Is(err, meta.ErrNoSuchUpload) {
		t.Fatalf("second abort = %v", err)
	}
	// A one-part inline upload.
	e.createUpload("bkt", "tiny", "u3")
	if err := e.s.PutPart(ctx, &meta.PutPartRequest{ReqID: e.id(), Time: 50, Bucket: "bkt", Key: "tiny", UploadID: "u3",
		Part: meta.Part{Number: 1, Size: 2, ETag: etag("hi"), Inline: []byte("hi")}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.CompleteUpload(ctx, &meta.CompleteUploadRequest{ReqID: e.id(), Time: 51, Bucket: "bkt", Key: "tiny", UploadID: "u3",
		Parts: []meta.CompletedPart{cp(1, etag("hi"))}}); err != nil {
		t.Fatal(err)
	}
	if got, err := e.s.GetObject(ctx, "bkt", "tiny"); err != nil || string(got.Inline) != "hi" || got.ETag != multipartETag(etag("hi")) {
		t.Fatalf("inline multipart = %+v, %v", got, err)
	}
}

func testMultipartErrors(t *testing.T, e *env) {
	ctx := e.ctx
	e.mkBucket("bkt")
	e.createUpload("bkt", "k", "u1")
	t1 := e.putPart("bkt", "k", "u1", 1, Content{Pack: 1, Chunks: []int{1}, Size: mib})
	t2 := e.putPart("bkt", "k", "u1", 2, Content{Pack: 2, Chunks: []int{2}, Size: mib})
	t3 := e.putPart("bkt", "k", "u1", 3, Content{Pack: 3, Chunks: []int{3, 4, 5, 6, 7}, Size: mib})
	tests := []struct {
		name    string
		id      string
		parts   []meta.CompletedPart
		wantErr error
	}{
		{"no upload", "nope", []meta.CompletedPart{cp(1, t1)}, meta.ErrNoSuchUpload},
		{"no parts", "u1", nil, meta.ErrInvalidPart},
		{"order", "u1", []meta.CompletedPart{cp(2, t2), cp(1, t1)}, meta.ErrInvalidPartOrder},
		{"duplicate", "u1", []meta.CompletedPart{cp(1, t1), cp(1, t1)}, meta.ErrInvalidPartOrder},
		{"etag", "u1", []meta.CompletedPart{cp(1, t2)}, meta.ErrInvalidPart},
		{"unknown part", "u1", []meta.CompletedPart{cp(1, t1), cp(4, t1)}, meta.ErrInvalidPart},
		{"too small", "u1", []meta.CompletedPart{cp(1, t1), cp(3, t3)}, meta.ErrEntityTooSmall},
	}
	for _, tt := range tests {
		_, err := e.s.CompleteUpload(ctx, &meta.CompleteUploadRequest{ReqID: e.id(), Time: 5, Bucket: "bkt", Key: "k", UploadID: tt.id, Parts: tt.parts})
		if !errors.Is(err, tt.wantErr) {
			t.Errorf("%s: CompleteUpload = %v, want %v", tt.name, err, tt.wantErr)
		}
	}
	// Part 3 (5 MiB) first, then part 1 (small, last): fine.
	o, err := e.s.CompleteUpload(ctx, &meta.CompleteUploadRequest{ReqID: e.id(), Time: 5, Bucket: "bkt", Key: "k", UploadID: "u1",
		Parts: []meta.CompletedPart{cp(3, t3)}})
	if err != nil || o.Size != 5*mib {
		t.Fatalf("CompleteUpload = %+v, %v", o, err)
	}
	// Part numbers and missing uploads.
	e.createUpload("bkt", "k", "u2")
	for _, n := range []int{0, 10001, -1} {
		err := e.s.PutPart(ctx, &meta.PutPartRequest{ReqID: e.id(), Time: 6, Bucket: "bkt", Key: "k", UploadID: "u2", Part: meta.Part{Number: n}})
		if !errors.Is(err, meta.ErrInvalidArgument) {
			t.Errorf("PutPart(number %d) = %v", n, err)
		}
	}
	if err := e.s.PutPart(ctx, &meta.PutPartRequest{ReqID: e.id(), Time: 6, Bucket: "bkt", Key: "k", UploadID: "nope", Part: meta.Part{Number: 1}}); !errors.Is(err, meta.ErrNoSuchUpload) {
		t.Errorf("PutPart(no upload) = %v", err)
	}
	if err := e.s.PutPart(ctx, &meta.PutPartRequest{ReqID: e.id(), Time: 6, Bucket: "bkt", Key: "k", UploadID: "u2", Part: meta.Part{Number: 10000}}); err != nil {
		t.Errorf("PutPart(10000) = %v", err)
	}
	if err := e.s.CreateUpload(ctx, &meta.CreateUploadRequest{ReqID: e.id(), Time: 7, Upload: meta.Upload{Bucket: "nope", Key: "k", UploadID: "x"}}); !errors.Is(err, meta.ErrNoSuchBucket) {
		t.Errorf("CreateUpload(no bucket) = %v", err)
	}
	if err := e.s.CreateUpload(ctx, &meta.CreateUploadRequest{ReqID: e.id(), Time: 7, Upload: meta.Upload{Bucket: "bkt", Key: "k", UploadID: "u2"}}); !errors.Is(err, meta.ErrInvalidArgument) {
		t.Errorf("CreateUpload(reused ID) = %v", err)
	}
	if _, err := e.s.GetUpload(ctx, "bkt", "k", "nope"); !errors.Is(err, meta.ErrNoSuchUpload) {
		t.Errorf("GetUpload(nope) = %v", err)
	}
	if _, err := e.s.ListParts(ctx, &meta.ListPartsRequest{Bucket: "bkt", Key: "k", UploadID: "nope"}); !errors.Is(err, meta.ErrNoSuchUpload) {
		t.Errorf("ListParts(nope) = %v", err)
	}
}

func testListUploads(t *testing.T, e *env) {
	ctx := e.ctx
	e.mkBucket("bkt")
	type up struct{ key, id string }
	var all []up
	for _, k := range []string{"a", "a/b", "a/c", "b", "b/x/y", "c\x00d", "c"} {
		for _, id := range []string{"2", "1", "10"} {
			e.createUpload("bkt", k, id)
			all = append(all, up{k, id})
		}
	}
	// A part must not show as an upload.
	e.putPart("bkt", "a", "1", 1, Content{Pack: 1, Chunks: []int{1}})
	slices.SortFunc(all, func(x, y up) int {
		if x.key != y.key {
			if x.key < y.key {
				return -1
			}
			return 1
		}
		if x.id < y.id {
			return -1
		} else if x.id > y.id {
			return 1
		}
		return 0
	})
	// Page through everything, two at a time.
	var got []up
	req := meta.ListUploadsRequest{Bucket: "bkt", MaxUploads: 2}
	for i := 0; ; i++ {
		r, err := e.s.ListUploads(ctx, &req)
		if err != nil || i > 30 {
			t.Fatalf("ListUploads = %v (page %d)", err, i)
		}
		for _, u := range r.Uploads {
			got = append(got, up{u.Key, u.UploadID})
		}
		if !r.IsTruncated {
			break
		}
		req.KeyMarker, req.UploadIDMarker = r.NextKeyMarker, r.NextUploadIDMarker
	}
	if !reflect.DeepEqual(got, all) {
		t.Fatalf("ListUploads pages = %q\nwant %q", got, all)
	}
	r, err := e.s.ListUploads(ctx, &meta.ListUploadsRequest{Bucket: "bkt", Delimiter: "/"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(r.CommonPrefixes, []string{"a/", "b/"}) || len(r.Uploads) != 4*3 {
		t.Fatalf("ListUploads delimiter: cps %q, %d uploads", r.CommonPrefixes, len(r.Uploads))
	}
	r, err = e.s.ListUploads(ctx, &meta.ListUploadsRequest{Bucket: "bkt", Prefix: "a/", KeyMarker: "a/b"})
	if err != nil || len(r.Uploads) != 3 || r.Uploads[0].Key != "a/c" {
		t.Fatalf("ListUploads prefix+marker = %+v, %v", r, err)
	}
	r, err = e.s.ListUploads(ctx, &meta.ListUploadsRequest{Bucket: "bkt", KeyMarker: "b", UploadIDMarker: "10"})
	if err != nil || len(r.Uploads) == 0 || r.Uploads[0].Key != "b" || r.Uploads[0].UploadID != "2" {
		t.Fatalf("ListUploads id marker = %+v, %v", r.Uploads, err)
	}
	if _, err := e.s.ListUploads(ctx, &meta.ListUploadsRequest{Bucket: "nope"}); !errors.Is(err, meta.ErrNoSuchBucket) {
		t.Fatalf("ListUploads(nope) = %v", err)
	}
}

func cp(n int, etag string) meta.CompletedPart { return meta.CompletedPart{Number: n, ETag: etag} }
