// Package storetest is the conformance suite for store.Store
// implementations, and their shared benchmarks.
package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"testing/iotest"

	"github.com/tessera-store/tessera/pack"
	"github.com/tessera-store/tessera/shard"
	"github.com/tessera-store/tessera/store"
)

// Corrupter is implemented by stores (or test wrappers around them) that
// can flip stored bits: mask is XORed into the byte at framed offset off of
// the shard's on-disk form (shard format, header at 0). Run uses it for the
// corruption test, which every store under test should support.
type Corrupter interface {
	Corrupt(id store.ShardID, off int64, mask byte) error
}

// Data returns n deterministic pseudo-random bytes for seed.
func Data(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 0x7e55e7a))
	b := make([]byte, n)
	for i := 0; i+8 <= n; i += 8 {
		v := r.Uint64()
		for j := range 8 {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	for i := n - n%8; i < n; i++ {
		b[i] = byte(r.Uint32())
	}
	return b
}

// Put stores data as shard id (K=4, M=2) and fails the test on error.
func Put(t testing.TB, s store.Store, id store.ShardID, data []byte) {
	t.Helper()
	info := store.ShardInfo{ID: id, Size: int64(len(data)), K: 4, M: 2}
	if err := s.Put(context.Background(), info, bytes.NewReader(data)); err != nil {
		t.Fatalf("Put %v/%d: %v", id.Pack, id.Index, err)
	}
}

func newID(i int) store.ShardID { return store.ShardID{Pack: pack.NewID(), Index: i} }

// Run runs the conformance suite. open returns a fresh, empty store for each
// subtest; the store uses the default shard block size.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	const bs = shard.DefaultBlockSize
	t.Run("PutReadRanges", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		for i, n := range []int{0, 1, bs - 1, bs, bs + 1, 3*bs + 17} {
			id := newID(i % 6)
			data := Data(uint64(n), n)
			Put(t, s, id, data)
			info, err := s.Stat(ctx, id)
			if err != nil || info != (store.ShardInfo{ID: id, Size: int64(n), K: 4, M: 2}) {
				t.Fatalf("Stat = %+v, %v", info, err)
			}
			edges := []int{0, 1, bs - 1, bs, bs + 1, 2*bs - 1, 2 * bs, n - 1, n}
			for _, off := range edges {
				for _, l := range []int{0, 1, 2, bs - 1, bs, bs + 1, 2*bs + 1, n} {
					if off < 0 || l < 0 || off+l > n {
						continue
					}
					p := make([]byte, l)
					if err := s.ReadAt(ctx, id, p, int64(off)); err != nil {
						t.Fatalf("size %d: ReadAt(%d, %d): %v", n, off, l, err)
					}
					if !bytes.Equal(p, data[off:off+l]) {
						t.Fatalf("size %d: ReadAt(%d, %d): wrong bytes", n, off, l)
					}
				}
			}
			for _, r := range [][2]int{{n, 1}, {n + 1, 0}, {-1, 1}, {0, n + 1}, {n - 1, 2}} {
				if r[0]+r[1] <= n && r[0] >= 0 {
					continue
				}
				err := s.ReadAt(ctx, id, make([]byte, r[1]), int64(r[0]))
				if !errors.Is(err, store.ErrOutOfRange) {
					t.Fatalf("size %d: ReadAt(%d, %d) = %v, want ErrOutOfRange", n, r[0], r[1], err)
				}
			}
		}
	})
	t.Run("NotFound", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		id := newID(0)
		if err := s.ReadAt(ctx, id, make([]byte, 1), 0); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("ReadAt: %v", err)
		}
		if _, err := s.Stat(ctx, id); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("Stat: %v", err)
		}
		if err := s.Delete(ctx, id); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("Delete: %v", err)
		}
	})
	t.Run("ExistsDelete", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		id := newID(3)
		Put(t, s, id, Data(1, 1000))
		info := store.ShardInfo{ID: id, Size: 5, K: 4, M: 2}
		if err := s.Put(ctx, info, bytes.NewReader(Data(2, 5))); !errors.Is(err, store.ErrExists) {
			t.Fatalf("second Put: %v", err)
		}
		p := make([]byte, 1000)
		if err := s.ReadAt(ctx, id, p, 0); err != nil || !bytes.Equal(p, Data(1, 1000)) {
			t.Fatalf("first shard changed: %v", err)
		}
		if err := s.Delete(ctx, id); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Stat(ctx, id); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("Stat after Delete: %v", err)
		}
		if err := s.Delete(ctx, id); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("second Delete: %v", err)
		}
		Put(t, s, id, Data(3, 10)) // re-put after delete
		if err := s.ReadAt(ctx, id, p[:10], 0); err != nil || !bytes.Equal(p[:10], Data(3, 10)) {
			t.Fatalf("re-put: %v", err)
		}
	})
	t.Run("Walk", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		want := map[store.ShardID]int64{}
		for i := range 20 {
			id := newID(i % 6)
			Put(t, s, id, Data(uint64(i), i*100))
			want[id] = int64(i * 100)
		}
		got := map[store.ShardID]int64{}
		err := s.Walk(ctx, func(info store.ShardInfo) error {
			if info.K != 4 || info.M != 2 {
				return fmt.Errorf("info %+v", info)
			}
			got[info.ID] = info.Size
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("Walk got %v, want %v", got, want)
		}
		stop := errors.New("stop")
		calls := 0
		err = s.Walk(ctx, func(store.ShardInfo) error { calls++; return stop })
		if !errors.Is(err, stop) || calls != 1 {
			t.Fatalf("Walk stop: %v after %d calls", err, calls)
		}
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if err := s.Walk(cctx, func(store.ShardInfo) error { return nil }); !errors.Is(err, context.Canceled) {
			t.Fatalf("Walk with cancelled ctx: %v", err)
		}
	})
	t.Run("BadPut", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		data := Data(9, 3*bs)
		cases := []struct {
			name string
			info store.ShardInfo
			r    io.Reader
		}{
			{"short", store.ShardInfo{Size: int64(len(data)), K: 4, M: 2}, bytes.NewReader(data[:bs+5])},
			{"readerError", store.ShardInfo{Size: int64(len(data)), K: 4, M: 2}, io.MultiReader(bytes.NewReader(data[:bs*2]), iotest.ErrReader(errors.New("client went away")))},
			{"k0", store.ShardInfo{Size: 10, K: 0, M: 2}, bytes.NewReader(data[:10])},
			{"index", store.ShardInfo{Size: 10, K: 1, M: 0}, bytes.NewReader(data[:10])},
			{"negativeSize", store.ShardInfo{Size: -1, K: 1, M: 0}, bytes.NewReader(nil)},
		}
		for i, c := range cases {
			c.info.ID = newID(i % 3)
			if c.name == "index" {
				c.info.ID.Index = 1
			}
			if err := s.Put(ctx, c.info, c.r); err == nil {
				t.Fatalf("%s: Put succeeded", c.name)
			}
			if _, err := s.Stat(ctx, c.info.ID); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("%s: Stat after failed Put: %v", c.name, err)
			}
		}
		n := 0
		if err := s.Walk(ctx, func(store.ShardInfo) error { n++; return nil }); err != nil || n != 0 {
			t.Fatalf("Walk after failed puts: %d shards, %v", n, err)
		}
		if u, ok := s.(store.Usager); ok {
			us, err := u.Usage(ctx)
			if err != nil || us.Shards != 0 || us.UsedBytes != 0 {
				t.Fatalf("Usage after failed puts: %+v, %v", us, err)
			}
		}
		// The same ID can be put after a failed attempt.
		id := newID(0)
		_ = s.Put(ctx, store.ShardInfo{ID: id, Size: 100, K: 4, M: 2}, bytes.NewReader(data[:50]))
		Put(t, s, id, data[:100])
	})
	t.Run("Cancel", func(t *testing.T) {
		s := open(t)
		ctx, cancel := context.WithCancel(t.Context())
		id := newID(1)
		data := Data(5, 4*bs)
		// The reader cancels the context half way through the body.
		r := &cancelReader{r: bytes.NewReader(data), after: 2 * bs, cancel: cancel}
		if err := s.Put(ctx, store.ShardInfo{ID: id, Size: int64(len(data)), K: 4, M: 2}, r); err == nil {
			t.Fatal("Put with cancelled ctx succeeded")
		}
		if _, err := s.Stat(t.Context(), id); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("Stat after cancelled Put: %v", err)
		}
		Put(t, s, id, data)
		if err := s.ReadAt(ctx, id, make([]byte, 10), 0); err == nil {
			t.Fatal("ReadAt with cancelled ctx succeeded")
		}
	})
	t.Run("Concurrent", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		const workers = 8
		var wg sync.WaitGroup
		errs := make(chan error, workers*2)
		shared := newID(0)
		var wins atomic.Int32
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				data := Data(uint64(w), bs+w*1000)
				// Everyone races to put the same shard; exactly one wins.
				err := s.Put(ctx, store.ShardInfo{ID: shared, Size: int64(len(data)), K: 4, M: 2}, bytes.NewReader(data))
				switch {
				case err == nil:
					wins.Add(1)
				case !errors.Is(err, store.ErrExists):
					errs <- fmt.Errorf("racing put: %w", err)
				}
				for i := range 5 {
					id := newID(i)
					if err := s.Put(ctx, store.ShardInfo{ID: id, Size: int64(len(data)), K: 4, M: 2}, bytes.NewReader(data)); err != nil {
						errs <- err
						return
					}
					p := make([]byte, len(data)-7)
					if err := s.ReadAt(ctx, id, p, 7); err != nil || !bytes.Equal(p, data[7:]) {
						errs <- fmt.Errorf("read back: %v", err)
						return
					}
					if i%2 == 0 {
						if err := s.Delete(ctx, id); err != nil {
							errs <- err
							return
						}
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		if wins.Load() != 1 {
			t.Fatalf("%d racing puts won, want 1", wins.Load())
		}
		info, err := s.Stat(ctx, shared)
		if err != nil {
			t.Fatal(err)
		}
		p := make([]byte, info.Size)
		if err := s.ReadAt(ctx, shared, p, 0); err != nil {
			t.Fatal(err)
		}
		n := 0
		if err := s.Walk(ctx, func(store.ShardInfo) error { n++; return nil }); err != nil || n != 1+workers*2 {
			t.Fatalf("Walk: %d shards, %v; want %d", n, err, 1+workers*2)
		}
	})
	t.Run("Corruption", func(t *testing.T) {
		s := open(t)
		c, ok := s.(Corrupter)
		if !ok {
			t.Fatalf("%T does not implement storetest.Corrupter", s)
		}
		ctx := t.Context()
		id := newID(2)
		data := Data(11, 4*bs)
		Put(t, s, id, data)
		// Flip a bit in block 2.
		framed := int64(shard.HeaderSize) + 2*(bs+shard.ChecksumSize) + 100
		if err := c.Corrupt(id, framed, 0x10); err != nil {
			t.Fatal(err)
		}
		p := make([]byte, bs)
		for _, off := range []int64{0, bs, 3 * bs} {
			if err := s.ReadAt(ctx, id, p, off); err != nil || !bytes.Equal(p, data[off:off+bs]) {
				t.Fatalf("untouched block at %d: %v", off, err)
			}
		}
		for _, r := range [][2]int64{{2 * bs, 1}, {2*bs - 1, 2}, {0, 4 * bs}, {2*bs + 100, 1}} {
			if err := s.ReadAt(ctx, id, make([]byte, r[1]), r[0]); !errors.Is(err, store.ErrCorrupt) {
				t.Fatalf("ReadAt(%d, %d) over the bad block = %v, want ErrCorrupt", r[0], r[1], err)
			}
		}
		// A corrupt header makes every read fail.
		id2 := newID(3)
		Put(t, s, id2, data[:10])
		if err := c.Corrupt(id2, 30, 1); err != nil {
			t.Fatal(err)
		}
		if err := s.ReadAt(ctx, id2, p[:1], 0); !errors.Is(err, store.ErrCorrupt) {
			t.Fatalf("corrupt header: %v", err)
		}
	})
}

type cancelReader struct {
	r      io.Reader
	after  int
	n      int
	cancel func()
}

func (c *cancelReader) Read(p []byte) (int, error) {
	if c.n >= c.after {
		// Cancel, then fail like a body whose request was cancelled, so
		// that a remote store cannot finish sending the body regardless.
		c.cancel()
		return 0, context.Canceled
	}
	if len(p) > 4096 {
		p = p[:4096]
	}
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}
