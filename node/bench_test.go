package node

import (
	"net/http/httptest"
	"testing"

	"github.com/tessera-store/tessera/store"
	"github.com/tessera-store/tessera/store/disk"
	"github.com/tessera-store/tessera/store/remote"
	"github.com/tessera-store/tessera/store/storetest"
)

// BenchmarkNode measures the node read and write path end to end over
// loopback TCP: remote client -> HTTP/1.1 -> Server -> disk store (warm
// page cache).
func BenchmarkNode(b *testing.B) {
	storetest.Bench(b, func(b *testing.B) store.Store {
		d, err := disk.Open(b.TempDir(), disk.Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { d.Close() })
		srv := httptest.NewServer(&Server{Store: d})
		b.Cleanup(srv.Close)
		c, err := remote.New(srv.URL, remote.Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { c.Close() })
		return c
	})
}
