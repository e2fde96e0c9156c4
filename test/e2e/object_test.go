package e2e

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/minio/minio-go/v7"
)

var objectSizes = []int{0, 1, 4095, 4096, 4097, 1 << 20, 20 << 20}

func TestPutGetSizes(t *testing.T) {
	b := bucketName(t, "")
	mkBucket(t, shared, b)
	ctx := ctxFor(t, 3*time.Minute)
	ac := shared.rootAWS(t)
	mc := shared.rootMinio(t)
	for _, n := range objectSizes {
		data := randBytes(uint64(n), n)
		want := sum(data)
		t.Run(fmt.Sprintf("aws/%d", n), func(t *testing.T) {
			key := fmt.Sprintf("aws/%d", n)
			if _, err := ac.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String(key), Body: bytes.NewReader(data)}); err != nil {
				t.Fatal(err)
			}
			out, err := ac.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String(key)})
			if err != nil {
				t.Fatal(err)
			}
			defer out.Body.Close()
			if got, m := sha256Of(t, out.Body); got != want || m != int64(n) {
				t.Errorf("GET %d bytes sha %s; want %d bytes sha %s", m, got, n, want)
			}
			if aws.ToInt64(out.ContentLength) != int64(n) {
				t.Errorf("Content-Length = %d", aws.ToInt64(out.ContentLength))
			}
		})
		t.Run(fmt.Sprintf("minio/%d", n), func(t *testing.T) {
			key := fmt.Sprintf("minio/%d", n)
			info, err := mc.PutObject(ctx, b, key, bytes.NewReader(data), int64(n), minio.PutObjectOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if info.Size != int64(n) {
				t.Errorf("PutObject size = %d", info.Size)
			}
			obj, err := mc.GetObject(ctx, b, key, minio.GetObjectOptions{})
			if err != nil {
				t.Fatal(err)
			}
			defer obj.Close()
			if got, m := sha256Of(t, obj); got != want || m != int64(n) {
				t.Errorf("GET %d bytes sha %s; want %d bytes sha %s", m, got, n, want)
			}
			st, err := mc.StatObject(ctx, b, key, minio.StatObjectOptions{})
			if err != nil || st.Size != int64(n) || st.ETag != info.ETag {
				t.Errorf("StatObject = %d %q, %v; want %d %q", st.Size, st.ETag, err, n, info.ETag)
			}
		})
	}
	if _, err := ac.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String("missing")}); awsCode(err) != "NoSuchKey" {
		t.Errorf("GET missing: got %q, want NoSuchKey", awsCode(err))
	}
}

func TestRangeGet(t *testing.T) {
	b := bucketName(t, "")
	mkBucket(t, shared, b)
	ctx := ctxFor(t, time.Minute)
	c := shared.rootAWS(t)
	const n = 3<<20 + 12345
	data := randBytes(7, n)
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("r"), Body: bytes.NewReader(data)}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		rng        string
		start, end int // inclusive
	}{
		{"bytes=0-0", 0, 0},
		{"bytes=0-99", 0, 99},
		{"bytes=1048570-2097160", 1048570, 2097160}, // crosses chunk boundaries
		{"bytes=-100", n - 100, n - 1},
		{"bytes=3000000-", 3000000, n - 1},
		{"bytes=0-", 0, n - 1},
		{fmt.Sprintf("bytes=100-%d", n+1000), 100, n - 1}, // end clipped
		{fmt.Sprintf("bytes=-%d", n+10), 0, n - 1},        // suffix longer than object
	}
	for _, tt := range tests {
		t.Run(tt.rng, func(t *testing.T) {
			out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String("r"), Range: aws.String(tt.rng)})
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(out.Body)
			out.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, data[tt.start:tt.end+1]) {
				t.Errorf("got %d bytes, want %d (content differs: %v)", len(got), tt.end-tt.start+1, len(got) == tt.end-tt.start+1)
			}
			if cr, want := aws.ToString(out.ContentRange), fmt.Sprintf("bytes %d-%d/%d", tt.start, tt.end, n); cr != want {
				t.Errorf("Content-Range = %q, want %q", cr, want)
			}
		})
	}
	for _, rng := range []string{fmt.Sprintf("bytes=%d-", n), fmt.Sprintf("bytes=%d-%d", n+5, n+10)} {
		resp, body := shared.rawDo(t, rootKey, rootSecret, http.MethodGet, "/"+b+"/r", nil, map[string]string{"Range": rng})
		if resp.StatusCode != http.StatusRequestedRangeNotSatisfiable || !bytes.Contains(body, []byte("InvalidRange")) {
			t.Errorf("Range %s: %s %.200s; want 416 InvalidRange", rng, resp.Status, body)
		}
	}
	// minio-go ranges.
	mc := shared.rootMinio(t)
	opts := minio.GetObjectOptions{}
	opts.SetRange(1000, 5000)
	obj, err := mc.GetObject(ctx, b, "r", opts)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(obj)
	obj.Close()
	if err != nil || !bytes.Equal(got, data[1000:5001]) {
		t.Errorf("minio range: %d bytes, %v", len(got), err)
	}
	// ReadAt-style seeks through a minio Object.
	obj, err = mc.GetObject(ctx, b, "r", minio.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Close()
	buf := make([]byte, 777)
	for _, off := range []int64{0, 2 << 20, n - 777, 123456} {
		if _, err := obj.ReadAt(buf, off); err != nil && err != io.EOF {
			t.Fatalf("ReadAt %d: %v", off, err)
		}
		if !bytes.Equal(buf, data[off:off+777]) {
			t.Errorf("ReadAt %d: content differs", off)
		}
	}
}

func TestConditional(t *testing.T) {
	b := bucketName(t, "")
	mkBucket(t, shared, b)
	ctx := ctxFor(t, time.Minute)
	c := shared.rootAWS(t)
	put, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("c"), Body: bytes.NewReader(randBytes(1, 10000))})
	if err != nil {
		t.Fatal(err)
	}
	etag := aws.ToString(put.ETag)
	past := time.Now().Add(-24 * time.Hour)
	future := time.Now().Add(24 * time.Hour)
	tests := []struct {
		name string
		in   s3.GetObjectInput
		want string // "" = 200; else the code
	}{
		{"if-match ok", s3.GetObjectInput{IfMatch: aws.String(etag)}, ""},
		{"if-match star", s3.GetObjectInput{IfMatch: aws.String("*")}, ""},
		{"if-match wrong", s3.GetObjectInput{IfMatch: aws.String(`"0123"`)}, "PreconditionFailed"},
		{"if-none-match same", s3.GetObjectInput{IfNoneMatch: aws.String(etag)}, "NotModified"},
		{"if-none-match other", s3.GetObjectInput{IfNoneMatch: aws.String(`"0123"`)}, ""},
		{"if-modified-since past", s3.GetObjectInput{IfModifiedSince: aws.Time(past)}, ""},
		{"if-modified-since future", s3.GetObjectInput{IfModifiedSince: aws.Time(future)}, "NotModified"},
		{"if-unmodified-since future", s3.GetObjectInput{IfUnmodifiedSince: aws.Time(future)}, ""},
		{"if-unmodified-since past", s3.GetObjectInput{IfUnmodifiedSince: aws.Time(past)}, "PreconditionFailed"},
		// RFC 7232 / S3: If-Match true + If-Unmodified-Since false -> 200.
		{"if-match ok + unmodified past", s3.GetObjectInput{IfMatch: aws.String(etag), IfUnmodifiedSince: aws.Time(past)}, ""},
		// If-None-Match false + If-Modified-Since true -> 304.
		{"if-none-match same + modified past", s3.GetObjectInput{IfNoneMatch: aws.String(etag), IfModifiedSince: aws.Time(past)}, "NotModified"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.in
			in.Bucket, in.Key = aws.String(b), aws.String("c")
			out, err := c.GetObject(ctx, &in)
			if err == nil {
				out.Body.Close()
			}
			if got := awsCode(err); got != tt.want {
				t.Errorf("GET: got %q, want %q", got, tt.want)
			}
			hin := s3.HeadObjectInput{Bucket: in.Bucket, Key: in.Key, IfMatch: in.IfMatch, IfNoneMatch: in.IfNoneMatch,
				IfModifiedSince: in.IfModifiedSince, IfUnmodifiedSince: in.IfUnmodifiedSince}
			_, err = c.HeadObject(ctx, &hin)
			if got := awsCode(err); got != tt.want {
				t.Errorf("HEAD: got %q, want %q", got, tt.want)
			}
		})
	}
	// Raw status codes: 304 and 412.
	for _, tt := range []struct {
		hdr    string
		val    string
		status int
	}{
		{"If-None-Match", etag, http.StatusNotModified},
		{"If-Match", `"nope"`, http.StatusPreconditionFailed},
		{"If-Unmodified-Since", past.UTC().Format(http.TimeFormat), http.StatusPreconditionFailed},
		{"If-Modified-Since", future.UTC().Format(http.TimeFormat), http.StatusNotModified},
	} {
		for _, m := range []string{http.MethodGet, http.MethodHead} {
			resp, _ := shared.rawDo(t, rootKey, rootSecret, m, "/"+b+"/c", nil, map[string]string{tt.hdr: tt.val})
			if resp.StatusCode != tt.status {
				t.Errorf("%s %s: %s, want %d", m, tt.hdr, resp.Status, tt.status)
			}
		}
	}
}

func TestHeadersRoundTrip(t *testing.T) {
	b := bucketName(t, "")
	mkBucket(t, shared, b)
	ctx := ctxFor(t, time.Minute)
	c := shared.rootAWS(t)
	expires := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	_, err := c.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(b), Key: aws.String("h"), Body: strings.NewReader("hello headers"),
		ContentType: aws.String("text/x-e2e"), ContentDisposition: aws.String(`attachment; filename="a.txt"`),
		ContentEncoding: aws.String("x-e2e"), ContentLanguage: aws.String("fr-CH"), CacheControl: aws.String("max-age=60"),
		Expires:  aws.Time(expires),
		Metadata: map[string]string{"color": "blue", "multi-word": "a b c", "utf": "caf\u00e9"},
	})
	if err != nil {
		t.Fatal(err)
	}
	h, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b), Key: aws.String("h")})
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct{ name, got, want string }{
		{"Content-Type", aws.ToString(h.ContentType), "text/x-e2e"},
		{"Content-Disposition", aws.ToString(h.ContentDisposition), `attachment; filename="a.txt"`},
		{"Content-Encoding", aws.ToString(h.ContentEncoding), "x-e2e"},
		{"Content-Language", aws.ToString(h.ContentLanguage), "fr-CH"},
		{"Cache-Control", aws.ToString(h.CacheControl), "max-age=60"},
		{"Expires", aws.ToString(h.ExpiresString), expires.Format(http.TimeFormat)},
		{"x-amz-meta-color", h.Metadata["color"], "blue"},
		{"x-amz-meta-multi-word", h.Metadata["multi-word"], "a b c"},
		{"content-length", fmt.Sprint(aws.ToInt64(h.ContentLength)), "13"},
	}
	for _, ck := range checks {
		if ck.got != ck.want {
			t.Errorf("%s = %q, want %q", ck.name, ck.got, ck.want)
		}
	}
	if h.Metadata["utf"] == "" {
		t.Errorf("non-ASCII metadata lost: %v", h.Metadata)
	}
	if h.LastModified == nil || time.Since(*h.LastModified) > time.Hour {
		t.Errorf("Last-Modified = %v", h.LastModified)
	}
	// minio-go sees the same.
	st, err := shared.rootMinio(t).StatObject(ctx, b, "h", minio.StatObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if st.ContentType != "text/x-e2e" || st.UserMetadata["Color"] != "blue" {
		t.Errorf("minio StatObject: %q %v", st.ContentType, st.UserMetadata)
	}
}

func TestResponseOverrides(t *testing.T) {
	b := bucketName(t, "")
	mkBucket(t, shared, b)
	ctx := ctxFor(t, time.Minute)
	c := shared.rootAWS(t)
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("o"), Body: strings.NewReader("body"), ContentType: aws.String("text/plain")}); err != nil {
		t.Fatal(err)
	}
	exp := time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC)
	out, err := c.GetObject(ctx, &s3.GetObjectInput{
		Bucket: aws.String(b), Key: aws.String("o"),
		ResponseContentType:        aws.String("application/x-over"),
		ResponseContentDisposition: aws.String("inline"),
		ResponseContentLanguage:    aws.String("de"),
		ResponseCacheControl:       aws.String("no-store"),
		ResponseContentEncoding:    aws.String("x-over"),
		ResponseExpires:            aws.Time(exp),
	})
	if err != nil {
		t.Fatal(err)
	}
	out.Body.Close()
	for _, ck := range []struct{ name, got, want string }{
		{"Content-Type", aws.ToString(out.ContentType), "application/x-over"},
		{"Content-Disposition", aws.ToString(out.ContentDisposition), "inline"},
		{"Content-Language", aws.ToString(out.ContentLanguage), "de"},
		{"Cache-Control", aws.ToString(out.CacheControl), "no-store"},
		{"Content-Encoding", aws.ToString(out.ContentEncoding), "x-over"},
		{"Expires", aws.ToString(out.ExpiresString), exp.Format(http.TimeFormat)},
	} {
		if ck.got != ck.want {
			t.Errorf("%s = %q, want %q", ck.name, ck.got, ck.want)
		}
	}
}

func TestCopyObject(t *testing.T) {
	b := bucketName(t, "")
	b2 := bucketName(t, "dst")
	mkBucket(t, shared, b)
	mkBucket(t, shared, b2)
	ctx := ctxFor(t, time.Minute)
	c := shared.rootAWS(t)
	data := randBytes(11, 2<<20+99)
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("src"), Body: bytes.NewReader(data),
		ContentType: aws.String("text/src"), Metadata: map[string]string{"m": "src"}}); err != nil {
		t.Fatal(err)
	}
	before := shared.stats(t)
	// COPY keeps metadata.
	cp, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(b2), Key: aws.String("copy"), CopySource: aws.String(b + "/src")})
	if err != nil {
		t.Fatal(err)
	}
	h, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b2), Key: aws.String("copy")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(h.ContentType) != "text/src" || h.Metadata["m"] != "src" || aws.ToString(h.ETag) != aws.ToString(cp.CopyObjectResult.ETag) {
		t.Errorf("COPY: type %q meta %v etag %q/%q", aws.ToString(h.ContentType), h.Metadata, aws.ToString(h.ETag), aws.ToString(cp.CopyObjectResult.ETag))
	}
	// REPLACE takes the request's metadata.
	if _, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(b2), Key: aws.String("replaced"), CopySource: aws.String(b + "/src"),
		MetadataDirective: types.MetadataDirectiveReplace, ContentType: aws.String("text/new"), Metadata: map[string]string{"n": "new"}}); err != nil {
		t.Fatal(err)
	}
	h, err = c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b2), Key: aws.String("replaced")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(h.ContentType) != "text/new" || h.Metadata["n"] != "new" || h.Metadata["m"] != "" {
		t.Errorf("REPLACE: type %q meta %v", aws.ToString(h.ContentType), h.Metadata)
	}
	// Copy onto itself without REPLACE is invalid; with REPLACE it updates metadata.
	if _, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(b), Key: aws.String("src"), CopySource: aws.String(b + "/src")}); awsCode(err) != "InvalidRequest" {
		t.Errorf("self-copy without REPLACE: got %q, want InvalidRequest", awsCode(err))
	}
	after := shared.stats(t)
	if after.StoredBytes != before.StoredBytes {
		t.Errorf("copies wrote data: stored_bytes %d -> %d", before.StoredBytes, after.StoredBytes)
	}
	if want := before.LogicalBytes + 2*int64(len(data)); after.LogicalBytes != want {
		t.Errorf("logical_bytes %d -> %d, want %d", before.LogicalBytes, after.LogicalBytes, want)
	}
	for _, k := range []string{"copy", "replaced"} {
		out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b2), Key: aws.String(k)})
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := sha256Of(t, out.Body); got != sum(data) {
			t.Errorf("%s: content differs", k)
		}
		out.Body.Close()
	}
	// minio-go CopyObject.
	mc := shared.rootMinio(t)
	if _, err := mc.CopyObject(ctx, minio.CopyDestOptions{Bucket: b2, Object: "mcopy"}, minio.CopySrcOptions{Bucket: b, Object: "src"}); err != nil {
		t.Fatal(err)
	}
	if st := shared.stats(t); st.StoredBytes != before.StoredBytes {
		t.Errorf("minio copy wrote data: stored_bytes %d -> %d", before.StoredBytes, st.StoredBytes)
	}
	// Missing source.
	if _, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(b2), Key: aws.String("x"), CopySource: aws.String(b + "/nope")}); awsCode(err) != "NoSuchKey" {
		t.Errorf("copy missing source: got %q, want NoSuchKey", awsCode(err))
	}
}

func TestDeleteObjects(t *testing.T) {
	b := bucketName(t, "")
	mkBucket(t, shared, b)
	ctx := ctxFor(t, time.Minute)
	c := shared.rootAWS(t)
	for i := range 6 {
		if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String(fmt.Sprintf("d%d", i)), Body: strings.NewReader("x")}); err != nil {
			t.Fatal(err)
		}
	}
	// DeleteObject of a missing key succeeds (204).
	if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(b), Key: aws.String("missing")}); err != nil {
		t.Errorf("DeleteObject missing: %v", err)
	}
	if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(b), Key: aws.String("d0")}); err != nil {
		t.Fatal(err)
	}
	ids := func(keys ...string) []types.ObjectIdentifier {
		var out []types.ObjectIdentifier
		for _, k := range keys {
			out = append(out, types.ObjectIdentifier{Key: aws.String(k)})
		}
		return out
	}
	verbose, err := c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String(b), Delete: &types.Delete{Objects: ids("d1", "d2", "never")}})
	if err != nil {
		t.Fatal(err)
	}
	if len(verbose.Deleted) != 3 || len(verbose.Errors) != 0 {
		t.Errorf("verbose: deleted %d errors %d; want 3, 0", len(verbose.Deleted), len(verbose.Errors))
	}
	quiet, err := c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String(b), Delete: &types.Delete{Objects: ids("d3", "d4"), Quiet: aws.Bool(true)}})
	if err != nil {
		t.Fatal(err)
	}
	if len(quiet.Deleted) != 0 || len(quiet.Errors) != 0 {
		t.Errorf("quiet: deleted %d errors %d; want 0, 0", len(quiet.Deleted), len(quiet.Errors))
	}
	// minio-go RemoveObjects.
	mc := shared.rootMinio(t)
	ch := make(chan minio.ObjectInfo, 1)
	ch <- minio.ObjectInfo{Key: "d5"}
	close(ch)
	for e := range mc.RemoveObjects(ctx, b, ch, minio.RemoveObjectsOptions{}) {
		t.Errorf("RemoveObjects: %v", e.Err)
	}
	l, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(b)})
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Contents) != 0 {
		t.Errorf("%d objects left after deletes", len(l.Contents))
	}
	if _, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b), Key: aws.String("d1")}); awsCode(err) != "NotFound" {
		t.Errorf("HEAD deleted: got %q, want NotFound", awsCode(err))
	}
}
