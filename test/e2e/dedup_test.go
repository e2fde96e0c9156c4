package e2e

import (
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/tessera-store/tessera/chunk"
)

// TestDedupVisible: the same seeded random object under two keys is stored
// once; a 1-byte edit in the middle stores only the chunks around the edit.
func TestDedupVisible(t *testing.T) {
	s := newServer(t, serverOpts{})
	ctx := ctxFor(t, 5*time.Minute)
	mc := s.rootMinio(t)
	const b = "dedup"
	if err := mc.MakeBucket(ctx, b, minio.MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}
	size := int64(100 << 20)
	if raceEnabled {
		size = 24 << 20
	}
	put := func(key string, flip int64) {
		t.Helper()
		start := time.Now()
		// PartSize above size: one PUT, so the measurement is about chunks,
		// not part boundaries.
		if _, err := mc.PutObject(ctx, b, key, newSeeded(1, size, flip), size, minio.PutObjectOptions{PartSize: uint64(size) + 1<<20, DisableMultipart: true}); err != nil {
			t.Fatalf("put %s: %v", key, err)
		}
		t.Logf("PUT %s: %d MiB in %v", key, size>>20, time.Since(start).Round(time.Millisecond))
	}
	s0 := s.stats(t)
	put("one", -1)
	s1 := s.stats(t)
	put("two", -1)
	s2 := s.stats(t)
	put("edited", size/2)
	s3 := s.stats(t)
	t.Logf("stored_bytes: %d -> %d -> %d -> %d; logical_bytes: %d -> %d -> %d -> %d; raw_bytes %d -> %d",
		s0.StoredBytes, s1.StoredBytes, s2.StoredBytes, s3.StoredBytes, s0.LogicalBytes, s1.LogicalBytes, s2.LogicalBytes, s3.LogicalBytes, s0.RawBytes, s3.RawBytes)

	first := s1.StoredBytes - s0.StoredBytes
	// Random data does not compress: the first copy stores ~size (framing
	// overhead allowed: 2%).
	if first < size*98/100 || first > size*102/100 {
		t.Errorf("first copy stored %d bytes, want ~%d", first, size)
	}
	if got := s2.StoredBytes - s1.StoredBytes; got != 0 {
		t.Errorf("second identical copy stored %d bytes, want 0", got)
	}
	if got := s2.LogicalBytes - s1.LogicalBytes; got != size {
		t.Errorf("second copy logical bytes +%d, want %d", got, size)
	}
	edit := s3.StoredBytes - s2.StoredBytes
	limit := int64(2*chunk.DefaultMax) + 64<<10
	if edit <= 0 || edit > limit {
		t.Errorf("1-byte edit stored %d bytes, want 1..%d (2 x chunk.DefaultMax + framing)", edit, limit)
	}
	t.Logf("1-byte edit stored %d bytes (%.2f%% of the object)", edit, 100*float64(edit)/float64(size))
	// All three read back intact.
	for key, flip := range map[string]int64{"one": -1, "two": -1, "edited": size / 2} {
		want, _ := sha256Of(t, newSeeded(1, size, flip))
		obj, err := mc.GetObject(ctx, b, key, minio.GetObjectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		got, n := sha256Of(t, obj)
		obj.Close()
		if got != want || n != size {
			t.Errorf("GET %s: %d bytes, content differs=%v", key, n, got != want)
		}
	}
}
