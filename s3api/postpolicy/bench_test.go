package postpolicy

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"testing"
	"time"
)

// BenchmarkPost measures Parse + Verify + streaming the file of a
// minio-go signed form (SigV4 and SigV2), per file size.
func BenchmarkPost(b *testing.B) {
	for _, size := range []int{1 << 10, 1 << 20} {
		for _, v2 := range []bool{false, true} {
			b.Run(fmt.Sprintf("v2=%v/%dKiB", v2, size>>10), func(b *testing.B) {
				file := data(size)
				p := basePolicy(b, "k", file)
				form := presign(b, p, v2, testSecret)
				buf, ct := body(b, form, "file", "f", file)
				raw := buf.Bytes()
				ctx, now := context.Background(), time.Now()
				run := func() {
					f, err := Parse(ctx, post(b, bytes.NewReader(raw), ct), 0)
					if err != nil {
						b.Fatal(err)
					}
					f.Bucket = testBucket
					if _, err := f.Verify(ctx, testCreds, now); err != nil {
						b.Fatal(err)
					}
					if n, err := io.Copy(io.Discard, f.File); err != nil || n != int64(size) {
						b.Fatal(n, err)
					}
				}
				run()
				b.SetBytes(int64(len(raw)))
				b.ReportAllocs()
				for b.Loop() {
					run()
				}
			})
		}
	}
}
