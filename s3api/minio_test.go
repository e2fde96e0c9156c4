package s3api

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/tags"
)

func TestMinioBuckets(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	alice, bob := e.minio(t, aliceKey, aliceSecret), e.minio(t, bobKey, bobSecret)
	mustMakeBucket(t, alice, "alpha")
	mustMakeBucket(t, alice, "beta")
	mustMakeBucket(t, bob, "gamma")
	if err := alice.MakeBucket(ctx, "alpha", minio.MakeBucketOptions{}); errCode(err) != "BucketAlreadyOwnedByYou" {
		t.Errorf("recreate own bucket: %v", err)
	}
	if err := bob.MakeBucket(ctx, "alpha", minio.MakeBucketOptions{}); errCode(err) != "BucketAlreadyExists" {
		t.Errorf("create other's bucket: %v", err)
	}
	if err := alice.MakeBucket(ctx, "Bad_Name", minio.MakeBucketOptions{}); err == nil {
		t.Errorf("bad bucket name accepted")
	}
	bs, err := alice.ListBuckets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, b := range bs {
		names = append(names, b.Name)
	}
	if !slices.Equal(names, []string{"alpha", "beta"}) { // listed before frankfurt exists
		t.Errorf("alice's buckets = %v", names)
	}
	if ok, err := alice.BucketExists(ctx, "alpha"); !ok || err != nil {
		t.Errorf("BucketExists(alpha) = %v, %v", ok, err)
	}
	if ok, err := alice.BucketExists(ctx, "nope"); ok || err != nil {
		t.Errorf("BucketExists(nope) = %v, %v", ok, err)
	}
	for o := range bob.ListObjects(ctx, "alpha", minio.ListObjectsOptions{}) {
		if errCode(o.Err) != "AccessDenied" {
			t.Errorf("bob lists alice's bucket: %v", o.Err)
		}
	}
	if _, err := bob.PutObject(ctx, "alpha", "k", strings.NewReader("x"), 1, minio.PutObjectOptions{}); errCode(err) != "AccessDenied" {
		t.Errorf("bob puts into alice's bucket: %v", err)
	}
	root := e.minio(t, rootKey, rootSecret)
	if _, err := root.PutObject(ctx, "alpha", "by-root", strings.NewReader("x"), 1, minio.PutObjectOptions{}); err != nil {
		t.Errorf("root puts into alice's bucket: %v", err)
	}
	if loc, err := alice.GetBucketLocation(ctx, "alpha"); err != nil || loc != "us-east-1" {
		t.Errorf("GetBucketLocation = %q, %v", loc, err)
	}
	// Another region is recorded; minio-go then signs for it.
	if err := alice.MakeBucket(ctx, "frankfurt", minio.MakeBucketOptions{Region: "eu-central-1"}); err != nil {
		t.Fatal(err)
	}
	// (the client has a fixed region, so ask on the wire)
	if _, body := e.do(t, "GET", "/frankfurt?location", nil, nil); !strings.Contains(string(body), ">eu-central-1</LocationConstraint>") {
		t.Errorf("GetBucketLocation(frankfurt) = %s", body)
	}
	if _, err := alice.PutObject(ctx, "frankfurt", "k", strings.NewReader("x"), 1, minio.PutObjectOptions{}); err != nil {
		t.Errorf("put into eu-central-1 bucket: %v", err)
	}
	if err := alice.RemoveBucket(ctx, "alpha"); errCode(err) != "BucketNotEmpty" {
		t.Errorf("remove non-empty bucket: %v", err)
	}
	if err := alice.RemoveBucket(ctx, "beta"); err != nil {
		t.Errorf("RemoveBucket: %v", err)
	}
	if err := alice.RemoveBucket(ctx, "beta"); errCode(err) != "NoSuchBucket" {
		t.Errorf("remove missing bucket: %v", err)
	}
	if _, err := alice.GetBucketVersioning(ctx, "alpha"); err != nil {
		t.Errorf("GetBucketVersioning: %v", err)
	}
	if _, err := alice.GetBucketPolicy(ctx, "alpha"); err != nil {
		t.Errorf("GetBucketPolicy: %v", err) // minio-go maps NoSuchBucketPolicy to ""
	}
}

func TestMinioObjectRoundTrip(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.minio(t, aliceKey, aliceSecret)
	mustMakeBucket(t, c, "data")
	body := randBytes(1, 300<<10)
	key := "dir/sub dir/ünïcode+key?&=.bin"
	info, err := c.PutObject(ctx, "data", key, bytes.NewReader(body), int64(len(body)), minio.PutObjectOptions{
		ContentType:        "application/x-test",
		ContentDisposition: "attachment",
		CacheControl:       "max-age=60",
		UserMetadata:       map[string]string{"Color": "blue"},
		UserTags:           map[string]string{"team": "storage"},
		SendContentMd5:     true,
	})
	if err != nil {
		t.Fatal(err)
	}
	sum := md5.Sum(body)
	if info.ETag != hex.EncodeToString(sum[:]) {
		t.Errorf("ETag = %s, want MD5", info.ETag)
	}
	st, err := c.StatObject(ctx, "data", key, minio.StatObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if st.Size != int64(len(body)) || st.ContentType != "application/x-test" || st.UserMetadata["Color"] != "blue" ||
		st.Metadata.Get("Cache-Control") != "max-age=60" || st.Metadata.Get("Content-Disposition") != "attachment" || st.UserTagCount != 1 {
		t.Errorf("stat = %+v", st)
	}
	obj, err := c.GetObject(ctx, "data", key, minio.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(obj)
	if err != nil || !bytes.Equal(got, body) {
		t.Fatalf("GET: %d bytes, %v", len(got), err)
	}
	// Ranges.
	for _, r := range []struct{ start, end int64 }{{0, 0}, {10, 99}, {1000, int64(len(body)) - 1}} {
		opt := minio.GetObjectOptions{}
		if err := opt.SetRange(r.start, r.end); err != nil {
			t.Fatal(err)
		}
		o, err := c.GetObject(ctx, "data", key, opt)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(o)
		if err != nil || !bytes.Equal(got, body[r.start:r.end+1]) {
			t.Errorf("range %v: %d bytes, %v", r, len(got), err)
		}
	}
	opt := minio.GetObjectOptions{}
	_ = opt.SetRange(0, -100) // suffix: last 100 bytes
	o, _ := c.GetObject(ctx, "data", key, opt)
	if got, err := io.ReadAll(o); err != nil || !bytes.Equal(got, body[len(body)-100:]) {
		t.Errorf("suffix range: %d bytes, %v", len(got), err)
	}
	// Conditional reads.
	cond := minio.GetObjectOptions{}
	_ = cond.SetMatchETag("not-the-etag")
	o, _ = c.GetObject(ctx, "data", key, cond)
	if _, err := io.ReadAll(o); errCode(err) != "PreconditionFailed" {
		t.Errorf("If-Match mismatch: %v", err)
	}
	cond = minio.GetObjectOptions{}
	_ = cond.SetModified(time.Now().Add(time.Hour))
	if _, err := c.StatObject(ctx, "data", key, minio.StatObjectOptions(cond)); err == nil {
		t.Errorf("If-Modified-Since future: want 304")
	}
	// Tagging.
	tg, err := c.GetObjectTagging(ctx, "data", key, minio.GetObjectTaggingOptions{})
	if err != nil || tg.ToMap()["team"] != "storage" {
		t.Errorf("GetObjectTagging = %v, %v", tg, err)
	}
	nt, _ := tags.NewTags(map[string]string{"a": "1", "b": "2"}, true)
	if err := c.PutObjectTagging(ctx, "data", key, nt, minio.PutObjectTaggingOptions{}); err != nil {
		t.Fatal(err)
	}
	tg, _ = c.GetObjectTagging(ctx, "data", key, minio.GetObjectTaggingOptions{})
	if m := tg.ToMap(); len(m) != 2 || m["b"] != "2" {
		t.Errorf("tags after put = %v", m)
	}
	if err := c.RemoveObjectTagging(ctx, "data", key, minio.RemoveObjectTaggingOptions{}); err != nil {
		t.Fatal(err)
	}
	tg, _ = c.GetObjectTagging(ctx, "data", key, minio.GetObjectTaggingOptions{})
	if len(tg.ToMap()) != 0 {
		t.Errorf("tags after delete = %v", tg.ToMap())
	}
	// Missing things.
	if _, err := c.StatObject(ctx, "data", "missing", minio.StatObjectOptions{}); errCode(err) != "NoSuchKey" {
		t.Errorf("stat missing: %v", err)
	}
	o, _ = c.GetObject(ctx, "data", "missing", minio.GetObjectOptions{})
	if _, err := io.ReadAll(o); errCode(err) != "NoSuchKey" {
		t.Errorf("get missing: %v", err)
	}
	if _, err := c.PutObject(ctx, "nobucket", "k", strings.NewReader("x"), 1, minio.PutObjectOptions{}); errCode(err) != "NoSuchBucket" {
		t.Errorf("put into missing bucket: %v", err)
	}
	// Empty object.
	if _, err := c.PutObject(ctx, "data", "empty", bytes.NewReader(nil), 0, minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	o, _ = c.GetObject(ctx, "data", "empty", minio.GetObjectOptions{})
	if got, err := io.ReadAll(o); err != nil || len(got) != 0 {
		t.Errorf("empty: %q, %v", got, err)
	}
	if err := c.RemoveObject(ctx, "data", key, minio.RemoveObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := c.RemoveObject(ctx, "data", key, minio.RemoveObjectOptions{}); err != nil {
		t.Errorf("delete missing key: %v", err)
	}
}

func TestMinioMultipart(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.minio(t, aliceKey, aliceSecret)
	mustMakeBucket(t, c, "mpu")
	const partSize = 5 << 20
	body := randBytes(2, 2*partSize+12345) // 3 parts; TestMinioMultipartCore has 6
	info, err := c.PutObject(ctx, "mpu", "big", bytes.NewReader(body), int64(len(body)), minio.PutObjectOptions{
		PartSize: partSize, NumThreads: 2, ContentType: "application/octet-stream", DisableContentSha256: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(info.ETag, "-3") {
		t.Errorf("multipart ETag = %s, want -3", info.ETag)
	}
	o, err := c.GetObject(ctx, "mpu", "big", minio.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(o)
	if err != nil || !bytes.Equal(got, body) {
		t.Fatalf("GET multipart: %d bytes, %v", len(got), err)
	}
	// GET ?partNumber=2.
	po := minio.GetObjectOptions{PartNumber: 2}
	o, _ = c.GetObject(ctx, "mpu", "big", po)
	got, err = io.ReadAll(o)
	if err != nil || !bytes.Equal(got, body[partSize:2*partSize]) {
		t.Errorf("partNumber=2: %d bytes, %v", len(got), err)
	}
	// Low-level core API: list, abort.
	core := minio.Core{Client: c}
	id, err := core.NewMultipartUpload(ctx, "mpu", "aborted", minio.PutObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := core.PutObjectPart(ctx, "mpu", "aborted", id, 1, bytes.NewReader(body[:100]), 100, minio.PutObjectPartOptions{}); err != nil {
		t.Fatal(err)
	}
	lp, err := core.ListObjectParts(ctx, "mpu", "aborted", id, 0, 100)
	if err != nil || len(lp.ObjectParts) != 1 || lp.ObjectParts[0].Size != 100 {
		t.Errorf("ListObjectParts = %+v, %v", lp, err)
	}
	lu, err := core.ListMultipartUploads(ctx, "mpu", "", "", "", "", 100)
	if err != nil || len(lu.Uploads) != 1 || lu.Uploads[0].UploadID != id {
		t.Errorf("ListMultipartUploads = %+v, %v", lu, err)
	}
	if err := core.AbortMultipartUpload(ctx, "mpu", "aborted", id); err != nil {
		t.Fatal(err)
	}
	if err := core.AbortMultipartUpload(ctx, "mpu", "aborted", id); errCode(err) != "NoSuchUpload" {
		t.Errorf("abort twice: %v", err)
	}
	if _, err := core.CompleteMultipartUpload(ctx, "mpu", "aborted", id, []minio.CompletePart{{PartNumber: 1, ETag: "x"}}, minio.PutObjectOptions{}); errCode(err) != "NoSuchUpload" {
		t.Errorf("complete aborted: %v", err)
	}
	// A too-small non-last part and a wrong ETag.
	id, _ = core.NewMultipartUpload(ctx, "mpu", "small", minio.PutObjectOptions{})
	p1, _ := core.PutObjectPart(ctx, "mpu", "small", id, 1, bytes.NewReader(body[:10]), 10, minio.PutObjectPartOptions{})
	p2, _ := core.PutObjectPart(ctx, "mpu", "small", id, 2, bytes.NewReader(body[:10]), 10, minio.PutObjectPartOptions{})
	parts := []minio.CompletePart{{PartNumber: 1, ETag: p1.ETag}, {PartNumber: 2, ETag: p2.ETag}}
	if _, err := core.CompleteMultipartUpload(ctx, "mpu", "small", id, parts, minio.PutObjectOptions{}); errCode(err) != "EntityTooSmall" {
		t.Errorf("small part: %v", err)
	}
	if _, err := core.CompleteMultipartUpload(ctx, "mpu", "small", id, []minio.CompletePart{{PartNumber: 1, ETag: "0123"}}, minio.PutObjectOptions{}); errCode(err) != "InvalidPart" {
		t.Errorf("wrong ETag: %v", err)
	}
	if _, err := core.CompleteMultipartUpload(ctx, "mpu", "small", id, []minio.CompletePart{parts[1], parts[0]}, minio.PutObjectOptions{}); errCode(err) != "InvalidPartOrder" {
		t.Errorf("descending parts: %v", err)
	}
	if _, err := core.CompleteMultipartUpload(ctx, "mpu", "small", id, parts[:1], minio.PutObjectOptions{}); err != nil {
		t.Errorf("complete with the last part only: %v", err)
	}
}

func TestMinioCopyAndBulkDelete(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.minio(t, aliceKey, aliceSecret)
	mustMakeBucket(t, c, "src")
	mustMakeBucket(t, c, "dst")
	body := randBytes(3, 64<<10)
	if _, err := c.PutObject(ctx, "src", "a b/obj", bytes.NewReader(body), int64(len(body)), minio.PutObjectOptions{
		ContentType: "text/x-src", UserMetadata: map[string]string{"origin": "src"},
	}); err != nil {
		t.Fatal(err)
	}
	ui, err := c.CopyObject(ctx, minio.CopyDestOptions{Bucket: "dst", Object: "copy"}, minio.CopySrcOptions{Bucket: "src", Object: "a b/obj"})
	if err != nil {
		t.Fatal(err)
	}
	st, err := c.StatObject(ctx, "dst", "copy", minio.StatObjectOptions{})
	if err != nil || st.ETag != ui.ETag || st.ContentType != "text/x-src" || st.UserMetadata["Origin"] != "src" {
		t.Errorf("copy stat = %+v, %v", st, err)
	}
	if _, err := c.CopyObject(ctx, minio.CopyDestOptions{Bucket: "dst", Object: "replaced", ReplaceMetadata: true, UserMetadata: map[string]string{"new": "yes"}},
		minio.CopySrcOptions{Bucket: "src", Object: "a b/obj"}); err != nil {
		t.Fatal(err)
	}
	st, _ = c.StatObject(ctx, "dst", "replaced", minio.StatObjectOptions{})
	if st.UserMetadata["New"] != "yes" || st.UserMetadata["Origin"] != "" {
		t.Errorf("REPLACE metadata = %v", st.UserMetadata)
	}
	if _, err := c.CopyObject(ctx, minio.CopyDestOptions{Bucket: "dst", Object: "x"},
		minio.CopySrcOptions{Bucket: "src", Object: "a b/obj", MatchETag: "nope"}); errCode(err) != "PreconditionFailed" {
		t.Errorf("copy-source-if-match: %v", err)
	}
	if _, err := c.CopyObject(ctx, minio.CopyDestOptions{Bucket: "src", Object: "a b/obj"},
		minio.CopySrcOptions{Bucket: "src", Object: "a b/obj"}); errCode(err) != "InvalidRequest" {
		t.Errorf("copy onto itself: %v", err)
	}
	bob := e.minio(t, bobKey, bobSecret)
	mustMakeBucket(t, bob, "bobs")
	if _, err := bob.CopyObject(ctx, minio.CopyDestOptions{Bucket: "bobs", Object: "stolen"},
		minio.CopySrcOptions{Bucket: "src", Object: "a b/obj"}); errCode(err) != "AccessDenied" {
		t.Errorf("copy from another user's bucket: %v", err)
	}
	// Bulk delete, verbose.
	var keys []string
	for i := range 30 {
		k := fmt.Sprintf("bulk/%02d", i)
		keys = append(keys, k)
		if _, err := c.PutObject(ctx, "dst", k, strings.NewReader(k), int64(len(k)), minio.PutObjectOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	ch := make(chan minio.ObjectInfo, len(keys)+1)
	for _, k := range keys {
		ch <- minio.ObjectInfo{Key: k}
	}
	ch <- minio.ObjectInfo{Key: "bulk/never-existed"}
	close(ch)
	for r := range c.RemoveObjects(ctx, "dst", ch, minio.RemoveObjectsOptions{}) {
		t.Errorf("RemoveObjects: %s: %v", r.ObjectName, r.Err)
	}
	for o := range c.ListObjects(ctx, "dst", minio.ListObjectsOptions{Prefix: "bulk/", Recursive: true}) {
		t.Errorf("left after bulk delete: %s %v", o.Key, o.Err)
	}
}

func TestMinioListing(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.minio(t, aliceKey, aliceSecret)
	mustMakeBucket(t, c, "many")
	var keys []string
	for i := range 2500 {
		keys = append(keys, fmt.Sprintf("d%d/f%04d", i%5, i))
	}
	keys = append(keys, "top-a", "top b", "top%c")
	e.fb.seed("many", keys)
	slices.Sort(keys)
	for _, v1 := range []bool{false, true} {
		t.Run(fmt.Sprintf("v1=%v", v1), func(t *testing.T) {
			var got []string
			for o := range c.ListObjects(ctx, "many", minio.ListObjectsOptions{Recursive: true, UseV1: v1}) {
				if o.Err != nil {
					t.Fatal(o.Err)
				}
				got = append(got, o.Key)
			}
			if !slices.Equal(got, keys) {
				t.Errorf("recursive: %d keys, want %d", len(got), len(keys))
			}
			got = got[:0]
			for o := range c.ListObjects(ctx, "many", minio.ListObjectsOptions{UseV1: v1}) {
				got = append(got, o.Key)
			}
			want := []string{"d0/", "d1/", "d2/", "d3/", "d4/", "top b", "top%c", "top-a"}
			slices.Sort(got) // minio-go yields a page's objects before its prefixes
			if !slices.Equal(got, want) {
				t.Errorf("delimited = %v, want %v", got, want)
			}
			n := 0
			for o := range c.ListObjects(ctx, "many", minio.ListObjectsOptions{Prefix: "d3/", UseV1: v1, MaxKeys: 7}) {
				if o.Err != nil || !strings.HasPrefix(o.Key, "d3/") {
					t.Errorf("prefix listing: %v %v", o.Key, o.Err)
				}
				n++
			}
			if n != 500 {
				t.Errorf("prefix d3/: %d keys, want 500", n)
			}
			got = got[:0]
			for o := range c.ListObjects(ctx, "many", minio.ListObjectsOptions{Recursive: true, UseV1: v1, StartAfter: "d4/f2490"}) {
				got = append(got, o.Key)
			}
			if !slices.Equal(got, []string{"d4/f2494", "d4/f2499", "top b", "top%c", "top-a"}) {
				t.Errorf("start-after = %v", got)
			}
		})
	}
}

func TestMinioPresigned(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.minio(t, aliceKey, aliceSecret)
	mustMakeBucket(t, c, "pre")
	u, err := c.PresignedPutObject(ctx, "pre", "up/load.txt", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPut, u.String(), strings.NewReader("presigned body"))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("presigned PUT: %s", resp.Status)
	}
	u, err = c.PresignedGetObject(ctx, "pre", "up/load.txt", time.Minute, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err = http.Get(u.String())
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(got) != "presigned body" {
		t.Errorf("presigned GET: %s %q", resp.Status, got)
	}
	// Tampered signature.
	bad := u.String()
	i := strings.Index(bad, "X-Amz-Signature=") + len("X-Amz-Signature=")
	flip := map[byte]byte{'0': '1'}[bad[i]]
	if flip == 0 {
		flip = '0'
	}
	bad = bad[:i] + string(flip) + bad[i+1:]
	resp, err = http.Get(bad)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("tampered presigned GET: %s", resp.Status)
	}
}

func TestMinioBadCredentials(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	mustMakeBucket(t, e.minio(t, aliceKey, aliceSecret), "sec")
	if _, err := e.minio(t, aliceKey, "wrong-secret").ListBuckets(ctx); errCode(err) != "SignatureDoesNotMatch" {
		t.Errorf("wrong secret: %v", err)
	}
	if _, err := e.minio(t, "AKIAUNKNOWN00000", "whatever").ListBuckets(ctx); errCode(err) != "InvalidAccessKeyId" {
		t.Errorf("unknown key: %v", err)
	}
	if _, err := e.minio(t, aliceKey, "wrong-secret").PutObject(ctx, "sec", "k", strings.NewReader("abc"), 3, minio.PutObjectOptions{}); errCode(err) != "SignatureDoesNotMatch" {
		t.Errorf("put with wrong secret: %v", err)
	}
}

// TestMinioMultipartCore drives a six-part upload through minio-go's
// low-level API with small parts (the fake's minimum is lowered; the 5 MiB
// rule is checked in TestMinioMultipart).
func TestMinioMultipartCore(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.minio(t, aliceKey, aliceSecret)
	mustMakeBucket(t, c, "core")
	const partSize = 32 << 10
	e.fb.minPart = partSize
	body := randBytes(6, 6*partSize+5) // 7 parts
	core := minio.Core{Client: c}
	id, err := core.NewMultipartUpload(ctx, "core", "seven", minio.PutObjectOptions{UserMetadata: map[string]string{"x": "y"}})
	if err != nil {
		t.Fatal(err)
	}
	var parts []minio.CompletePart
	for i := 0; i*partSize < len(body); i++ {
		chunk := body[i*partSize : min((i+1)*partSize, len(body))]
		p, err := core.PutObjectPart(ctx, "core", "seven", id, i+1, bytes.NewReader(chunk), int64(len(chunk)), minio.PutObjectPartOptions{})
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, minio.CompletePart{PartNumber: p.PartNumber, ETag: p.ETag})
	}
	lp, err := core.ListObjectParts(ctx, "core", "seven", id, 2, 3)
	if err != nil || len(lp.ObjectParts) != 3 || lp.ObjectParts[0].PartNumber != 3 || !lp.IsTruncated || lp.NextPartNumberMarker != 5 {
		t.Errorf("ListObjectParts page = %+v, %v", lp, err)
	}
	ui, err := core.CompleteMultipartUpload(ctx, "core", "seven", id, parts, minio.PutObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(ui.ETag, "-7") {
		t.Errorf("ETag = %s, want -7", ui.ETag)
	}
	st, err := c.StatObject(ctx, "core", "seven", minio.StatObjectOptions{})
	if err != nil || st.Size != int64(len(body)) || st.UserMetadata["X"] != "y" {
		t.Errorf("stat = %+v, %v", st, err)
	}
	for _, pn := range []int{1, 7} {
		o, _ := c.GetObject(ctx, "core", "seven", minio.GetObjectOptions{PartNumber: pn})
		got, err := io.ReadAll(o)
		want := body[(pn-1)*partSize : min(pn*partSize, len(body))]
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("partNumber=%d: %d bytes, %v", pn, len(got), err)
		}
	}
}
