package mem_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/tessera-store/tessera/store"
	"github.com/tessera-store/tessera/store/mem"
	"github.com/tessera-store/tessera/store/storetest"
)

func open(t *testing.T) store.Store {
	s, err := mem.New(mem.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) { storetest.Run(t, open) }

func TestNoSpace(t *testing.T) {
	s, err := mem.New(mem.Options{MaxBytes: 1000})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	id := store.ShardID{Index: 0}
	if err := s.Put(ctx, store.ShardInfo{ID: id, Size: 900, K: 1}, bytes.NewReader(make([]byte, 900))); err != nil {
		t.Fatal(err)
	}
	id2 := store.ShardID{Index: 1}
	err = s.Put(ctx, store.ShardInfo{ID: id2, Size: 100, K: 1, M: 1}, bytes.NewReader(make([]byte, 100)))
	if !errors.Is(err, store.ErrNoSpace) {
		t.Fatalf("Put over quota: %v", err)
	}
	u, _ := s.Usage(ctx)
	if u.Shards != 1 || u.UsedBytes != 900+64+4 || u.FreeBytes != 1000-u.UsedBytes {
		t.Fatalf("usage %+v", u)
	}
	if !s.Drop(id) || s.Drop(id) {
		t.Fatal("Drop")
	}
	if _, err := s.Stat(ctx, id); !errors.Is(err, store.ErrNotFound) {
		t.Fatal(err)
	}
	if _, err := mem.New(mem.Options{MaxBytes: -1}); err == nil {
		t.Fatal("negative MaxBytes accepted")
	}
}

func BenchmarkStore(b *testing.B) {
	storetest.Bench(b, func(b *testing.B) store.Store {
		s, _ := mem.New(mem.Options{})
		return s
	})
}
