package sigv2

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/minio/minio-go/v7/pkg/signer"
)

func BenchmarkVerify(b *testing.B) {
	for _, tc := range []struct {
		name  string
		query string
		pre   bool
	}{
		{"header", "", false},
		{"header-subresource", "uploadId=abc&partNumber=7", false},
		{"presigned", "", true},
	} {
		b.Run(tc.name, func(b *testing.B) {
			req := request(b, "PUT", "bkt", "dir/object name.bin", tc.query, false)
			req.Header.Set("X-Amz-Meta-A", "1")
			req.Header.Set("Content-Type", "application/octet-stream")
			var s *http.Request
			if tc.pre {
				s = signer.PreSignV2(*req, testAK, testSecret, 600, false)
				s.Header.Del("Expires")
			} else {
				s = signer.SignV2(*req, testAK, testSecret, false)
			}
			r := wire(b, s)
			ctx, now := context.Background(), time.Now()
			if _, err := Verify(ctx, r, testCreds, now, ""); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.SetBytes(int64(len(r.RequestURI)))
			for b.Loop() {
				if _, err := Verify(ctx, r, testCreds, now, ""); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
