package gateway

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tessera-store/tessera/chunk"
	"github.com/tessera-store/tessera/meta"
	"github.com/tessera-store/tessera/meta/local"
	"github.com/tessera-store/tessera/meta/server"
	"github.com/tessera-store/tessera/object"
	"github.com/tessera-store/tessera/pack"
	"github.com/tessera-store/tessera/s3api"
	"github.com/tessera-store/tessera/store"
	"github.com/tessera-store/tessera/store/mem"
)

// downStore fails every call while down is set: a node that is off.
type downStore struct {
	store.Store
	down atomic.Bool
}

func (d *downStore) Put(ctx context.Context, info store.ShardInfo, r io.Reader) error {
	if d.down.Load() {
		return store.ErrUnavailable
	}
	return d.Store.Put(ctx, info, r)
}

func (d *downStore) ReadAt(ctx context.Context, id store.ShardID, p []byte, off int64) error {
	if d.down.Load() {
		return store.ErrUnavailable
	}
	return d.Store.ReadAt(ctx, id, p, off)
}

// Writes while two drives are down record missing shards; the GC pass
// rebuilds them; afterwards two *other* drives may fail and every byte
// still reads, which only holds if the rebuilt shards are right.
func TestRepairRebuildsMissingShards(t *testing.T) {
	ctx := context.Background()
	log := slog.New(slog.DiscardHandler)
	ms, err := local.Open(t.TempDir(), server.Options{Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	defer ms.Close()
	stores := &storeMap{stores: map[string]store.Store{}}
	var drives []string
	var ds []*downStore
	for i := range 6 {
		st, err := mem.New(mem.Options{})
		if err != nil {
			t.Fatal(err)
		}
		d := &downStore{Store: st}
		id := fmt.Sprintf("drive%d", i+1)
		stores.stores[id] = d
		drives = append(drives, id)
		ds = append(ds, d)
	}
	layer, err := object.New(object.Options{Meta: ms, Stores: stores, Placement: &driveRing{k: 4, m: 2, drives: drives},
		Logger: log, CacheBytes: -1, PackSize: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	if err := layer.CreateBucket(ctx, "alice", "bkt", "us-east-1"); err != nil {
		t.Fatal(err)
	}
	data := make([]byte, 5<<20)
	rand.NewChaCha8([32]byte{7}).Read(data)
	ds[0].down.Store(true)
	ds[3].down.Store(true)
	if _, err := layer.PutObject(ctx, &s3api.PutInput{Object: meta.Object{Bucket: "bkt", Key: "k"}, Body: bytes.NewReader(data), Size: int64(len(data))}); err != nil {
		t.Fatal(err)
	}
	ds[0].down.Store(false)
	ds[3].down.Store(false)

	gc := &collector{meta: ms, nodes: func(context.Context) ([]string, error) { return drives, nil }, store: stores.Store,
		grace: time.Hour, now: time.Now, log: log,
		repair: &repairer{meta: ms, store: stores.Store, targets: sameNodeTargets, log: log}}
	if err := gc.once(ctx); err != nil {
		t.Fatal(err)
	}
	o, err := layer.HeadObject(ctx, "bkt", "k")
	if err != nil {
		t.Fatal(err)
	}
	infos, err := ms.LookupChunks(ctx, []chunk.Addr{o.Chunks[0].Addr})
	if err != nil {
		t.Fatal(err)
	}
	ps, err := ms.GetPacks(ctx, []pack.ID{infos[0].Pack})
	if err != nil || len(ps[0].Missing) != 0 {
		t.Fatalf("after repair, pack missing %v (%v)", ps[0].Missing, err)
	}
	// Two other drives fail now.
	ds[1].down.Store(true)
	ds[5].down.Store(true)
	rc, err := layer.OpenObject(ctx, o, 0, o.Size)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read after repair with two other drives down: %v", err)
	}
}
