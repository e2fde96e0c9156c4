package s3api

import (
	"bytes"
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"hash/crc32"
	"net/http"
	"strings"
	"testing"

	"github.com/minio/minio-go/v7"

	"github.com/tessera-store/tessera/meta"
)

func b64(sum []byte) string { return base64.StdEncoding.EncodeToString(sum) }

func crc32cOf(b []byte) string {
	h := crc32.New(crc32.MakeTable(crc32.Castagnoli))
	h.Write(b)
	return b64(h.Sum(nil))
}

func crc32Of(b []byte) string {
	h := crc32.NewIEEE()
	h.Write(b)
	return b64(h.Sum(nil))
}

// putMultipart uploads data in 5 MiB parts with checksum cs.
func putMultipart(t *testing.T, c *minio.Client, bucket, key string, data []byte, cs minio.ChecksumType) minio.UploadInfo {
	t.Helper()
	info, err := c.PutObject(context.Background(), bucket, key, bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{
		PartSize: 5 << 20, Checksum: cs, DisableContentSha256: true,
	})
	if err != nil {
		t.Fatalf("PutObject %s: %v", key, err)
	}
	return info
}

func TestGetObjectAttributes(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.minio(t, aliceKey, aliceSecret)
	mustMakeBucket(t, c, "attrs")
	data := randBytes(7, 10<<20+1000) // parts of 5 MiB, 5 MiB, 1000 B
	info := putMultipart(t, c, "attrs", "big", data, minio.ChecksumCRC32C)

	a, err := c.GetObjectAttributes(ctx, "attrs", "big", minio.ObjectAttributesOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if a.ETag != info.ETag || a.ObjectSize != len(data) || a.StorageClass != "STANDARD" {
		t.Errorf("ETag %q size %d class %q; want %q %d STANDARD", a.ETag, a.ObjectSize, a.StorageClass, info.ETag, len(data))
	}
	if a.Checksum.ChecksumCRC32C == "" || strings.Contains(a.Checksum.ChecksumCRC32C, "-") || a.Checksum.ChecksumType != "COMPOSITE" {
		t.Errorf("Checksum = %+v", a.Checksum)
	}
	op := a.ObjectParts
	if op.PartsCount != 3 || len(op.Parts) != 3 || op.IsTruncated || op.NextPartNumberMarker != 3 {
		t.Fatalf("ObjectParts = %+v", op)
	}
	for i, p := range op.Parts {
		lo := i * (5 << 20)
		hi := min(lo+5<<20, len(data))
		if p.PartNumber != i+1 || p.Size != hi-lo || p.ChecksumCRC32C != crc32cOf(data[lo:hi]) {
			t.Errorf("part %d = %+v", i+1, *p)
		}
	}

	// max-parts above 1000 is capped.
	a, err = c.GetObjectAttributes(ctx, "attrs", "big", minio.ObjectAttributesOptions{MaxParts: 10000})
	if err != nil || len(a.ObjectParts.Parts) != 3 || a.ObjectParts.MaxParts != 1000 {
		t.Errorf("max-parts 10000: %v %+v", err, a)
	}

	// Paging: after part 1, one part.
	a, err = c.GetObjectAttributes(ctx, "attrs", "big", minio.ObjectAttributesOptions{PartNumberMarker: 1, MaxParts: 1})
	if err != nil {
		t.Fatal(err)
	}
	op = a.ObjectParts
	if len(op.Parts) != 1 || op.Parts[0].PartNumber != 2 || !op.IsTruncated || op.NextPartNumberMarker != 2 || op.PartNumberMarker != 1 || op.MaxParts != 1 {
		t.Errorf("page = %+v", op)
	}

	// A single-part object has no ObjectParts and a FULL_OBJECT checksum.
	small := []byte("hello attributes")
	if _, err := c.PutObject(ctx, "attrs", "small", bytes.NewReader(small), int64(len(small)), minio.PutObjectOptions{Checksum: minio.ChecksumCRC32}); err != nil {
		t.Fatal(err)
	}
	a, err = c.GetObjectAttributes(ctx, "attrs", "small", minio.ObjectAttributesOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if a.ObjectParts.PartsCount != 0 || len(a.ObjectParts.Parts) != 0 || a.Checksum.ChecksumCRC32 != crc32Of(small) || a.Checksum.ChecksumType != "FULL_OBJECT" {
		t.Errorf("small = %+v", a.ObjectAttributesResponse)
	}

	// Errors.
	if _, err := c.GetObjectAttributes(ctx, "attrs", "missing", minio.ObjectAttributesOptions{}); errCode(err) != "NoSuchKey" {
		t.Errorf("missing key: %v", err)
	}
	if _, err := c.GetObjectAttributes(ctx, "nobucket", "k", minio.ObjectAttributesOptions{}); errCode(err) != "NoSuchBucket" {
		t.Errorf("missing bucket: %v", err)
	}
	if _, err := c.GetObjectAttributes(ctx, "attrs", "small", minio.ObjectAttributesOptions{VersionID: "0b4f7a3c-3d6f-4c3e-9b1e-4a0f7c1d2e3f"}); errCode(err) != "NoSuchVersion" {
		t.Errorf("unknown version: %v", err)
	}
	for _, tt := range []struct {
		name string
		hdr  map[string]string
		code string
	}{
		{"no header", nil, "InvalidArgument"},
		{"unknown attribute", map[string]string{"x-amz-object-attributes": "ETag,Colour"}, "InvalidArgument"},
		{"bad max-parts", map[string]string{"x-amz-object-attributes": "ObjectParts", "x-amz-max-parts": "-1"}, "InvalidArgument"},
		{"bad marker", map[string]string{"x-amz-object-attributes": "ObjectParts", "x-amz-part-number-marker": "x"}, "InvalidArgument"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := e.do(t, "GET", "/attrs/small?attributes", nil, tt.hdr)
			if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "<Code>"+tt.code+"</Code>") {
				t.Errorf("status %d body %s", resp.StatusCode, body)
			}
		})
	}

	// Only the attributes asked for are returned.
	resp, body := e.do(t, "GET", "/attrs/small?attributes", nil, map[string]string{"x-amz-object-attributes": "ObjectSize"})
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "<ObjectSize>16</ObjectSize>") || strings.Contains(string(body), "<ETag>") {
		t.Errorf("ObjectSize only: %d %s", resp.StatusCode, body)
	}
}

func TestPartNumberChecksum(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.minio(t, aliceKey, aliceSecret)
	mustMakeBucket(t, c, "parts")
	data := randBytes(8, 10<<20+10)
	putMultipart(t, c, "parts", "k", data, minio.ChecksumFullObjectCRC32C)

	st, err := c.StatObject(ctx, "parts", "k", minio.StatObjectOptions{Checksum: true})
	if err != nil {
		t.Fatal(err)
	}
	if st.ChecksumCRC32C != crc32cOf(data) || st.ChecksumMode != "FULL_OBJECT" {
		t.Errorf("whole object: %q %q, want %q FULL_OBJECT", st.ChecksumCRC32C, st.ChecksumMode, crc32cOf(data))
	}
	opts := minio.GetObjectOptions{Checksum: true, PartNumber: 2}
	r, err := c.GetObject(ctx, "parts", "k", opts)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	st, err = r.Stat()
	if err != nil {
		t.Fatal(err)
	}
	if want := crc32cOf(data[5<<20 : 10<<20]); st.ChecksumCRC32C != want {
		t.Errorf("part 2 checksum %q, want %q", st.ChecksumCRC32C, want)
	}
}

func TestCopyObjectChecksums(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.minio(t, aliceKey, aliceSecret)
	mustMakeBucket(t, c, "copies")
	data := randBytes(9, 10<<20+77)
	sha1sum, sha256sum := sha1.Sum(data), sha256.Sum256(data)
	putMultipart(t, c, "copies", "crc", data, minio.ChecksumCRC32)
	putMultipart(t, c, "copies", "sha", data, minio.ChecksumSHA1)
	plain := []byte("no checksum here")
	if _, err := c.PutObject(ctx, "copies", "plain", bytes.NewReader(plain), int64(len(plain)), minio.PutObjectOptions{DisableContentSha256: true}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, src string
		alg       minio.ChecksumType
		check     func(minio.ObjectInfo) bool
	}{
		// Composite CRC32 source: combined from the part CRCs.
		{"crc combined", "crc", minio.ChecksumNone, func(o minio.ObjectInfo) bool { return o.ChecksumCRC32 == crc32Of(data) }},
		// Composite SHA1 source: streamed.
		{"sha streamed", "sha", minio.ChecksumNone, func(o minio.ObjectInfo) bool { return o.ChecksumSHA1 == b64(sha1sum[:]) }},
		// A requested algorithm replaces the source's.
		{"sha256 requested", "crc", minio.ChecksumSHA256, func(o minio.ObjectInfo) bool {
			return o.ChecksumSHA256 == b64(sha256sum[:]) && o.ChecksumCRC32 == ""
		}},
		{"crc32c of plain", "plain", minio.ChecksumCRC32C, func(o minio.ObjectInfo) bool { return o.ChecksumCRC32C == crc32cOf(plain) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst := minio.CopyDestOptions{Bucket: "copies", Object: tt.name + "-copy", ChecksumType: tt.alg}
			if _, err := c.CopyObject(ctx, dst, minio.CopySrcOptions{Bucket: "copies", Object: tt.src}); err != nil {
				t.Fatal(err)
			}
			st, err := c.StatObject(ctx, "copies", dst.Object, minio.StatObjectOptions{Checksum: true})
			if err != nil {
				t.Fatal(err)
			}
			if st.ChecksumMode != "FULL_OBJECT" || !tt.check(st) {
				t.Errorf("copy: mode %q crc32 %q crc32c %q sha1 %q sha256 %q crc64 %q", st.ChecksumMode,
					st.ChecksumCRC32, st.ChecksumCRC32C, st.ChecksumSHA1, st.ChecksumSHA256, st.ChecksumCRC64NVME)
			}
		})
	}
	// An unknown algorithm is refused.
	resp, body := e.do(t, "PUT", "/copies/bad-copy", nil, map[string]string{"x-amz-copy-source": "/copies/plain", "x-amz-checksum-algorithm": "ADLER32"})
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "<Code>InvalidRequest</Code>") {
		t.Errorf("bad algorithm: %d %s", resp.StatusCode, body)
	}
}

func TestPutChecksumAlgorithmOnly(t *testing.T) {
	e := newEnv(t)
	c := e.minio(t, aliceKey, aliceSecret)
	mustMakeBucket(t, c, "auto")
	body := []byte("server computes this one")
	resp, out := e.do(t, "PUT", "/auto/k", body, map[string]string{"x-amz-checksum-algorithm": "CRC32C"})
	if resp.StatusCode != http.StatusOK || resp.Header.Get("x-amz-checksum-crc32c") != crc32cOf(body) {
		t.Errorf("status %d crc32c %q want %q: %s", resp.StatusCode, resp.Header.Get("x-amz-checksum-crc32c"), crc32cOf(body), out)
	}
	resp, _ = e.do(t, "PUT", "/auto/k2", body, map[string]string{"x-amz-checksum-algorithm": "NOPE"})
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("unknown algorithm: status %d", resp.StatusCode)
	}
}

func TestListWithMetadata(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.minio(t, aliceKey, aliceSecret)
	mustMakeBucket(t, c, "listmeta")
	for _, k := range []string{"a", "b"} {
		if _, err := c.PutObject(ctx, "listmeta", k, strings.NewReader("x"), 1, minio.PutObjectOptions{
			UserMetadata: map[string]string{"Marker": "m-" + k, "bad!name": "skipped"}, ContentType: "text/plain",
		}); err != nil {
			t.Fatal(err)
		}
	}
	n := 0
	for o := range c.ListObjects(ctx, "listmeta", minio.ListObjectsOptions{WithMetadata: true, Recursive: true}) {
		if o.Err != nil {
			t.Fatal(o.Err)
		}
		n++
		if o.UserMetadataStripped["Marker"] != "m-"+o.Key {
			t.Errorf("%s: metadata %v", o.Key, o.UserMetadata)
		}
	}
	if n != 2 {
		t.Errorf("listed %d objects", n)
	}
	// Without metadata=true there is no UserMetadata element.
	_, body := e.do(t, "GET", "/listmeta?list-type=2", nil, nil)
	if strings.Contains(string(body), "UserMetadata") {
		t.Errorf("plain listing carries metadata: %s", body)
	}
	_, body = e.do(t, "GET", "/listmeta?list-type=2&metadata=true", nil, nil)
	if !strings.Contains(string(body), "<X-Amz-Meta-Marker>m-a</X-Amz-Meta-Marker>") || !strings.Contains(string(body), "<content-type>text/plain</content-type>") || strings.Contains(string(body), "bad!name") {
		t.Errorf("metadata listing: %s", body)
	}
}

func TestXMLName(t *testing.T) {
	for _, tt := range []struct {
		s  string
		ok bool
	}{
		{"X-Amz-Meta-Marker", true}, {"content-type", true}, {"_a.b", true},
		{"", false}, {"1abc", false}, {"-a", false}, {"a b", false}, {"a!b", false}, {"xmlFoo", false}, {"a<b", false},
	} {
		if got := xmlName(tt.s); got != tt.ok {
			t.Errorf("xmlName(%q) = %v, want %v", tt.s, got, tt.ok)
		}
	}
}

func TestObjectAttributesParts(t *testing.T) {
	o := &meta.Object{ETag: "e-3", Size: 30, PartSizes: []int64{10, 10, 10},
		PartChecksums: []map[string]string{{"CRC32": "AAAAAA=="}, nil, {"CRC32": "AAAAAQ=="}}}
	all := map[string]bool{"ObjectParts": true}
	tests := []struct {
		marker, max int
		nums        []int
		trunc       bool
		next        int
	}{
		{0, 1000, []int{1, 2, 3}, false, 3},
		{0, 2, []int{1, 2}, true, 2},
		{2, 5, []int{3}, false, 3},
		{3, 5, nil, false, 0},
		{0, 0, nil, true, 0},
	}
	for _, tt := range tests {
		op := objectAttributes(o, all, tt.marker, tt.max).ObjectParts
		var nums []int
		for _, p := range op.Parts {
			nums = append(nums, p.PartNumber)
		}
		if len(nums) != len(tt.nums) || op.IsTruncated != tt.trunc || op.NextPartNumberMarker != tt.next || op.PartsCount != 3 {
			t.Errorf("marker %d max %d: parts %v trunc %v next %d", tt.marker, tt.max, nums, op.IsTruncated, op.NextPartNumberMarker)
			continue
		}
		for i := range nums {
			if nums[i] != tt.nums[i] {
				t.Errorf("marker %d max %d: parts %v", tt.marker, tt.max, nums)
			}
		}
	}
	if op := objectAttributes(o, all, 0, 3).ObjectParts; op.Parts[0].ChecksumCRC32 != "AAAAAA==" || op.Parts[1].ChecksumCRC32 != "" {
		t.Errorf("part checksums %+v", op.Parts)
	}
}

func FuzzParseObjectAttributes(f *testing.F) {
	for _, s := range []string{"ETag", "ETag,Checksum,ObjectParts,StorageClass,ObjectSize", "", ",,", "Colour", " ETag , ObjectSize "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h := http.Header{}
		h.Set("x-amz-object-attributes", s)
		want, err := parseObjectAttributes(h)
		if err != nil {
			return
		}
		if len(want) == 0 {
			t.Fatalf("%q: no attributes and no error", s)
		}
		for k := range want {
			if !objectAttributeNames[k] {
				t.Fatalf("%q: accepted %q", s, k)
			}
		}
	})
}
