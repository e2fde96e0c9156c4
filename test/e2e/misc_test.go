package e2e

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// TestObjectLimits: S3's limits on keys and metadata, and writes to a
// missing bucket.
func TestObjectLimits(t *testing.T) {
	b := bucketName(t, "")
	mkBucket(t, shared, b)
	ctx := ctxFor(t, time.Minute)
	c := shared.rootAWS(t)
	long := strings.Repeat("k", 1025)
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String(long), Body: strings.NewReader("x")}); awsCode(err) != "KeyTooLongError" {
		t.Errorf("1025-byte key: got %q, want KeyTooLongError", awsCode(err))
	}
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String(long[:1024]), Body: strings.NewReader("x")}); err != nil {
		t.Errorf("1024-byte key: %v", err)
	}
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("meta"), Body: strings.NewReader("x"),
		Metadata: map[string]string{"big": strings.Repeat("v", 2100)}}); awsCode(err) != "MetadataTooLarge" {
		t.Errorf("2 KiB of metadata: got %q, want MetadataTooLarge", awsCode(err))
	}
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("no-such-bucket-e2e"), Key: aws.String("k"), Body: strings.NewReader("x")}); awsCode(err) != "NoSuchBucket" {
		t.Errorf("PUT into a missing bucket: got %q, want NoSuchBucket", awsCode(err))
	}
	// HEAD with a Range answers 206 with the range's length.
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("r"), Body: bytes.NewReader(randBytes(1, 10000))}); err != nil {
		t.Fatal(err)
	}
	resp, _ := shared.rawDo(t, rootKey, rootSecret, http.MethodHead, "/"+b+"/r", nil, map[string]string{"Range": "bytes=10-19"})
	if resp.StatusCode != http.StatusPartialContent || resp.Header.Get("Content-Length") != "10" || resp.Header.Get("Content-Range") != "bytes 10-19/10000" {
		t.Errorf("HEAD Range: %s, Content-Length %q, Content-Range %q", resp.Status, resp.Header.Get("Content-Length"), resp.Header.Get("Content-Range"))
	}
	// Keys that look like paths are kept verbatim.
	for _, k := range []string{"a//b", "./dot", "x/../y", "trailing/"} {
		if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String(k), Body: strings.NewReader(k)}); err != nil {
			t.Errorf("PUT %q: %v", k, err)
			continue
		}
		out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String(k)})
		if err != nil {
			t.Errorf("GET %q: %v", k, err)
			continue
		}
		got, _ := sha256Of(t, out.Body)
		out.Body.Close()
		if got != sum([]byte(k)) {
			t.Errorf("GET %q: content differs", k)
		}
	}
}
