package e2e

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/minio/minio-go/v7"
)

const partSize = 5 << 20

// TestMultipart: 6 uploaded 5 MiB parts, a 5 MiB UploadPartCopy range and
// a small last part (also an UploadPartCopy range), once below the inline
// threshold (4 KiB) and once above it.
func TestMultipart(t *testing.T) {
	b := bucketName(t, "")
	mkBucket(t, shared, b)
	ctx := ctxFor(t, 3*time.Minute)
	c := shared.rootAWS(t)
	src := randBytes(100, 7<<20)
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("src"), Body: bytes.NewReader(src)}); err != nil {
		t.Fatal(err)
	}
	for _, lastSize := range []int{1000, 100 << 10} {
		t.Run(fmt.Sprintf("last=%d", lastSize), func(t *testing.T) {
			testMultipart(t, c, b, fmt.Sprintf("mp-%d", lastSize), src, lastSize)
		})
	}
}

func testMultipart(t *testing.T, c *s3.Client, b, key string, src []byte, lastSize int) {
	ctx := ctxFor(t, 3*time.Minute)
	cr, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(b), Key: aws.String(key),
		ContentType: aws.String("application/x-mp"), Metadata: map[string]string{"who": "e2e"}})
	if err != nil {
		t.Fatal(err)
	}
	id := cr.UploadId
	var whole []byte
	var parts []types.CompletedPart
	var md5s []byte
	add := func(n int32, etag *string, data []byte) {
		whole = append(whole, data...)
		parts = append(parts, types.CompletedPart{PartNumber: aws.Int32(n), ETag: etag})
		m := md5.Sum(data)
		md5s = append(md5s, m[:]...)
		if want := `"` + hex.EncodeToString(m[:]) + `"`; aws.ToString(etag) != want {
			t.Errorf("part %d ETag = %s, want %s", n, aws.ToString(etag), want)
		}
	}
	// Parts 1-6: 5 MiB each, uploaded.
	for n := int32(1); n <= 6; n++ {
		data := randBytes(uint64(200+n), partSize)
		up, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(b), Key: aws.String(key), UploadId: id, PartNumber: aws.Int32(n), Body: bytes.NewReader(data)})
		if err != nil {
			t.Fatalf("part %d: %v", n, err)
		}
		add(n, up.ETag, data)
	}
	// Part 7: a 5 MiB range of src, copied; part 8: a small range copied.
	for _, pc := range []struct {
		n          int32
		start, end int
	}{{7, 1 << 20, 1<<20 + partSize - 1}, {8, 100, 100 + lastSize - 1}} {
		up, err := c.UploadPartCopy(ctx, &s3.UploadPartCopyInput{Bucket: aws.String(b), Key: aws.String(key), UploadId: id, PartNumber: aws.Int32(pc.n),
			CopySource: aws.String(b + "/src"), CopySourceRange: aws.String(fmt.Sprintf("bytes=%d-%d", pc.start, pc.end))})
		if err != nil {
			t.Fatalf("part copy %d: %v", pc.n, err)
		}
		add(pc.n, up.CopyPartResult.ETag, src[pc.start:pc.end+1])
	}
	// Part 9: a small last part.
	last := randBytes(300, 1234)
	up, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(b), Key: aws.String(key), UploadId: id, PartNumber: aws.Int32(9), Body: bytes.NewReader(last)})
	if err != nil {
		t.Fatal(err)
	}
	// Part 8 is small and not last: completing with it must fail.
	if _, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(b), Key: aws.String(key), UploadId: id,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: append(slices.Clone(parts), types.CompletedPart{PartNumber: aws.Int32(9), ETag: up.ETag})}}); awsCode(err) != "EntityTooSmall" {
		t.Errorf("complete with a small middle part: got %q, want EntityTooSmall", awsCode(err))
	}
	// Re-upload part 8 as the small last part instead; leave part 9 out.
	_ = last

	// ListParts, paged by 4.
	var listed []int32
	var marker *string
	for pages := 0; ; pages++ {
		lp, err := c.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String(b), Key: aws.String(key), UploadId: id, MaxParts: aws.Int32(4), PartNumberMarker: marker})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range lp.Parts {
			listed = append(listed, aws.ToInt32(p.PartNumber))
		}
		if !aws.ToBool(lp.IsTruncated) || pages > 10 {
			break
		}
		marker = lp.NextPartNumberMarker
	}
	if want := []int32{1, 2, 3, 4, 5, 6, 7, 8, 9}; !slices.Equal(listed, want) {
		t.Errorf("ListParts = %v, want %v", listed, want)
	}
	lu, err := c.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(b)})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(lu.Uploads, func(u types.MultipartUpload) bool { return aws.ToString(u.UploadId) == aws.ToString(id) }) {
		t.Errorf("ListMultipartUploads does not list %s", aws.ToString(id))
	}
	if _, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b), Key: aws.String(key)}); awsCode(err) != "NotFound" {
		t.Errorf("HEAD before complete: got %q, want NotFound", awsCode(err))
	}
	done, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(b), Key: aws.String(key), UploadId: id,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}})
	if err != nil {
		t.Fatal(err)
	}
	m := md5.Sum(md5s)
	if want := fmt.Sprintf(`"%s-%d"`, hex.EncodeToString(m[:]), len(parts)); aws.ToString(done.ETag) != want {
		t.Errorf("ETag = %s, want %s", aws.ToString(done.ETag), want)
	}
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String(key)})
	if err != nil {
		t.Fatal(err)
	}
	if got, n := sha256Of(t, out.Body); got != sum(whole) {
		t.Errorf("GET %d bytes: content differs (want %d bytes)", n, len(whole))
	}
	out.Body.Close()
	if aws.ToString(out.ContentType) != "application/x-mp" || out.Metadata["who"] != "e2e" || aws.ToString(out.ETag) != aws.ToString(done.ETag) {
		t.Errorf("GET headers: %q %v %q", aws.ToString(out.ContentType), out.Metadata, aws.ToString(out.ETag))
	}
	// A range across the part 6/7 boundary.
	rg, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String(key), Range: aws.String(fmt.Sprintf("bytes=%d-%d", 6*partSize-10, 6*partSize+9))})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := sha256Of(t, rg.Body)
	rg.Body.Close()
	if got != sum(whole[6*partSize-10:6*partSize+10]) {
		t.Errorf("range across parts differs")
	}
	// The upload is gone.
	if _, err := c.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String(b), Key: aws.String(key), UploadId: id}); awsCode(err) != "NoSuchUpload" {
		t.Errorf("ListParts after complete: got %q, want NoSuchUpload", awsCode(err))
	}
}

func TestMultipartAbortAndErrors(t *testing.T) {
	b := bucketName(t, "")
	mkBucket(t, shared, b)
	ctx := ctxFor(t, time.Minute)
	c := shared.rootAWS(t)
	cr, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(b), Key: aws.String("e")})
	if err != nil {
		t.Fatal(err)
	}
	id := cr.UploadId
	etags := map[int32]*string{}
	for n := int32(1); n <= 3; n++ {
		up, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(b), Key: aws.String("e"), UploadId: id, PartNumber: aws.Int32(n), Body: bytes.NewReader(randBytes(uint64(n), 1024))})
		if err != nil {
			t.Fatal(err)
		}
		etags[n] = up.ETag
	}
	cp := func(n int32, etag *string) types.CompletedPart {
		return types.CompletedPart{PartNumber: aws.Int32(n), ETag: etag}
	}
	tests := []struct {
		name  string
		parts []types.CompletedPart
		want  string
	}{
		{"too small", []types.CompletedPart{cp(1, etags[1]), cp(2, etags[2])}, "EntityTooSmall"},
		{"order", []types.CompletedPart{cp(2, etags[2]), cp(1, etags[1])}, "InvalidPartOrder"},
		{"wrong etag", []types.CompletedPart{cp(1, aws.String(`"00000000000000000000000000000000"`))}, "InvalidPart"},
		{"missing part", []types.CompletedPart{cp(4, etags[1])}, "InvalidPart"},
		{"empty", nil, "MalformedXML"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(b), Key: aws.String("e"), UploadId: id,
				MultipartUpload: &types.CompletedMultipartUpload{Parts: tt.parts}})
			if got := awsCode(err); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
	if _, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(b), Key: aws.String("e"), UploadId: id, PartNumber: aws.Int32(10001), Body: strings.NewReader("x")}); awsCode(err) != "InvalidArgument" {
		t.Errorf("part 10001: got %q, want InvalidArgument", awsCode(err))
	}
	if _, err := c.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String(b), Key: aws.String("e"), UploadId: id}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String(b), Key: aws.String("e"), UploadId: id}); awsCode(err) != "NoSuchUpload" {
		t.Errorf("ListParts after abort: got %q, want NoSuchUpload", awsCode(err))
	}
	if _, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(b), Key: aws.String("e"), UploadId: id, PartNumber: aws.Int32(1), Body: strings.NewReader("x")}); awsCode(err) != "NoSuchUpload" {
		t.Errorf("UploadPart after abort: got %q, want NoSuchUpload", awsCode(err))
	}
	lu, err := c.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(b)})
	if err != nil {
		t.Fatal(err)
	}
	if len(lu.Uploads) != 0 {
		t.Errorf("%d uploads listed after abort", len(lu.Uploads))
	}
	if _, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b), Key: aws.String("e")}); awsCode(err) != "NotFound" {
		t.Errorf("HEAD after abort: got %q, want NotFound", awsCode(err))
	}
}

// TestMultipartMinio: minio-go switches to multipart above PartSize.
func TestMultipartMinio(t *testing.T) {
	b := bucketName(t, "")
	mkBucket(t, shared, b)
	ctx := ctxFor(t, 2*time.Minute)
	mc := shared.rootMinio(t)
	const n = 16<<20 + 5
	info, err := mc.PutObject(ctx, b, "big", newSeeded(42, n, -1), n, minio.PutObjectOptions{PartSize: partSize})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(strings.Trim(info.ETag, `"`), "-4") {
		t.Errorf("ETag = %s, want a 4-part ETag", info.ETag)
	}
	want, _ := sha256Of(t, newSeeded(42, n, -1))
	obj, err := mc.GetObject(ctx, b, "big", minio.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Close()
	if got, m := sha256Of(t, obj); got != want || m != n {
		t.Errorf("GET %d bytes: content differs", m)
	}
}
