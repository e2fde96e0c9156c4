package object

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"
	"testing/iotest"
	"time"

	"github.com/tessera-store/tessera/chunk"
	"github.com/tessera-store/tessera/meta"
	"github.com/tessera-store/tessera/meta/local"
	"github.com/tessera-store/tessera/meta/server"
	"github.com/tessera-store/tessera/pack"
	"github.com/tessera-store/tessera/s3api"
	"github.com/tessera-store/tessera/store"
	"github.com/tessera-store/tessera/store/mem"
)

// faultStore wraps a store to inject failures.
type faultStore struct {
	store.Store
	mu       sync.Mutex
	down     bool // every call fails with ErrUnavailable
	failPuts bool
	reads    int
}

func (f *faultStore) Put(ctx context.Context, info store.ShardInfo, r io.Reader) error {
	f.mu.Lock()
	bad := f.down || f.failPuts
	f.mu.Unlock()
	if bad {
		return store.ErrUnavailable
	}
	return f.Store.Put(ctx, info, r)
}

func (f *faultStore) ReadAt(ctx context.Context, id store.ShardID, p []byte, off int64) error {
	f.mu.Lock()
	f.reads++
	bad := f.down
	f.mu.Unlock()
	if bad {
		return store.ErrUnavailable
	}
	return f.Store.ReadAt(ctx, id, p, off)
}

func (f *faultStore) set(down bool) {
	f.mu.Lock()
	f.down = down
	f.mu.Unlock()
}

type testStores map[string]*faultStore

func (s testStores) Store(node string) (store.Store, error) {
	st, ok := s[node]
	if !ok {
		return nil, store.ErrUnavailable
	}
	return st, nil
}

type fixedPlacement struct {
	k, m  int
	nodes []string
}

func (p fixedPlacement) Place(context.Context, pack.ID) (int, int, []string, error) {
	return p.k, p.m, p.nodes, nil
}

type env struct {
	l      *Layer
	meta   meta.Service
	stores testStores
	nodes  []string
}

func newEnv(t *testing.T, k, m int, opt Options) *env {
	t.Helper()
	ms, err := local.Open(t.TempDir(), server.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ms.Close() })
	e := &env{meta: ms, stores: testStores{}}
	for i := range k + m {
		id := fmt.Sprintf("n%d", i)
		e.stores[id] = &faultStore{Store: mustMem(t)}
		e.nodes = append(e.nodes, id)
	}
	opt.Meta, opt.Stores, opt.Placement = ms, e.stores, fixedPlacement{k, m, e.nodes}
	if opt.PackSize == 0 {
		opt.PackSize = 1 << 20
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	e.l, err = New(opt)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.l.CreateBucket(context.Background(), "alice", "bkt", "us-east-1"); err != nil {
		t.Fatal(err)
	}
	return e
}

func randBytes(seed uint64, n int) []byte {
	b := make([]byte, n)
	rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8)}).Read(b)
	return b
}

func (e *env) put(t *testing.T, key string, data []byte) *meta.Object {
	t.Helper()
	o, err := e.l.PutObject(context.Background(), &s3api.PutInput{
		Object: meta.Object{Bucket: "bkt", Key: key},
		Body:   bytes.NewReader(data),
		Size:   int64(len(data)),
		Seal: func(o *meta.Object) error {
			s := md5.Sum(data)
			o.ETag = hex.EncodeToString(s[:])
			return nil
		},
	})
	if err != nil {
		t.Fatalf("put %s: %v", key, err)
	}
	return o
}

func (e *env) get(t *testing.T, key string, off, n int64) ([]byte, error) {
	t.Helper()
	o, err := e.l.HeadObject(context.Background(), "bkt", key)
	if err != nil {
		return nil, err
	}
	rc, err := e.l.OpenObject(context.Background(), o, off, n)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

func TestRoundTrip(t *testing.T) {
	e := newEnv(t, 4, 2, Options{CacheBytes: -1})
	for _, n := range []int{0, 1, 4095, 4096, 4097, 100_000, 3 << 20, 9<<20 + 17} {
		data := randBytes(uint64(n), n)
		key := fmt.Sprintf("k%d", n)
		o := e.put(t, key, data)
		if o.Size != int64(n) {
			t.Fatalf("size %d, want %d", o.Size, n)
		}
		got, err := e.get(t, key, 0, int64(n))
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("get %s: %v (equal=%v)", key, err, bytes.Equal(got, data))
		}
		r := rand.New(rand.NewPCG(uint64(n), 1))
		for range 20 {
			if n == 0 {
				break
			}
			off := r.Int64N(int64(n))
			ln := r.Int64N(int64(n) - off + 1)
			got, err := e.get(t, key, off, ln)
			if err != nil || !bytes.Equal(got, data[off:off+ln]) {
				t.Fatalf("range %d+%d of %d: %v", off, ln, n, err)
			}
		}
	}
}

func TestDedup(t *testing.T) {
	e := newEnv(t, 4, 2, Options{})
	ctx := context.Background()
	data := randBytes(7, 8<<20)
	e.put(t, "a", data)
	s1, _ := e.meta.Stats(ctx)
	e.put(t, "bkt", data)
	s2, _ := e.meta.Stats(ctx)
	if s2.StoredBytes != s1.StoredBytes || s2.UniqueChunks != s1.UniqueChunks {
		t.Fatalf("second copy stored bytes: before %+v after %+v", s1, s2)
	}
	if s2.LogicalBytes != 2*int64(len(data)) {
		t.Fatalf("logical %d", s2.LogicalBytes)
	}
	// A one-byte edit in the middle stores only the chunks around it.
	edited := bytes.Clone(data)
	edited[len(edited)/2] ^= 0xff
	e.put(t, "c", edited)
	s3, _ := e.meta.Stats(ctx)
	if grow := s3.StoredBytes - s2.StoredBytes; grow <= 0 || grow > 1<<20 {
		t.Fatalf("1-byte edit stored %d new bytes", grow)
	}
	got, err := e.get(t, "c", 0, int64(len(edited)))
	if err != nil || !bytes.Equal(got, edited) {
		t.Fatalf("get edited: %v", err)
	}
}

func TestDegradedReads(t *testing.T) {
	e := newEnv(t, 4, 2, Options{CacheBytes: -1})
	data := randBytes(3, 5<<20)
	e.put(t, "x", data)
	// Any two nodes down: every byte still reads.
	for a := range 6 {
		for b := a + 1; b < 6; b++ {
			e.stores[e.nodes[a]].set(true)
			e.stores[e.nodes[b]].set(true)
			got, err := e.get(t, "x", 12345, 3<<20)
			if err != nil || !bytes.Equal(got, data[12345:12345+3<<20]) {
				t.Fatalf("nodes %d,%d down: %v", a, b, err)
			}
			e.stores[e.nodes[a]].set(false)
			e.stores[e.nodes[b]].set(false)
		}
	}
	// Three down: a typed error, never wrong bytes.
	for _, i := range []int{0, 1, 2} {
		e.stores[e.nodes[i]].set(true)
	}
	if _, err := e.get(t, "x", 0, int64(len(data))); err == nil {
		t.Fatal("read with 3 of 6 shards lost succeeded")
	}
}

func TestWriteWithNodesDown(t *testing.T) {
	e := newEnv(t, 4, 2, Options{CacheBytes: -1})
	e.stores[e.nodes[1]].set(true)
	e.stores[e.nodes[4]].set(true)
	data := randBytes(11, 3<<20)
	e.put(t, "y", data)
	e.stores[e.nodes[1]].set(false)
	e.stores[e.nodes[4]].set(false)
	got, err := e.get(t, "y", 0, int64(len(data)))
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("get: %v", err)
	}
	o, _ := e.l.HeadObject(context.Background(), "bkt", "y")
	infos, _ := e.meta.LookupChunks(context.Background(), []chunk.Addr{o.Chunks[0].Addr})
	ps, _ := e.meta.GetPacks(context.Background(), []pack.ID{infos[0].Pack})
	if len(ps[0].Missing) != 2 {
		t.Fatalf("missing shards recorded: %v", ps[0].Missing)
	}
	// Three down: the write fails and nothing becomes visible.
	for _, i := range []int{0, 2, 5} {
		e.stores[e.nodes[i]].set(true)
	}
	fresh := randBytes(12, 3<<20)
	_, err = e.l.PutObject(context.Background(), &s3api.PutInput{Object: meta.Object{Bucket: "bkt", Key: "z"}, Body: bytes.NewReader(fresh), Size: int64(len(fresh))})
	if !errors.Is(err, ErrWriteQuorum) {
		t.Fatalf("put with 3 nodes down: %v", err)
	}
	if _, err := e.l.HeadObject(context.Background(), "bkt", "z"); !errors.Is(err, meta.ErrNoSuchKey) {
		t.Fatalf("failed put visible: %v", err)
	}
}

func TestBadBodies(t *testing.T) {
	e := newEnv(t, 2, 1, Options{})
	ctx := context.Background()
	data := randBytes(5, 300_000)
	cases := []struct {
		name string
		body io.Reader
		size int64
		want error
	}{
		{"short", bytes.NewReader(data[:1000]), int64(len(data)), ErrShortBody},
		{"long", bytes.NewReader(data), 1000, ErrLongBody},
		{"short-inline", bytes.NewReader(data[:10]), 100, ErrShortBody},
		{"long-inline", bytes.NewReader(data[:101]), 100, ErrLongBody},
		{"reader-error", iotest.TimeoutReader(bytes.NewReader(data)), -1, iotest.ErrTimeout},
		{"too-large", bytes.NewReader(data), 6 << 30, ErrTooLarge},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := e.l.PutObject(ctx, &s3api.PutInput{Object: meta.Object{Bucket: "bkt", Key: c.name}, Body: c.body, Size: c.size})
			if !errors.Is(err, c.want) {
				t.Fatalf("err %v, want %v", err, c.want)
			}
			if _, err := e.l.HeadObject(ctx, "bkt", c.name); !errors.Is(err, meta.ErrNoSuchKey) {
				t.Fatalf("failed put visible: %v", err)
			}
		})
	}
	// A Seal error (a digest mismatch found at the end) aborts the commit.
	bad := errors.New("bad digest")
	_, err := e.l.PutObject(ctx, &s3api.PutInput{Object: meta.Object{Bucket: "bkt", Key: "sealed"}, Body: bytes.NewReader(data), Size: int64(len(data)),
		Seal: func(*meta.Object) error { return bad }})
	if !errors.Is(err, bad) {
		t.Fatalf("seal error: %v", err)
	}
	if _, err := e.l.HeadObject(ctx, "bkt", "sealed"); !errors.Is(err, meta.ErrNoSuchKey) {
		t.Fatalf("aborted put visible: %v", err)
	}
}

// A client that disconnects mid-upload leaves no object and no goroutines.
func TestCancelledUpload(t *testing.T) {
	e := newEnv(t, 4, 2, Options{})
	before := runtime.NumGoroutine()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		_, err := e.l.PutObject(ctx, &s3api.PutInput{Object: meta.Object{Bucket: "bkt", Key: "cut"}, Body: pr, Size: 64 << 20})
		done <- err
	}()
	pw.Write(randBytes(1, 5<<20))
	cancel()
	pw.CloseWithError(context.Canceled)
	if err := <-done; err == nil {
		t.Fatal("cancelled upload succeeded")
	}
	if _, err := e.l.HeadObject(context.Background(), "bkt", "cut"); !errors.Is(err, meta.ErrNoSuchKey) {
		t.Fatalf("cancelled put visible: %v", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<20)
		t.Fatalf("%d goroutines after cancel, %d before:\n%s", n, before, buf[:runtime.Stack(buf, true)])
	}
}

func TestConcurrentSameData(t *testing.T) {
	e := newEnv(t, 4, 2, Options{CacheBytes: -1})
	data := randBytes(9, 4<<20)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e.put(t, fmt.Sprintf("same%d", i), data)
		}()
	}
	wg.Wait()
	for i := range 8 {
		got, err := e.get(t, fmt.Sprintf("same%d", i), 0, int64(len(data)))
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("same%d: %v", i, err)
		}
	}
	// Delete all but one: the survivor still reads after GC.
	for i := 1; i < 8; i++ {
		if err := e.l.DeleteObject(context.Background(), "bkt", fmt.Sprintf("same%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	res, err := e.meta.CollectGarbage(context.Background(), &meta.GCRequest{ReqID: reqID(), Time: time.Now().Add(time.Hour).UnixNano(), Grace: int64(time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range res.DeadPacks {
		for i, n := range p.Nodes {
			e.stores[n].Delete(context.Background(), store.ShardID{Pack: p.ID, Index: i})
		}
	}
	got, err := e.get(t, "same0", 0, int64(len(data)))
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("survivor after GC: %v", err)
	}
}

func TestCopyIsMetadataOnly(t *testing.T) {
	e := newEnv(t, 4, 2, Options{})
	ctx := context.Background()
	data := randBytes(4, 2<<20)
	src := e.put(t, "src", data)
	s1, _ := e.meta.Stats(ctx)
	for n := range e.stores {
		e.stores[n].failPuts = true // a copy that wrote shards would fail
	}
	dst, err := e.l.CopyObject(ctx, src, &meta.Object{Bucket: "bkt", Key: "dst"}, "", "")
	if err != nil {
		t.Fatal(err)
	}
	s2, _ := e.meta.Stats(ctx)
	if s2.StoredBytes != s1.StoredBytes || dst.ETag != src.ETag {
		t.Fatalf("copy stored bytes: %+v -> %+v", s1, s2)
	}
	e.l.DeleteObject(ctx, "bkt", "src")
	got, err := e.get(t, "dst", 0, int64(len(data)))
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("copy after source deleted: %v", err)
	}
}

func mustMem(t *testing.T) *mem.Store {
	st, err := mem.New(mem.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// A multipart upload whose last part is tiny completes: parts are never
// stored inline, so every part's manifest is a chunk list.
func TestMultipartSmallLastPart(t *testing.T) {
	e := newEnv(t, 4, 2, Options{})
	ctx := context.Background()
	id, err := e.l.CreateUpload(ctx, &meta.Upload{Bucket: "bkt", Key: "mp"})
	if err != nil {
		t.Fatal(err)
	}
	data := randBytes(21, 5<<20+1000)
	var parts []meta.CompletedPart
	for i, p := range [][]byte{data[:5<<20], data[5<<20:]} {
		sum := md5.Sum(p)
		part, err := e.l.UploadPart(ctx, "bkt", "mp", id, &s3api.PartInput{Number: i + 1, Body: bytes.NewReader(p), Size: int64(len(p)),
			Seal: func(pp *meta.Part) error { pp.ETag = hex.EncodeToString(sum[:]); return nil }})
		if err != nil {
			t.Fatal(err)
		}
		if len(part.Inline) != 0 {
			t.Fatalf("part %d stored inline", i+1)
		}
		parts = append(parts, meta.CompletedPart{Number: i + 1, ETag: part.ETag})
	}
	if _, err := e.l.CompleteUpload(ctx, &meta.CompleteUploadRequest{Bucket: "bkt", Key: "mp", UploadID: id, Parts: parts}); err != nil {
		t.Fatal(err)
	}
	got, err := e.get(t, "mp", 0, int64(len(data)))
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("get: %v", err)
	}
}
