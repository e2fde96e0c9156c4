package s3api

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

func awsCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	if err != nil {
		return "non-API error: " + err.Error()
	}
	return ""
}

func TestAWSObjectChecksums(t *testing.T) {
	e := newEnvTLS(t, true)
	ctx := context.Background()
	c := e.aws(t, aliceKey, aliceSecret)
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("sdk")}); err != nil {
		t.Fatal(err)
	}
	body := randBytes(4, 200<<10)
	for _, alg := range []types.ChecksumAlgorithm{"", types.ChecksumAlgorithmCrc32c, types.ChecksumAlgorithmSha256, types.ChecksumAlgorithmCrc64nvme} {
		t.Run(string(alg), func(t *testing.T) {
			key := "obj-" + string(alg)
			out, err := c.PutObject(ctx, &s3.PutObjectInput{
				Bucket: aws.String("sdk"), Key: aws.String(key), Body: bytes.NewReader(body),
				ChecksumAlgorithm: alg, Metadata: map[string]string{"k": "v"}, ContentType: aws.String("text/plain"),
			})
			if err != nil {
				t.Fatal(err)
			}
			if alg == "" && aws.ToString(out.ChecksumCRC32) == "" {
				t.Errorf("default checksum (CRC32) not echoed: %+v", out)
			}
			got, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("sdk"), Key: aws.String(key), ChecksumMode: types.ChecksumModeEnabled})
			if err != nil {
				t.Fatal(err)
			}
			data, err := io.ReadAll(got.Body)
			got.Body.Close()
			if err != nil || !bytes.Equal(data, body) {
				t.Fatalf("GET: %d bytes, %v", len(data), err)
			}
			if got.Metadata["k"] != "v" || aws.ToString(got.ContentType) != "text/plain" {
				t.Errorf("GET headers = %v %v", got.Metadata, aws.ToString(got.ContentType))
			}
			sums := aws.ToString(got.ChecksumCRC32) + aws.ToString(got.ChecksumCRC32C) + aws.ToString(got.ChecksumSHA256) + aws.ToString(got.ChecksumCRC64NVME)
			if sums == "" {
				t.Errorf("GET with checksum mode: no checksum returned")
			}
			h, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("sdk"), Key: aws.String(key), ChecksumMode: types.ChecksumModeEnabled})
			if err != nil || aws.ToInt64(h.ContentLength) != int64(len(body)) {
				t.Errorf("HEAD = %+v, %v", h, err)
			}
			rg, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("sdk"), Key: aws.String(key), Range: aws.String("bytes=100-199"), ChecksumMode: types.ChecksumModeEnabled})
			if err != nil {
				t.Fatal(err)
			}
			data, _ = io.ReadAll(rg.Body)
			rg.Body.Close()
			if !bytes.Equal(data, body[100:200]) || aws.ToString(rg.ContentRange) != fmt.Sprintf("bytes 100-199/%d", len(body)) {
				t.Errorf("range: %d bytes, Content-Range %q", len(data), aws.ToString(rg.ContentRange))
			}
		})
	}
	// A wrong declared checksum is BadDigest and stores nothing.
	_, err := c.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String("sdk"), Key: aws.String("bad"), Body: bytes.NewReader(body),
		ChecksumCRC32C: aws.String("AAAAAA=="),
	})
	if awsCode(err) != "BadDigest" {
		t.Errorf("wrong checksum: %v", err)
	}
	if _, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("sdk"), Key: aws.String("bad")}); awsCode(err) != "NotFound" {
		t.Errorf("object with bad checksum was stored: %v", err)
	}
	if _, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("sdk"), Key: aws.String("nope")}); awsCode(err) != "NoSuchKey" {
		t.Errorf("missing key: %v", err)
	}
	if _, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("sdk"), Key: aws.String("obj-"), Range: aws.String(fmt.Sprintf("bytes=%d-", len(body)))}); awsCode(err) != "InvalidRange" {
		t.Errorf("range past the end: %v", err)
	}
}

func TestAWSMultipart(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.aws(t, aliceKey, aliceSecret)
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("mpu")}); err != nil {
		t.Fatal(err)
	}
	// The fake's minimum part size is lowered so that six parts stay cheap
	// under -race; the 5 MiB rule itself is covered by TestMinioMultipart.
	const partSize = 64 << 10
	e.fb.minPart = partSize
	body := randBytes(5, 5*partSize+777) // 6 parts
	for _, tc := range []struct {
		alg  types.ChecksumAlgorithm
		typ  types.ChecksumType
		want string // suffix of the object checksum
	}{
		{types.ChecksumAlgorithmCrc32, types.ChecksumTypeComposite, "-6"},
		{types.ChecksumAlgorithmCrc64nvme, types.ChecksumTypeFullObject, "="},
	} {
		t.Run(string(tc.alg), func(t *testing.T) {
			key := "big-" + string(tc.alg)
			cr, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{
				Bucket: aws.String("mpu"), Key: aws.String(key), ChecksumAlgorithm: tc.alg, ChecksumType: tc.typ,
				Metadata: map[string]string{"mp": "yes"},
			})
			if err != nil {
				t.Fatal(err)
			}
			var parts []types.CompletedPart
			for i := 0; i*partSize < len(body); i++ {
				chunk := body[i*partSize : min((i+1)*partSize, len(body))]
				up, err := c.UploadPart(ctx, &s3.UploadPartInput{
					Bucket: aws.String("mpu"), Key: aws.String(key), UploadId: cr.UploadId,
					PartNumber: aws.Int32(int32(i + 1)), Body: bytes.NewReader(chunk), ChecksumAlgorithm: tc.alg,
				})
				if err != nil {
					t.Fatal(err)
				}
				parts = append(parts, types.CompletedPart{
					PartNumber: aws.Int32(int32(i + 1)), ETag: up.ETag,
					ChecksumCRC32: up.ChecksumCRC32, ChecksumCRC64NVME: up.ChecksumCRC64NVME,
				})
			}
			lp, err := c.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String("mpu"), Key: aws.String(key), UploadId: cr.UploadId, MaxParts: aws.Int32(4)})
			if err != nil || len(lp.Parts) != 4 || !aws.ToBool(lp.IsTruncated) {
				t.Fatalf("ListParts = %d parts, truncated %v, %v", len(lp.Parts), aws.ToBool(lp.IsTruncated), err)
			}
			lu, err := c.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String("mpu")})
			if err != nil || len(lu.Uploads) != 1 {
				t.Fatalf("ListMultipartUploads = %+v, %v", lu, err)
			}
			done, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
				Bucket: aws.String("mpu"), Key: aws.String(key), UploadId: cr.UploadId,
				MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
			})
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasSuffix(aws.ToString(done.ETag), `-6"`) {
				t.Errorf("ETag = %s", aws.ToString(done.ETag))
			}
			sum := aws.ToString(done.ChecksumCRC32) + aws.ToString(done.ChecksumCRC64NVME)
			if !strings.HasSuffix(sum, tc.want) {
				t.Errorf("object checksum = %q, want suffix %q", sum, tc.want)
			}
			g, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("mpu"), Key: aws.String(key), ChecksumMode: types.ChecksumModeEnabled})
			if err != nil {
				t.Fatal(err)
			}
			data, err := io.ReadAll(g.Body)
			g.Body.Close()
			if err != nil || !bytes.Equal(data, body) {
				t.Fatalf("GET: %d bytes, %v", len(data), err)
			}
			if g.Metadata["mp"] != "yes" || aws.ToInt32(g.PartsCount) != 0 {
				t.Errorf("metadata %v parts %d", g.Metadata, aws.ToInt32(g.PartsCount))
			}
			if _, err := c.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String("mpu"), Key: aws.String(key), UploadId: cr.UploadId}); awsCode(err) != "NoSuchUpload" {
				t.Errorf("abort completed upload: %v", err)
			}
		})
	}
	// UploadPartCopy from a range of the object above.
	cr, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("mpu"), Key: aws.String("copied")})
	if err != nil {
		t.Fatal(err)
	}
	var parts []types.CompletedPart
	for i, rng := range []string{"bytes=0-65535", "bytes=65536-66535"} {
		pc, err := c.UploadPartCopy(ctx, &s3.UploadPartCopyInput{
			Bucket: aws.String("mpu"), Key: aws.String("copied"), UploadId: cr.UploadId, PartNumber: aws.Int32(int32(i + 1)),
			CopySource: aws.String("mpu/big-CRC32"), CopySourceRange: aws.String(rng),
		})
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, types.CompletedPart{PartNumber: aws.Int32(int32(i + 1)), ETag: pc.CopyPartResult.ETag})
	}
	if _, err := c.UploadPartCopy(ctx, &s3.UploadPartCopyInput{
		Bucket: aws.String("mpu"), Key: aws.String("copied"), UploadId: cr.UploadId, PartNumber: aws.Int32(3),
		CopySource: aws.String("mpu/big-CRC32"), CopySourceRange: aws.String("bytes=0-999999999"),
	}); awsCode(err) != "InvalidArgument" {
		t.Errorf("copy range past the end: %v", err)
	}
	if _, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket: aws.String("mpu"), Key: aws.String("copied"), UploadId: cr.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
	}); err != nil {
		t.Fatal(err)
	}
	g, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("mpu"), Key: aws.String("copied")})
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(g.Body)
	g.Body.Close()
	if !bytes.Equal(data, body[:66536]) {
		t.Errorf("UploadPartCopy result: %d bytes", len(data))
	}
	if _, err := c.UploadPart(ctx, &s3.UploadPartInput{
		Bucket: aws.String("mpu"), Key: aws.String("x"), UploadId: aws.String("no-such-upload"),
		PartNumber: aws.Int32(1), Body: strings.NewReader("x"),
	}); awsCode(err) != "NoSuchUpload" {
		t.Errorf("upload to missing upload: %v", err)
	}
}

// TestAWSUploadPartCopyChecksum: with the SDK, a part copied into a CRC32C
// upload carries its CRC32C in CopyPartResult, ListParts and
// GetObjectAttributes, and Complete with it gives the COMPOSITE checksum.
func TestAWSUploadPartCopyChecksum(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.aws(t, aliceKey, aliceSecret)
	const partSize = 64 << 10
	e.fb.minPart = partSize
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("pcopy")}); err != nil {
		t.Fatal(err)
	}
	src := randBytes(22, 3*partSize)
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("pcopy"), Key: aws.String("src"), Body: bytes.NewReader(src)}); err != nil {
		t.Fatal(err)
	}
	cr, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{
		Bucket: aws.String("pcopy"), Key: aws.String("dst"), ChecksumAlgorithm: types.ChecksumAlgorithmCrc32c,
	})
	if err != nil {
		t.Fatal(err)
	}
	ranges := [][2]int{{0, partSize}, {2 * partSize, 2*partSize + 1000}}
	var parts []types.CompletedPart
	var raw []byte // the part CRC32Cs, for the composite by hand
	for i, rg := range ranges {
		want := crc32cOf(src[rg[0]:rg[1]])
		pc, err := c.UploadPartCopy(ctx, &s3.UploadPartCopyInput{
			Bucket: aws.String("pcopy"), Key: aws.String("dst"), UploadId: cr.UploadId, PartNumber: aws.Int32(int32(i + 1)),
			CopySource: aws.String("pcopy/src"), CopySourceRange: aws.String(fmt.Sprintf("bytes=%d-%d", rg[0], rg[1]-1)),
		})
		if err != nil {
			t.Fatal(err)
		}
		if got := aws.ToString(pc.CopyPartResult.ChecksumCRC32C); got != want {
			t.Errorf("part %d: CopyPartResult CRC32C %q, want %q", i+1, got, want)
		}
		parts = append(parts, types.CompletedPart{PartNumber: aws.Int32(int32(i + 1)), ETag: pc.CopyPartResult.ETag, ChecksumCRC32C: pc.CopyPartResult.ChecksumCRC32C})
		sum, _ := base64.StdEncoding.DecodeString(want)
		raw = append(raw, sum...)
	}
	lp, err := c.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String("pcopy"), Key: aws.String("dst"), UploadId: cr.UploadId})
	if err != nil || len(lp.Parts) != 2 {
		t.Fatalf("ListParts = %+v, %v", lp, err)
	}
	for i, p := range lp.Parts {
		if aws.ToString(p.ChecksumCRC32C) != aws.ToString(parts[i].ChecksumCRC32C) {
			t.Errorf("ListParts part %d CRC32C %q, want %q", i+1, aws.ToString(p.ChecksumCRC32C), aws.ToString(parts[i].ChecksumCRC32C))
		}
	}
	done, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket: aws.String("pcopy"), Key: aws.String("dst"), UploadId: cr.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := crc32cOf(raw) + "-2"; aws.ToString(done.ChecksumCRC32C) != want || done.ChecksumType != types.ChecksumTypeComposite {
		t.Errorf("object CRC32C %q %s, want %q COMPOSITE", aws.ToString(done.ChecksumCRC32C), done.ChecksumType, want)
	}
	at, err := c.GetObjectAttributes(ctx, &s3.GetObjectAttributesInput{
		Bucket: aws.String("pcopy"), Key: aws.String("dst"),
		ObjectAttributes: []types.ObjectAttributes{types.ObjectAttributesObjectParts, types.ObjectAttributesChecksum},
	})
	if err != nil || at.ObjectParts == nil || len(at.ObjectParts.Parts) != 2 {
		t.Fatalf("GetObjectAttributes = %+v, %v", at, err)
	}
	for i, p := range at.ObjectParts.Parts {
		if aws.ToString(p.ChecksumCRC32C) != aws.ToString(parts[i].ChecksumCRC32C) {
			t.Errorf("attributes part %d CRC32C %q, want %q", i+1, aws.ToString(p.ChecksumCRC32C), aws.ToString(parts[i].ChecksumCRC32C))
		}
	}
}

func TestAWSListDeleteCopy(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.aws(t, aliceKey, aliceSecret)
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("lst")}); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for i := range 2600 {
		keys = append(keys, fmt.Sprintf("p%d/q%d/k%05d", i%3, i%2, i))
	}
	e.fb.seed("lst", keys)
	n := 0
	pages := 0
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String("lst"), FetchOwner: aws.Bool(true)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		n += len(out.Contents)
		if int(aws.ToInt32(out.KeyCount)) != len(out.Contents) || (len(out.Contents) > 0 && out.Contents[0].Owner == nil) {
			t.Errorf("KeyCount %d for %d keys, owner %v", aws.ToInt32(out.KeyCount), len(out.Contents), out.Contents[0].Owner)
		}
	}
	if n != 2600 || pages != 3 {
		t.Errorf("V2 listing: %d keys in %d pages", n, pages)
	}
	out, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("lst"), Prefix: aws.String("p1/"), Delimiter: aws.String("/")})
	if err != nil || len(out.CommonPrefixes) != 2 || aws.ToString(out.CommonPrefixes[1].Prefix) != "p1/q1/" {
		t.Errorf("delimited V2 = %+v, %v", out.CommonPrefixes, err)
	}
	v1, err := c.ListObjects(ctx, &s3.ListObjectsInput{Bucket: aws.String("lst"), Marker: aws.String("p2/"), MaxKeys: aws.Int32(5)})
	if err != nil || len(v1.Contents) != 5 || !aws.ToBool(v1.IsTruncated) || !strings.HasPrefix(aws.ToString(v1.Contents[0].Key), "p2/") {
		t.Errorf("V1 = %+v, %v", v1, err)
	}
	// DeleteObjects, quiet: the SDK sends its default checksum header.
	var ids []types.ObjectIdentifier
	for _, k := range keys[:1000] {
		ids = append(ids, types.ObjectIdentifier{Key: aws.String(k)})
	}
	del, err := c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String("lst"), Delete: &types.Delete{Objects: ids, Quiet: aws.Bool(true)}})
	if err != nil || len(del.Deleted) != 0 || len(del.Errors) != 0 {
		t.Fatalf("DeleteObjects quiet = %d deleted, %d errors, %v", len(del.Deleted), len(del.Errors), err)
	}
	del, err = c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String("lst"), Delete: &types.Delete{Objects: ids[:3]}})
	if err != nil || len(del.Deleted) != 3 {
		t.Fatalf("DeleteObjects verbose = %+v, %v", del, err)
	}
	ids = append(ids, types.ObjectIdentifier{Key: aws.String("one-too-many")})
	if _, err := c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String("lst"), Delete: &types.Delete{Objects: ids}}); awsCode(err) != "MalformedXML" {
		t.Errorf("1001 keys: %v", err)
	}
	all, _ := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("lst"), MaxKeys: aws.Int32(0)})
	if len(all.Contents) != 0 || aws.ToBool(all.IsTruncated) {
		t.Errorf("max-keys=0: %d keys", len(all.Contents))
	}
	// Copy with tagging directive and the copy's result.
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("lst"), Key: aws.String("tagged"), Body: strings.NewReader("t"), Tagging: aws.String("a=1&b=2")}); err != nil {
		t.Fatal(err)
	}
	cp, err := c.CopyObject(ctx, &s3.CopyObjectInput{
		Bucket: aws.String("lst"), Key: aws.String("copy+1"), CopySource: aws.String("lst/tagged"),
		TaggingDirective: types.TaggingDirectiveReplace, Tagging: aws.String("c=3"),
	})
	if err != nil || cp.CopyObjectResult == nil || aws.ToString(cp.CopyObjectResult.ETag) == "" {
		t.Fatalf("CopyObject = %+v, %v", cp, err)
	}
	tg, err := c.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String("lst"), Key: aws.String("copy+1")})
	if err != nil || len(tg.TagSet) != 1 || aws.ToString(tg.TagSet[0].Key) != "c" {
		t.Errorf("tags after REPLACE copy = %+v, %v", tg, err)
	}
	if _, err := c.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{Bucket: aws.String("lst"), Key: aws.String("tagged"), Tagging: &types.Tagging{
		TagSet: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}, {Key: aws.String("k"), Value: aws.String("w")}},
	}}); awsCode(err) != "InvalidTag" {
		t.Errorf("duplicate tag keys: %v", err)
	}
	if _, err := c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("lst")}); awsCode(err) != "BucketNotEmpty" {
		t.Errorf("delete non-empty bucket: %v", err)
	}
	bob := e.aws(t, bobKey, bobSecret)
	if _, err := bob.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("lst"), Key: aws.String("tagged")}); awsCode(err) != "AccessDenied" {
		t.Errorf("bob reads alice's object: %v", err)
	}
	if _, err := bob.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("lst")}); awsCode(err) != "Forbidden" {
		t.Errorf("bob heads alice's bucket: %v", err)
	}
	lb, err := bob.ListBuckets(ctx, &s3.ListBucketsInput{})
	if err != nil || len(lb.Buckets) != 0 {
		t.Errorf("bob's buckets = %+v, %v", lb.Buckets, err)
	}
}

func TestAWSVirtualHost(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	// Every host name dials the test server, as DNS would for *.s3.test.
	addr := e.host()
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}}}
	_, port, _ := net.SplitHostPort(addr)
	c := e.aws(t, aliceKey, aliceSecret, func(o *s3.Options) {
		o.BaseEndpoint = aws.String("http://" + testDomain + ":" + port)
		o.UsePathStyle = false
		o.HTTPClient = hc
	})
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("vhost")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("vhost"), Key: aws.String("a/b.txt"), Body: strings.NewReader("virtual")}); err != nil {
		t.Fatal(err)
	}
	g, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("vhost"), Key: aws.String("a/b.txt")})
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(g.Body)
	g.Body.Close()
	if string(data) != "virtual" {
		t.Errorf("GET = %q", data)
	}
	out, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("vhost")})
	if err != nil || len(out.Contents) != 1 {
		t.Errorf("list = %+v, %v", out, err)
	}
	// The same object, path style.
	pc := e.aws(t, aliceKey, aliceSecret)
	if _, err := pc.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("vhost"), Key: aws.String("a/b.txt")}); err != nil {
		t.Errorf("path-style HEAD: %v", err)
	}
}
