package local_test

import (
	"testing"

	"github.com/cockroachdb/pebble/vfs"

	"github.com/tessera-store/tessera/meta"
	"github.com/tessera-store/tessera/meta/local"
	"github.com/tessera-store/tessera/meta/metatest"
	"github.com/tessera-store/tessera/meta/server"
)

func TestConformanceMem(t *testing.T) {
	metatest.Run(t, func(t *testing.T) meta.Service {
		s, err := local.Open("meta", server.Options{FS: vfs.NewMem(), Logger: testLogger(t)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

func TestConformanceDisk(t *testing.T) {
	metatest.Run(t, func(t *testing.T) meta.Service {
		s, err := local.Open(t.TempDir(), server.Options{Logger: testLogger(t)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}
