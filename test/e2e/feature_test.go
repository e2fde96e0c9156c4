package e2e

import (
	"bytes"
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"hash/crc32"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/minio/crc64nvme"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/tags"
)

func doPresigned(t *testing.T, method, u string, hdr http.Header, body []byte) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctxFor(t, time.Minute), method, u, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body == nil {
		req.Body = http.NoBody
	}
	req.ContentLength = int64(len(body))
	for k, vs := range hdr {
		if strings.EqualFold(k, "host") {
			continue
		}
		req.Header[k] = vs
	}
	resp, err := (&http.Client{Transport: transport(t)}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

func TestPresigned(t *testing.T) {
	b := bucketName(t, "")
	mkBucket(t, shared, b)
	ctx := ctxFor(t, time.Minute)
	data := randBytes(5, 300<<10)

	t.Run("minio", func(t *testing.T) {
		mc := shared.rootMinio(t)
		pu, err := mc.PresignedPutObject(ctx, b, "mpre", 10*time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if resp, body := doPresigned(t, http.MethodPut, pu.String(), nil, data); resp.StatusCode != http.StatusOK {
			t.Fatalf("presigned PUT: %s %s", resp.Status, body)
		}
		gu, err := mc.PresignedGetObject(ctx, b, "mpre", 10*time.Minute, url.Values{"response-content-type": {"application/x-pre"}})
		if err != nil {
			t.Fatal(err)
		}
		resp, body := doPresigned(t, http.MethodGet, gu.String(), nil, nil)
		if resp.StatusCode != http.StatusOK || !bytes.Equal(body, data) || resp.Header.Get("Content-Type") != "application/x-pre" {
			t.Errorf("presigned GET: %s, %d bytes, type %q", resp.Status, len(body), resp.Header.Get("Content-Type"))
		}
		// Another key under the same signature is refused.
		bad := strings.Replace(gu.String(), "/mpre?", "/other?", 1)
		if resp, body := doPresigned(t, http.MethodGet, bad, nil, nil); resp.StatusCode != http.StatusForbidden || !bytes.Contains(body, []byte("SignatureDoesNotMatch")) {
			t.Errorf("tampered presigned GET: %s %.200s", resp.Status, body)
		}
	})
	t.Run("aws", func(t *testing.T) {
		pc := s3.NewPresignClient(shared.rootAWS(t), s3.WithPresignExpires(10*time.Minute))
		pu, err := pc.PresignPutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("apre"), ContentType: aws.String("text/x-apre")})
		if err != nil {
			t.Fatal(err)
		}
		if resp, body := doPresigned(t, pu.Method, pu.URL, pu.SignedHeader, data); resp.StatusCode != http.StatusOK {
			t.Fatalf("presigned PUT: %s %s", resp.Status, body)
		}
		gu, err := pc.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String("apre")})
		if err != nil {
			t.Fatal(err)
		}
		resp, body := doPresigned(t, gu.Method, gu.URL, gu.SignedHeader, nil)
		if resp.StatusCode != http.StatusOK || !bytes.Equal(body, data) || resp.Header.Get("Content-Type") != "text/x-apre" {
			t.Errorf("presigned GET: %s, %d bytes, type %q", resp.Status, len(body), resp.Header.Get("Content-Type"))
		}
		// Expired: presign one second in the past.
		old := s3.NewPresignClient(shared.rootAWS(t), func(o *s3.PresignOptions) {
			o.Expires = time.Second
			o.Presigner = pastSigner{v4.NewSigner()}
		})
		eu, err := old.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String("apre")})
		if err != nil {
			t.Fatal(err)
		}
		if resp, body := doPresigned(t, eu.Method, eu.URL, eu.SignedHeader, nil); resp.StatusCode != http.StatusForbidden || !bytes.Contains(body, []byte("AccessDenied")) {
			t.Errorf("expired presigned GET: %s %.200s; want 403 AccessDenied", resp.Status, body)
		}
	})
}

// pastSigner presigns as of 10 minutes ago.
type pastSigner struct{ s *v4.Signer }

func (p pastSigner) PresignHTTP(ctx context.Context, cr aws.Credentials, r *http.Request, payloadHash, service, region string, t time.Time, opts ...func(*v4.SignerOptions)) (string, http.Header, error) {
	return p.s.PresignHTTP(ctx, cr, r, payloadHash, service, region, t.Add(-10*time.Minute), opts...)
}

func TestTagging(t *testing.T) {
	b := bucketName(t, "")
	mkBucket(t, shared, b)
	ctx := ctxFor(t, time.Minute)
	c := shared.rootAWS(t)
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("t"), Body: strings.NewReader("x"), Tagging: aws.String("a=1&b=two%20words")}); err != nil {
		t.Fatal(err)
	}
	tagMap := func() map[string]string {
		t.Helper()
		out, err := c.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String(b), Key: aws.String("t")})
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]string{}
		for _, tg := range out.TagSet {
			m[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
		}
		return m
	}
	if m := tagMap(); len(m) != 2 || m["a"] != "1" || m["b"] != "two words" {
		t.Errorf("tags from PUT = %v", m)
	}
	g, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String("t")})
	if err != nil {
		t.Fatal(err)
	}
	g.Body.Close()
	if aws.ToInt32(g.TagCount) != 2 {
		t.Errorf("x-amz-tagging-count = %d, want 2", aws.ToInt32(g.TagCount))
	}
	if _, err := c.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{Bucket: aws.String(b), Key: aws.String("t"),
		Tagging: &types.Tagging{TagSet: []types.Tag{{Key: aws.String("x"), Value: aws.String("y")}}}}); err != nil {
		t.Fatal(err)
	}
	if m := tagMap(); len(m) != 1 || m["x"] != "y" {
		t.Errorf("tags after PutObjectTagging = %v", m)
	}
	if _, err := c.DeleteObjectTagging(ctx, &s3.DeleteObjectTaggingInput{Bucket: aws.String(b), Key: aws.String("t")}); err != nil {
		t.Fatal(err)
	}
	if m := tagMap(); len(m) != 0 {
		t.Errorf("tags after delete = %v", m)
	}
	// minio-go.
	mc := shared.rootMinio(t)
	tg, err := tags.NewTags(map[string]string{"env": "e2e", "k2": "v2"}, true)
	if err != nil {
		t.Fatal(err)
	}
	if err := mc.PutObjectTagging(ctx, b, "t", tg, minio.PutObjectTaggingOptions{}); err != nil {
		t.Fatal(err)
	}
	got, err := mc.GetObjectTagging(ctx, b, "t", minio.GetObjectTaggingOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if m := got.ToMap(); len(m) != 2 || m["env"] != "e2e" {
		t.Errorf("minio tags = %v", m)
	}
	// Too many tags.
	var many []types.Tag
	for i := range 11 {
		many = append(many, types.Tag{Key: aws.String(string(rune('a' + i))), Value: aws.String("v")})
	}
	if _, err := c.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{Bucket: aws.String(b), Key: aws.String("t"), Tagging: &types.Tagging{TagSet: many}}); awsCode(err) != "BadRequest" && awsCode(err) != "InvalidTag" {
		t.Errorf("11 tags: got %q, want BadRequest or InvalidTag", awsCode(err))
	}
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

func TestChecksums(t *testing.T) {
	b := bucketName(t, "")
	mkBucket(t, shared, b)
	ctx := ctxFor(t, time.Minute)
	c := shared.rootAWS(t)
	data := randBytes(9, 1<<20+333)
	be32 := func(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }
	s1 := sha1.Sum(data)
	s256 := sha256.Sum256(data)
	want := map[types.ChecksumAlgorithm]string{
		types.ChecksumAlgorithmCrc32:     b64(be32(crc32.ChecksumIEEE(data))),
		types.ChecksumAlgorithmCrc32c:    b64(be32(crc32.Checksum(data, crc32.MakeTable(crc32.Castagnoli)))),
		types.ChecksumAlgorithmCrc64nvme: b64(binary.BigEndian.AppendUint64(nil, crc64nvme.Checksum(data))),
		types.ChecksumAlgorithmSha1:      b64(s1[:]),
		types.ChecksumAlgorithmSha256:    b64(s256[:]),
	}
	pick := func(alg types.ChecksumAlgorithm, crc32v, crc32c, crc64, sha1v, sha256v *string) string {
		switch alg {
		case types.ChecksumAlgorithmCrc32:
			return aws.ToString(crc32v)
		case types.ChecksumAlgorithmCrc32c:
			return aws.ToString(crc32c)
		case types.ChecksumAlgorithmCrc64nvme:
			return aws.ToString(crc64)
		case types.ChecksumAlgorithmSha1:
			return aws.ToString(sha1v)
		}
		return aws.ToString(sha256v)
	}
	for alg, sumv := range want {
		t.Run(string(alg), func(t *testing.T) {
			key := "ck-" + string(alg)
			put, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String(key), Body: bytes.NewReader(data), ChecksumAlgorithm: alg})
			if err != nil {
				t.Fatal(err)
			}
			if got := pick(alg, put.ChecksumCRC32, put.ChecksumCRC32C, put.ChecksumCRC64NVME, put.ChecksumSHA1, put.ChecksumSHA256); got != sumv {
				t.Errorf("PUT echoed %q, want %q", got, sumv)
			}
			out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String(key), ChecksumMode: types.ChecksumModeEnabled})
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(out.Body) // the SDK validates the checksum while reading
			out.Body.Close()
			if !bytes.Equal(got, data) {
				t.Errorf("GET: content differs")
			}
			if g := pick(alg, out.ChecksumCRC32, out.ChecksumCRC32C, out.ChecksumCRC64NVME, out.ChecksumSHA1, out.ChecksumSHA256); g != sumv {
				t.Errorf("GET returned %q, want %q", g, sumv)
			}
			h, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b), Key: aws.String(key), ChecksumMode: types.ChecksumModeEnabled})
			if err != nil {
				t.Fatal(err)
			}
			if g := pick(alg, h.ChecksumCRC32, h.ChecksumCRC32C, h.ChecksumCRC64NVME, h.ChecksumSHA1, h.ChecksumSHA256); g != sumv {
				t.Errorf("HEAD returned %q, want %q", g, sumv)
			}
		})
	}
	// A wrong checksum is refused and nothing is stored.
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("bad"), Body: bytes.NewReader(data), ChecksumSHA256: aws.String(want[types.ChecksumAlgorithmSha1] + "AAAAAAAA")}); err == nil {
		t.Errorf("PUT with a wrong SHA256 succeeded")
	}
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("bad"), Body: bytes.NewReader(data), ChecksumCRC32: aws.String("AAAAAA==")}); awsCode(err) != "BadDigest" {
		t.Errorf("PUT with a wrong CRC32: got %q, want BadDigest", awsCode(err))
	}
	if _, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b), Key: aws.String("bad")}); awsCode(err) != "NotFound" {
		t.Errorf("HEAD after bad checksum: got %q, want NotFound", awsCode(err))
	}
	// Content-MD5 mismatch.
	resp, body := shared.rawDo(t, rootKey, rootSecret, http.MethodPut, "/"+b+"/md5", []byte("hello"), map[string]string{"Content-MD5": "AAAAAAAAAAAAAAAAAAAAAA=="})
	if resp.StatusCode != http.StatusBadRequest || !bytes.Contains(body, []byte("BadDigest")) {
		t.Errorf("PUT with wrong Content-MD5: %s %.200s; want 400 BadDigest", resp.Status, body)
	}
}
