package s3api

import (
	"context"
	"testing"

	"github.com/tessera-store/tessera/meta"
	"github.com/tessera-store/tessera/s3api/checksum"
)

// BenchmarkCopyChecksum compares the two ways a copy gets its FULL_OBJECT
// checksum: combining the part CRCs of a multipart source (metadata only)
// and streaming the source through the hash (reads every byte).
func BenchmarkCopyChecksum(b *testing.B) {
	const partSize, parts = 8 << 20, 4
	fb := newFakeBackend()
	s := New(fb, Options{})
	ctx := context.Background()
	data := randBytes(1, partSize*parts)
	src := &meta.Object{Bucket: "b", Key: "k", Size: int64(len(data)), ChecksumType: checksumComposite}
	for i := 0; i < parts; i++ {
		src.PartSizes = append(src.PartSizes, partSize)
		src.PartChecksums = append(src.PartChecksums, map[string]string{"CRC64NVME": checksum.Encode(checksum.CRC64NVME.Sum(data[i*partSize : (i+1)*partSize]))})
	}
	fb.objects["b"] = map[string]*fakeObject{"k": {o: *src, data: data}}
	want := checksum.Encode(checksum.CRC64NVME.Sum(data))
	for _, bc := range []struct {
		name string
		o    *meta.Object
	}{
		{"combine/32MiB", src},
		{"stream/32MiB", &meta.Object{Bucket: "b", Key: "k", Size: src.Size}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				v, err := s.fullObjectChecksum(ctx, bc.o, checksum.CRC64NVME)
				if err != nil || v != want {
					b.Fatalf("got %q, %v; want %q", v, err, want)
				}
			}
		})
	}
}
