package e2e

import (
	"bytes"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/minio/minio-go/v7"
)

func TestBucketLifecycleAWS(t *testing.T) {
	ctx := ctxFor(t, time.Minute)
	c := shared.rootAWS(t)
	b := bucketName(t, "")
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(b)}); err != nil {
		t.Fatalf("HeadBucket: %v", err)
	}
	lb, err := c.ListBuckets(ctx, &s3.ListBucketsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(lb.Buckets, func(x types.Bucket) bool { return aws.ToString(x.Name) == b }) {
		t.Errorf("ListBuckets does not list %s", b)
	}
	loc, err := c.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String(b)})
	if err != nil {
		t.Fatalf("GetBucketLocation: %v", err)
	}
	// us-east-1 is reported as the empty constraint by AWS; accept both.
	if l := string(loc.LocationConstraint); l != "" && l != region {
		t.Errorf("LocationConstraint = %q", l)
	}
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b)}); awsCode(err) != "BucketAlreadyOwnedByYou" {
		t.Errorf("CreateBucket again: got %q, want BucketAlreadyOwnedByYou", awsCode(err))
	}
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("k"), Body: bytes.NewReader([]byte("x"))}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(b)}); awsCode(err) != "BucketNotEmpty" {
		t.Errorf("DeleteBucket non-empty: got %q, want BucketNotEmpty", awsCode(err))
	}
	if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(b), Key: aws.String("k")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(b)}); err != nil {
		t.Fatalf("DeleteBucket empty: %v", err)
	}
	if _, err := c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(b)}); awsCode(err) != "NotFound" {
		t.Errorf("HeadBucket deleted: got %q, want NotFound", awsCode(err))
	}
	if _, err := c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(b)}); awsCode(err) != "NoSuchBucket" {
		t.Errorf("DeleteBucket twice: got %q, want NoSuchBucket", awsCode(err))
	}
}

func TestBucketLifecycleMinio(t *testing.T) {
	ctx := ctxFor(t, time.Minute)
	c := shared.rootMinio(t)
	b := bucketName(t, "")
	if err := c.MakeBucket(ctx, b, minio.MakeBucketOptions{Region: region}); err != nil {
		t.Fatal(err)
	}
	if ok, err := c.BucketExists(ctx, b); err != nil || !ok {
		t.Fatalf("BucketExists = %v, %v", ok, err)
	}
	bs, err := c.ListBuckets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(bs, func(x minio.BucketInfo) bool { return x.Name == b }) {
		t.Errorf("ListBuckets does not list %s", b)
	}
	if loc, err := c.GetBucketLocation(ctx, b); err != nil || loc != region {
		t.Errorf("GetBucketLocation = %q, %v; want %q", loc, err, region)
	}
	if err := c.MakeBucket(ctx, b, minio.MakeBucketOptions{Region: region}); minioCode(err) != "BucketAlreadyOwnedByYou" {
		t.Errorf("MakeBucket again: got %q, want BucketAlreadyOwnedByYou", minioCode(err))
	}
	if _, err := c.PutObject(ctx, b, "k", bytes.NewReader([]byte("x")), 1, minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := c.RemoveBucket(ctx, b); minioCode(err) != "BucketNotEmpty" {
		t.Errorf("RemoveBucket non-empty: got %q, want BucketNotEmpty", minioCode(err))
	}
	if err := c.RemoveObject(ctx, b, "k", minio.RemoveObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := c.RemoveBucket(ctx, b); err != nil {
		t.Fatalf("RemoveBucket: %v", err)
	}
	if ok, err := c.BucketExists(ctx, b); err != nil || ok {
		t.Errorf("BucketExists after delete = %v, %v", ok, err)
	}
}

// TestBucketNames: bad names get InvalidBucketName, a missing bucket
// NoSuchBucket, unsigned listing AccessDenied.
func TestBucketNames(t *testing.T) {
	for _, name := range []string{"ab", "UPPER", "has_underscore", "-dash", "192.168.1.1"} {
		resp, body := shared.rawDo(t, rootKey, rootSecret, http.MethodPut, "/"+name, nil, nil)
		if resp.StatusCode != http.StatusBadRequest || !bytes.Contains(body, []byte("InvalidBucketName")) {
			t.Errorf("PUT /%s: %s %s; want 400 InvalidBucketName", name, resp.Status, body)
		}
	}
	resp, body := shared.rawDo(t, rootKey, rootSecret, http.MethodGet, "/no-such-bucket-e2e", nil, nil)
	if resp.StatusCode != http.StatusNotFound || !bytes.Contains(body, []byte("NoSuchBucket")) {
		t.Errorf("GET missing bucket: %s %s", resp.Status, body)
	}
	resp, body = shared.rawDo(t, "", "", http.MethodGet, "/", nil, nil)
	if resp.StatusCode != http.StatusForbidden || !bytes.Contains(body, []byte("AccessDenied")) {
		t.Errorf("anonymous ListBuckets: %s %s", resp.Status, body)
	}
}
