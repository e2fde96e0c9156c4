package object

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/tessera-store/tessera/meta"
	"github.com/tessera-store/tessera/pack"
	"github.com/tessera-store/tessera/s3api"
	"github.com/tessera-store/tessera/store"
)

// slowStore delays every shard write, as a disk's fsync does, so that
// concurrent small uploads find a seal in flight and share the next pack.
type slowStore struct {
	store.Store
	delay time.Duration
}

func (s slowStore) Put(ctx context.Context, info store.ShardInfo, r io.Reader) error {
	time.Sleep(s.delay)
	return s.Store.Put(ctx, info, r)
}

func TestSharedPacks(t *testing.T) {
	e := newEnv(t, 4, 2, Options{CacheBytes: -1, PackSize: 1 << 20, SharedSeals: 1})
	for _, fs := range e.stores {
		fs.Store = slowStore{Store: fs.Store, delay: 20 * time.Millisecond}
	}
	ctx := context.Background()
	const n = 24
	objs := make([][]byte, n)
	for i := range objs {
		objs[i] = randBytes(uint64(100+i), 100<<10+i)
	}

	// One upload dies after its first chunks went into a shared pack.
	pr, pw := io.Pipe()
	cutCtx, cut := context.WithCancel(ctx)
	cutDone := make(chan error, 1)
	go func() {
		_, err := e.l.PutObject(cutCtx, &s3api.PutInput{Object: meta.Object{Bucket: "bkt", Key: "cut"}, Body: pr, Size: 400 << 10})
		cutDone <- err
	}()
	pw.Write(randBytes(99, 300<<10))

	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e.put(t, fmt.Sprintf("small%d", i), objs[i])
		}()
	}
	wg.Wait()
	cut()
	pw.CloseWithError(context.Canceled)
	if err := <-cutDone; err == nil {
		t.Fatal("cut upload succeeded")
	}
	if _, err := e.l.HeadObject(ctx, "bkt", "cut"); !errors.Is(err, meta.ErrNoSuchKey) {
		t.Fatalf("cut upload visible: %v", err)
	}

	st, err := e.meta.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// 24 objects of ~100 KiB fit in 3 packs of 1 MiB; with one seal at a
	// time and 20 ms per shard write, uploads must have shared packs.
	if st.Packs >= n/2 {
		t.Errorf("%d objects made %d packs: uploads did not share packs", n, st.Packs)
	}
	t.Logf("%d objects in %d packs", n, st.Packs)
	for i := range n {
		got, err := e.get(t, fmt.Sprintf("small%d", i), 0, int64(len(objs[i])))
		if err != nil || !bytes.Equal(got, objs[i]) {
			t.Fatalf("small%d: %v", i, err)
		}
	}

	// Delete half: no pack dies while a live object has chunks in it, and
	// the survivors read after GC.
	gc := func() []meta.Pack {
		t.Helper()
		res, err := e.meta.CollectGarbage(ctx, &meta.GCRequest{ReqID: reqID(), Time: time.Now().Add(time.Hour).UnixNano(), Grace: int64(time.Minute)})
		if err != nil {
			t.Fatal(err)
		}
		var ids []pack.ID
		for _, p := range res.DeadPacks {
			for i, node := range p.Nodes {
				e.stores[node].Delete(ctx, store.ShardID{Pack: p.ID, Index: i})
			}
			ids = append(ids, p.ID)
		}
		if err := e.meta.ForgetPacks(ctx, reqID(), ids); err != nil {
			t.Fatal(err)
		}
		return res.DeadPacks
	}
	for i := 0; i < n; i += 2 {
		if err := e.l.DeleteObject(ctx, "bkt", fmt.Sprintf("small%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	gc()
	for i := 1; i < n; i += 2 {
		got, err := e.get(t, fmt.Sprintf("small%d", i), 0, int64(len(objs[i])))
		if err != nil || !bytes.Equal(got, objs[i]) {
			t.Fatalf("small%d after GC: %v", i, err)
		}
	}
	// Delete the rest: every pack dies, though the cut upload's frames were
	// never committed.
	for i := 1; i < n; i += 2 {
		if err := e.l.DeleteObject(ctx, "bkt", fmt.Sprintf("small%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	gc()
	if st, err = e.meta.Stats(ctx); err != nil {
		t.Fatal(err)
	}
	if st.Packs != 0 || st.StoredBytes != 0 {
		t.Errorf("after deleting everything: %d packs, %d stored bytes", st.Packs, st.StoredBytes)
	}
}

// A shared pack that cannot be written fails every upload in it, and none
// of them becomes visible.
func TestSharedPackWriteFails(t *testing.T) {
	e := newEnv(t, 4, 2, Options{CacheBytes: -1, PackSize: 1 << 20})
	for _, id := range e.nodes[:3] {
		e.stores[id].set(true)
	}
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			data := randBytes(uint64(i), 50<<10)
			_, errs[i] = e.l.PutObject(context.Background(), &s3api.PutInput{
				Object: meta.Object{Bucket: "bkt", Key: fmt.Sprintf("f%d", i)}, Body: bytes.NewReader(data), Size: int64(len(data))})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if !errors.Is(err, ErrWriteQuorum) {
			t.Errorf("f%d: %v, want ErrWriteQuorum", i, err)
		}
		if _, err := e.l.HeadObject(context.Background(), "bkt", fmt.Sprintf("f%d", i)); !errors.Is(err, meta.ErrNoSuchKey) {
			t.Errorf("f%d visible after failed write: %v", i, err)
		}
	}
}
