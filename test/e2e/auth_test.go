package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awscreds "github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/tessera-store/tessera/s3api/auth"
)

func TestAuthErrors(t *testing.T) {
	b := bucketName(t, "")
	mkBucket(t, shared, b)
	ctx := ctxFor(t, time.Minute)
	if _, err := shared.rootAWS(t).PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("secret"), Body: strings.NewReader("root data")}); err != nil {
		t.Fatal(err)
	}
	badSecret := shared.aws(t, rootKey, rootSecret+"x")
	if _, err := badSecret.ListBuckets(ctx, &s3.ListBucketsInput{}); awsCode(err) != "SignatureDoesNotMatch" {
		t.Errorf("aws wrong secret: got %q, want SignatureDoesNotMatch", awsCode(err))
	}
	if _, err := badSecret.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("k"), Body: strings.NewReader("x")}); awsCode(err) != "SignatureDoesNotMatch" {
		t.Errorf("aws PUT wrong secret: got %q, want SignatureDoesNotMatch", awsCode(err))
	}
	if _, err := shared.minio(t, rootKey, "wrong-secret-123").ListBuckets(ctx); minioCode(err) != "SignatureDoesNotMatch" {
		t.Errorf("minio wrong secret: got %q, want SignatureDoesNotMatch", minioCode(err))
	}
	unknown := shared.aws(t, "AKIANOSUCHKEY0000000", rootSecret)
	if _, err := unknown.ListBuckets(ctx, &s3.ListBucketsInput{}); awsCode(err) != "InvalidAccessKeyId" {
		t.Errorf("aws unknown key: got %q, want InvalidAccessKeyId", awsCode(err))
	}
	if _, err := shared.minio(t, "AKIANOSUCHKEY0000000", rootSecret).ListBuckets(ctx); minioCode(err) != "InvalidAccessKeyId" {
		t.Errorf("minio unknown key: got %q, want InvalidAccessKeyId", minioCode(err))
	}
	// A body that differs from the signed payload hash.
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, shared.url()+"/"+b+"/tampered", strings.NewReader("tampered body"))
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256([]byte("original body"))
	auth.SignRequest(req, rootKey, rootSecret, region, hex.EncodeToString(h[:]), time.Now())
	resp, err := (&http.Client{Transport: transport(t)}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || !bytes.Contains(body, []byte("XAmzContentSHA256Mismatch")) {
		t.Errorf("payload hash mismatch: %s %.200s; want 400 XAmzContentSHA256Mismatch", resp.Status, body)
	}
	if _, err := shared.rootAWS(t).HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b), Key: aws.String("tampered")}); awsCode(err) != "NotFound" {
		t.Errorf("tampered object visible: %q", awsCode(err))
	}
	// A signature made an hour ago.
	req, _ = http.NewRequestWithContext(ctx, http.MethodGet, shared.url()+"/", nil)
	auth.SignRequest(req, rootKey, rootSecret, region, emptySHA256, time.Now().Add(-time.Hour))
	resp, err = (&http.Client{Transport: transport(t)}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || !bytes.Contains(body, []byte("RequestTimeTooSkewed")) {
		t.Errorf("skewed request: %s %.200s; want 403 RequestTimeTooSkewed", resp.Status, body)
	}
}

func TestSecondUser(t *testing.T) {
	b := bucketName(t, "")
	mkBucket(t, shared, b)
	ctx := ctxFor(t, time.Minute)
	root := shared.rootAWS(t)
	if _, err := root.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("private"), Body: strings.NewReader("root data")}); err != nil {
		t.Fatal(err)
	}
	bob := shared.addUser(t, "bob")
	bc := shared.aws(t, bob.AccessKey, bob.SecretKey)
	denied := []struct {
		name string
		call func() error
	}{
		{"GetObject", func() error {
			_, err := bc.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String("private")})
			return err
		}},
		{"PutObject", func() error {
			_, err := bc.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("bob"), Body: strings.NewReader("x")})
			return err
		}},
		{"ListObjectsV2", func() error {
			_, err := bc.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(b)})
			return err
		}},
		{"DeleteObject", func() error {
			_, err := bc.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(b), Key: aws.String("private")})
			return err
		}},
		{"DeleteBucket", func() error {
			_, err := bc.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(b)})
			return err
		}},
		{"CopyObject from root's bucket", func() error {
			if _, err := bc.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b + "-bob")}); err != nil && awsCode(err) != "BucketAlreadyOwnedByYou" {
				return err
			}
			_, err := bc.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(b + "-bob"), Key: aws.String("stolen"), CopySource: aws.String(b + "/private")})
			return err
		}},
	}
	for _, d := range denied {
		if got := awsCode(d.call()); got != "AccessDenied" {
			t.Errorf("bob %s on root's bucket: got %q, want AccessDenied", d.name, got)
		}
	}
	if _, err := bc.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b)}); awsCode(err) != "BucketAlreadyExists" {
		t.Errorf("bob CreateBucket of root's name: got %q, want BucketAlreadyExists", awsCode(err))
	}
	if _, err := root.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b)}); awsCode(err) != "BucketAlreadyOwnedByYou" {
		t.Errorf("root CreateBucket again: got %q, want BucketAlreadyOwnedByYou", awsCode(err))
	}
	// Bob's own bucket works, and is not root's.
	bm := shared.minio(t, bob.AccessKey, bob.SecretKey)
	if _, err := bm.PutObject(ctx, b+"-bob", "mine", strings.NewReader("bob"), 3, minio.PutObjectOptions{}); err != nil {
		t.Fatalf("bob PUT in own bucket: %v", err)
	}
	lb, err := bc.ListBuckets(ctx, &s3.ListBucketsInput{})
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range lb.Buckets {
		if aws.ToString(x.Name) == b {
			t.Errorf("bob's ListBuckets shows root's bucket %s", b)
		}
	}
	if _, err := root.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b), Key: aws.String("private")}); err != nil {
		t.Errorf("root's object after bob's attempts: %v", err)
	}
}

// TestVirtualHost: a server with Domains answers bucket.<domain> hosts; the
// clients resolve every name to the listener through a custom dialer.
func TestVirtualHost(t *testing.T) {
	const domain = "s3.e2e.test"
	s := newServer(t, serverOpts{domains: []string{domain}})
	_, port, _ := net.SplitHostPort(s.addr)
	tr := transport(t)
	var mu sync.Mutex
	var dialed []string // guarded by mu
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		mu.Lock()
		dialed = append(dialed, addr)
		mu.Unlock()
		return (&net.Dialer{}).DialContext(ctx, network, s.addr)
	}
	ctx := ctxFor(t, time.Minute)
	ac := s3.New(s3.Options{
		Region:                     region,
		BaseEndpoint:               aws.String(fmt.Sprintf("http://%s:%s", domain, port)),
		UsePathStyle:               false,
		Credentials:                awscreds.NewStaticCredentialsProvider(rootKey, rootSecret, ""),
		RetryMaxAttempts:           1,
		HTTPClient:                 &http.Client{Transport: tr},
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenSupported,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenSupported,
	})
	if _, err := ac.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("vhost")}); err != nil {
		t.Fatal(err)
	}
	if _, err := ac.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("vhost"), Key: aws.String("dir/key"), Body: strings.NewReader("virtual")}); err != nil {
		t.Fatal(err)
	}
	l, err := ac.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("vhost")})
	if err != nil || len(l.Contents) != 1 || aws.ToString(l.Contents[0].Key) != "dir/key" {
		t.Fatalf("vhost list: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	sawVhost := false
	for _, a := range dialed {
		sawVhost = sawVhost || strings.HasPrefix(a, "vhost."+domain)
	}
	if !sawVhost {
		t.Errorf("the SDK never dialed vhost.%s (dialed %q): not virtual-host style", domain, dialed)
	}
	mc, err := minio.New(domain+":"+port, &minio.Options{
		Creds: credentials.NewStaticV4(rootKey, rootSecret, ""), Region: region,
		BucketLookup: minio.BucketLookupDNS, MaxRetries: 1, Transport: tr,
	})
	if err != nil {
		t.Fatal(err)
	}
	obj, err := mc.GetObject(ctx, "vhost", "dir/key", minio.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(obj)
	obj.Close()
	if err != nil || string(got) != "virtual" {
		t.Errorf("minio vhost GET = %q, %v", got, err)
	}
	// Path style still works on the same server.
	out, err := s.rootAWS(t).GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("vhost"), Key: aws.String("dir/key")})
	if err != nil {
		t.Fatal(err)
	}
	out.Body.Close()
}
