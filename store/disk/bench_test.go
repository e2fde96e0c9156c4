package disk

import (
	"testing"

	"github.com/tessera-store/tessera/store"
	"github.com/tessera-store/tessera/store/storetest"
)

// BenchmarkStore runs the shared store benchmarks on a drive folder under
// the test's temp dir. Reads hit a warm page cache (the shards were just
// written, 16 MiB in all); writes include fsync of file and directory.
func BenchmarkStore(b *testing.B) {
	storetest.Bench(b, func(b *testing.B) store.Store {
		return openTest(b, b.TempDir(), Options{})
	})
}
