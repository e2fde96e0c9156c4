package s3api

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awscreds "github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/tessera-store/tessera/s3api/auth"
)

const (
	aliceKey, aliceSecret = "AKIAALICE0000000", "alice/secret+key0123456789abcdefghijklm"
	bobKey, bobSecret     = "AKIABOB000000000", "bob-secret-key-0123456789abcdefghijklmno"
	rootKey, rootSecret   = "AKIAROOT00000000", "root-secret-key-0123456789abcdefghijklmn"
	testDomain            = "s3.test"
)

type testEnv struct {
	fb  *fakeBackend
	s   *Server
	srv *httptest.Server
	reg *prometheus.Registry
}

// tWriter sends logs to t.Log.
type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func newEnv(t testing.TB) *testEnv { return newEnvTLS(t, false) }

// newEnvTLS starts the server over TLS when useTLS: the AWS SDK sends its
// default checksum as an aws-chunked trailer only over TLS.
func newEnvTLS(t testing.TB, useTLS bool) *testEnv {
	fb := newFakeBackend()
	fb.addUser("alice", aliceKey, aliceSecret, false)
	fb.addUser("bob", bobKey, bobSecret, false)
	fb.addUser("root", rootKey, rootSecret, true)
	reg := prometheus.NewRegistry()
	s := New(fb, Options{
		Domains:  []string{testDomain},
		Logger:   slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn})),
		Registry: reg,
	})
	srv := httptest.NewUnstartedServer(s)
	if useTLS {
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(srv.Close)
	return &testEnv{fb: fb, s: s, srv: srv, reg: reg}
}

func (e *testEnv) host() string {
	u, _ := url.Parse(e.srv.URL)
	return u.Host
}

func (e *testEnv) minio(t testing.TB, access, secret string) *minio.Client {
	t.Helper()
	c, err := minio.New(e.host(), &minio.Options{
		Creds:           credentials.NewStaticV4(access, secret, ""),
		Region:          "us-east-1",
		BucketLookup:    minio.BucketLookupPath,
		MaxRetries:      1,
		TrailingHeaders: true,
		Secure:          e.srv.TLS != nil,
		Transport:       e.srv.Client().Transport,
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (e *testEnv) aws(t testing.TB, access, secret string, opts ...func(*s3.Options)) *s3.Client {
	t.Helper()
	o := s3.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(e.srv.URL),
		UsePathStyle:     true,
		Credentials:      awscreds.NewStaticCredentialsProvider(access, secret, ""),
		RetryMaxAttempts: 1,
		HTTPClient:       e.srv.Client(),
		// What config.LoadDefaultConfig sets: checksums on by default.
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenSupported,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenSupported,
	}
	for _, f := range opts {
		f(&o)
	}
	return s3.New(o)
}

// do sends a request signed by alice (unless signed is false) and returns
// the response with its body read.
func (e *testEnv) do(t testing.TB, method, path string, body []byte, hdr map[string]string) (*http.Response, []byte) {
	t.Helper()
	return e.doAs(t, aliceKey, aliceSecret, method, path, body, hdr)
}

func (e *testEnv) doAs(t testing.TB, access, secret, method, path string, body []byte, hdr map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body == nil {
		req.Body = http.NoBody
		req.ContentLength = 0
	}
	req.Header.Set("Accept-Encoding", "identity") // no transparent gunzip
	for k, v := range hdr {
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	if access != "" {
		auth.SignRequest(req, access, secret, "us-east-1", "UNSIGNED-PAYLOAD", time.Now())
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, out
}

func randBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func mustMakeBucket(t testing.TB, c *minio.Client, name string) {
	t.Helper()
	if err := c.MakeBucket(context.Background(), name, minio.MakeBucketOptions{}); err != nil {
		t.Fatalf("MakeBucket %s: %v", name, err)
	}
}

func errCode(err error) string {
	if err == nil {
		return ""
	}
	return minio.ToErrorResponse(err).Code
}

func signAlice(req *http.Request) {
	auth.SignRequest(req, aliceKey, aliceSecret, "us-east-1", "UNSIGNED-PAYLOAD", time.Now())
}
