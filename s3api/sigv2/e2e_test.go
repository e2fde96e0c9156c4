package sigv2

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// TestMinioClientV2 runs the minio-go client, configured for Signature
// Version 2, against an httptest server whose handler only authenticates:
// HEAD, GET, a presigned GET, path-style and virtual-host style, with keys
// that need encoding.
func TestMinioClientV2(t *testing.T) {
	const body = "hello, v2"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		vb := ""
		if b, _, ok := strings.Cut(r.Host, ".s3.test"); ok && !strings.HasPrefix(r.Host, "s3.test") {
			vb = b
		}
		if _, err := Verify(r.Context(), r, testCreds, time.Now(), vb); err != nil {
			t.Logf("%s %s: %v", r.Method, r.RequestURI, err)
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(http.StatusForbidden)
			io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>SignatureDoesNotMatch</Code><Message>no</Message></Error>`)
			return
		}
		w.Header().Set("ETag", `"5d41402abc4b2a76b9719d911017c592"`)
		w.Header().Set("Last-Modified", time.Now().UTC().Format(http.TimeFormat))
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set("Content-Length", "9")
		if r.Method == http.MethodGet {
			io.WriteString(w, body)
		}
	}))
	defer srv.Close()
	addr := srv.Listener.Addr().String()
	_, port, _ := net.SplitHostPort(addr)
	tr := &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, addr) // every host name is this server
	}}
	keys := []string{"plain.txt", "my dir/a file.txt", "été/日本語+x.txt", "a+b=c&d"}
	for _, lookup := range []minio.BucketLookupType{minio.BucketLookupPath, minio.BucketLookupDNS} {
		for _, secret := range []string{testSecret, "wrong"} {
			c, err := minio.New("s3.test:"+port, &minio.Options{
				Creds: credentials.NewStaticV2(testAK, secret, ""), Region: "us-east-1",
				Transport: tr, BucketLookup: lookup,
			})
			if err != nil {
				t.Fatal(err)
			}
			for _, key := range keys {
				ctx := context.Background()
				_, statErr := c.StatObject(ctx, "bkt", key, minio.StatObjectOptions{})
				var got []byte
				obj, err := c.GetObject(ctx, "bkt", key, minio.GetObjectOptions{})
				if err == nil {
					got, err = io.ReadAll(obj)
					obj.Close()
				}
				u, perr := c.PresignedGetObject(ctx, "bkt", key, time.Minute, nil)
				if perr != nil {
					t.Fatal(perr)
				}
				resp, herr := (&http.Client{Transport: tr}).Get(u.String())
				if herr != nil {
					t.Fatal(herr)
				}
				resp.Body.Close()
				if secret == testSecret {
					if statErr != nil || err != nil || string(got) != body || resp.StatusCode != 200 {
						t.Errorf("lookup %v key %q: stat %v, get %q %v, presigned %s", lookup, key, statErr, got, err, resp.Status)
					}
				} else {
					var er minio.ErrorResponse
					if statErr == nil || !errors.As(err, &er) || er.Code != "SignatureDoesNotMatch" || resp.StatusCode != 403 {
						t.Errorf("wrong secret, lookup %v key %q: stat %v, get %v, presigned %s", lookup, key, statErr, err, resp.Status)
					}
				}
			}
		}
	}
}
