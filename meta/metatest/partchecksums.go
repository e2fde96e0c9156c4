package metatest

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/tessera-store/tessera/meta"
)

// putPartSums is putPart with part checksums.
func (e *env) putPartSums(bucket, key, id string, n int, c Content, sums map[string]string) string {
	e.t.Helper()
	refs, packs, infos := c.Build()
	var size int64
	for _, r := range refs {
		size += int64(r.Size)
	}
	tag := etag(fmt.Sprintf("%s-%d-%v", id, n, c.Chunks))
	err := e.s.PutPart(e.ctx, &meta.PutPartRequest{ReqID: e.id(), Time: 20, Bucket: bucket, Key: key, UploadID: id,
		Part: meta.Part{Number: n, Size: size, ETag: tag, Chunks: refs, Checksums: sums}, NewPacks: packs, NewChunks: infos})
	if err != nil {
		e.t.Fatalf("PutPart %d: %v", n, err)
	}
	return tag
}

// testPartChecksums: CompleteUpload keeps each part's checksums in
// Object.PartChecksums (in completed-part order) and the checksum type the
// upload was created with (FULL_OBJECT), and they survive GetObject.
func testPartChecksums(t *testing.T, e *env) {
	ctx := e.ctx
	e.mkBucket("bkt")
	err := e.s.CreateUpload(ctx, &meta.CreateUploadRequest{ReqID: e.id(), Time: 15, Upload: meta.Upload{
		Bucket: "bkt", Key: "full", UploadID: "u1",
		Object: meta.Object{Checksums: map[string]string{"CRC32C": ""}, ChecksumType: "FULL_OBJECT"}}})
	if err != nil {
		t.Fatal(err)
	}
	s1, s3 := map[string]string{"CRC32C": "AAAAAA=="}, map[string]string{"CRC32C": "AAAAAQ=="}
	t1 := e.putPartSums("bkt", "full", "u1", 1, Content{Pack: 1, Chunks: []int{1, 2}, Size: 3 * mib}, s1)
	e.putPartSums("bkt", "full", "u1", 2, Content{Pack: 2, Chunks: []int{3}, Size: mib}, map[string]string{"CRC32C": "AAAAAg=="})
	t3 := e.putPartSums("bkt", "full", "u1", 3, Content{Pack: 3, Chunks: []int{4}, Size: mib}, s3)
	total := map[string]string{"CRC32C": "AAAAAw=="}
	if _, err := e.s.CompleteUpload(ctx, &meta.CompleteUploadRequest{ReqID: e.id(), Time: 30, Bucket: "bkt", Key: "full", UploadID: "u1",
		Parts: []meta.CompletedPart{cp(1, t1), cp(3, t3)}, Checksums: total}); err != nil {
		t.Fatal(err)
	}
	got, err := e.s.GetObject(ctx, "bkt", "full")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.PartChecksums, []map[string]string{s1, s3}) || got.ChecksumType != "FULL_OBJECT" ||
		!reflect.DeepEqual(got.Checksums, total) {
		t.Fatalf("completed: PartChecksums %v, type %q, checksums %v", got.PartChecksums, got.ChecksumType, got.Checksums)
	}

	// Without checksums: no PartChecksums, no type.
	e.createUpload("bkt", "plain", "u2")
	p1 := e.putPart("bkt", "plain", "u2", 1, Content{Pack: 4, Chunks: []int{5}, Size: mib})
	if _, err := e.s.CompleteUpload(ctx, &meta.CompleteUploadRequest{ReqID: e.id(), Time: 31, Bucket: "bkt", Key: "plain", UploadID: "u2",
		Parts: []meta.CompletedPart{cp(1, p1)}}); err != nil {
		t.Fatal(err)
	}
	got, err = e.s.GetObject(ctx, "bkt", "plain")
	if err != nil {
		t.Fatal(err)
	}
	if got.PartChecksums != nil || got.ChecksumType != "" || len(got.Checksums) != 0 {
		t.Fatalf("plain: PartChecksums %v, type %q, checksums %v", got.PartChecksums, got.ChecksumType, got.Checksums)
	}
}
