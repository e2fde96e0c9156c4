package placement

import (
	"errors"
	"testing"
	"time"

	"github.com/tessera-store/tessera/meta"
)

func TestFromMeta(t *testing.T) {
	p, err := FromMetaPool(meta.Pool{Name: "cold", K: 8, M: 4, Codec: "zstd", Class: "hdd", Domain: "rack", PGs: 512})
	if err != nil || p != (Pool{Name: "cold", K: 8, M: 4, Codec: "zstd", Class: "hdd", Domain: LevelRack, PGs: 512}) {
		t.Fatalf("FromMetaPool = %+v, %v", p, err)
	}
	if _, err := FromMetaPool(meta.Pool{Domain: "galaxy"}); !errors.Is(err, ErrInvalidPool) {
		t.Fatalf("FromMetaPool(galaxy): %v", err)
	}
	now := time.Unix(1000, 0)
	tests := []struct {
		name string
		n    meta.Node
		want State
	}{
		{"fresh", meta.Node{ID: "a", LastSeen: now.Add(-time.Second).UnixNano()}, StateUp},
		{"stale", meta.Node{ID: "a", LastSeen: now.Add(-time.Minute).UnixNano()}, StateDown},
		{"failed", meta.Node{ID: "a", Failed: true, LastSeen: now.UnixNano()}, StateFailed},
	}
	for _, tt := range tests {
		if got := FromMetaNode(tt.n, now, 30*time.Second); got.State != tt.want {
			t.Errorf("%s: state %v, want %v", tt.name, got.State, tt.want)
		}
	}
	n := FromMetaNode(meta.Node{ID: "a", Region: "r", Zone: "z", Rack: "k", Host: "h", Class: "ssd", Capacity: 4e12}, now, 0)
	if n != (Node{ID: "a", Region: "r", Zone: "z", Rack: "k", Host: "h", Class: "ssd", Weight: 4e12}) {
		t.Fatalf("FromMetaNode = %+v", n)
	}
}
