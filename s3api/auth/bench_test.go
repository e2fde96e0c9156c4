package auth

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"
)

// BenchmarkChunkedReader measures Verify plus decoding a whole aws-chunked
// body (64 KiB chunks, as minio-go sends them), against plain SHA-256 of the
// same payload as the floor.
func BenchmarkChunkedReader(b *testing.B) {
	for _, size := range []int{4 << 10, 1 << 20, 8 << 20} {
		body := bytes.Repeat([]byte("tessera!"), size/8)
		for _, mode := range []string{"signed", "signed-trailer", "unsigned-trailer"} {
			var tr http.Header
			if mode != "signed" {
				tr = http.Header{"x-amz-checksum-crc32c": {"yZRlqg=="}}
			}
			sr, stream := minioStream(b, body, tr, mode != "unsigned-trailer")
			now := time.Now()
			v := NewVerifier(testCreds, Options{Now: func() time.Time { return now }})
			buf := make([]byte, 256<<10)
			b.Run(fmt.Sprintf("%s/%dKiB", mode, size>>10), func(b *testing.B) {
				r := serverRequest(sr, stream)
				rd := bytes.NewReader(stream)
				b.SetBytes(int64(size))
				b.ReportAllocs()
				for b.Loop() {
					rd.Reset(stream)
					r.Body = io.NopCloser(rd)
					req, err := v.Verify(r)
					if err != nil {
						b.Fatal(err)
					}
					for {
						_, err := req.Body.Read(buf)
						if err == io.EOF {
							break
						}
						if err != nil {
							b.Fatal(err)
						}
					}
				}
			})
		}
		b.Run(fmt.Sprintf("sha256-floor/%dKiB", size>>10), func(b *testing.B) {
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				sha256.Sum256(body)
			}
		})
	}
}

// BenchmarkVerifyHeader measures authenticating a signed GET (no body): the
// per-request cost of the canonical request and the signature, with the
// derived signing key cached.
func BenchmarkVerifyHeader(b *testing.B) {
	v := fixedVerifier(testTime)
	r, _ := http.NewRequest("GET", "http://127.0.0.1:9000/bucket/dir/object.bin?versionId=3", nil)
	r.Header.Set("Range", "bytes=0-1023")
	SignRequest(r, testAK, testSecret, testRegion, emptySHA256Hex, testTime)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(r); err != nil {
			b.Fatal(err)
		}
	}
}
