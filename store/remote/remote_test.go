package remote_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/tessera-store/tessera/node"
	"github.com/tessera-store/tessera/pack"
	"github.com/tessera-store/tessera/store"
	"github.com/tessera-store/tessera/store/mem"
	"github.com/tessera-store/tessera/store/remote"
	"github.com/tessera-store/tessera/store/storetest"
)

// served is a client on a node serving a mem store, with the mem store's
// corruption hook.
type served struct {
	*remote.Client
	mem *mem.Store
}

func (s served) Corrupt(id store.ShardID, off int64, mask byte) error {
	return s.mem.Corrupt(id, off, mask)
}

func serve(t testing.TB, st store.Store) *remote.Client {
	t.Helper()
	srv := httptest.NewServer(&node.Server{Store: st})
	t.Cleanup(srv.Close)
	c, err := remote.New(srv.URL, remote.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		m, _ := mem.New(mem.Options{})
		return served{serve(t, m), m}
	})
}

// TestSplitReads reads through a client whose GETs are smaller than the
// read, so one ReadAt is several requests.
func TestSplitReads(t *testing.T) {
	m, _ := mem.New(mem.Options{})
	srv := httptest.NewServer(&node.Server{Store: m})
	defer srv.Close()
	c, err := remote.New(srv.URL, remote.Options{MaxRead: 1000})
	if err != nil {
		t.Fatal(err)
	}
	id := store.ShardID{Pack: pack.NewID()}
	data := storetest.Data(1, 100000)
	storetest.Put(t, c, id, data)
	p := make([]byte, 54321)
	if err := c.ReadAt(t.Context(), id, p, 777); err != nil || !bytes.Equal(p, data[777:777+54321]) {
		t.Fatalf("split read: %v", err)
	}
	if _, err := remote.New("x", remote.Options{MaxRead: remote.MaxRead + 1}); err == nil {
		t.Fatal("MaxRead above the protocol limit accepted")
	}
}

// failing is a store whose every method fails with err.
type failing struct{ err error }

func (f failing) Put(context.Context, store.ShardInfo, io.Reader) error { return f.err }
func (f failing) ReadAt(context.Context, store.ShardID, []byte, int64) error {
	return f.err
}
func (f failing) Stat(context.Context, store.ShardID) (store.ShardInfo, error) {
	return store.ShardInfo{}, f.err
}
func (f failing) Delete(context.Context, store.ShardID) error { return f.err }
func (f failing) Walk(context.Context, func(store.ShardInfo) error) error {
	return f.err
}

func TestErrorMapping(t *testing.T) {
	for _, want := range []error{store.ErrNotFound, store.ErrExists, store.ErrCorrupt, store.ErrNoSpace, store.ErrDriveFailed, store.ErrOutOfRange, store.ErrUnavailable} {
		t.Run(want.Error(), func(t *testing.T) {
			c := serve(t, failing{want})
			ctx := t.Context()
			id := store.ShardID{Pack: pack.NewID()}
			errs := map[string]error{
				"put":    c.Put(ctx, store.ShardInfo{ID: id, Size: 3, K: 1}, bytes.NewReader([]byte("abc"))),
				"read":   c.ReadAt(ctx, id, make([]byte, 3), 0),
				"delete": c.Delete(ctx, id),
				"walk":   c.Walk(ctx, func(store.ShardInfo) error { return nil }),
			}
			_, errs["stat"] = c.Stat(ctx, id)
			for op, err := range errs {
				if !errors.Is(err, want) {
					t.Errorf("%s: %v, want %v", op, err, want)
				}
			}
		})
	}
}

func TestUnavailable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	c, err := remote.New(addr, remote.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	id := store.ShardID{Pack: pack.NewID()}
	if err := c.ReadAt(ctx, id, make([]byte, 1), 0); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("ReadAt: %v", err)
	}
	if err := c.Put(ctx, store.ShardInfo{ID: id, Size: 1, K: 1}, bytes.NewReader([]byte{1})); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("Put: %v", err)
	}
	if _, err := c.Usage(ctx); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("Usage: %v", err)
	}
	// Something that is not a node (no error code) is unavailable too.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "bad gateway", http.StatusBadGateway)
	}))
	defer srv.Close()
	c2, _ := remote.New(srv.URL, remote.Options{})
	if _, err := c2.Stat(ctx, id); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("Stat via proxy error: %v", err)
	}
	// A listing cut short is unavailable.
	srv2 := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"pack":"`+id.Pack.String()+`","index":0,"size":1,"k":1}`+"\n")
	}))
	defer srv2.Close()
	c3, _ := remote.New(srv2.URL, remote.Options{})
	n := 0
	if err := c3.Walk(ctx, func(store.ShardInfo) error { n++; return nil }); !errors.Is(err, store.ErrUnavailable) || n != 1 {
		t.Fatalf("cut listing: %v after %d", err, n)
	}
}

func TestUsage(t *testing.T) {
	m, _ := mem.New(mem.Options{MaxBytes: 1 << 20})
	c := serve(t, m)
	storetest.Put(t, c, store.ShardID{Pack: pack.NewID()}, storetest.Data(1, 1000))
	u, err := c.Usage(t.Context())
	want, _ := m.Usage(t.Context())
	if err != nil || u != want {
		t.Fatalf("Usage %+v, %v; want %+v", u, err, want)
	}
}

func TestBadRequests(t *testing.T) {
	m, _ := mem.New(mem.Options{})
	srv := httptest.NewServer(&node.Server{Store: m})
	defer srv.Close()
	id := pack.NewID().String()
	for _, tc := range []struct{ method, path string }{
		{"GET", "/shard/zz/0?off=0&len=1"},
		{"GET", "/shard/" + id + "/x?off=0&len=1"},
		{"GET", "/shard/" + id + "/-1?off=0&len=1"},
		{"GET", "/shard/" + id + "/0?off=a&len=1"},
		{"GET", "/shard/" + id + "/0?off=0&len=99999999999"},
		{"GET", "/shard/" + id},
		{"PUT", "/shard/" + id + "/0?k=1&m=0"},
		{"PUT", "/shard/" + id + "/0?k=0&m=0&size=0"},
		{"PUT", "/shard/" + id + "/0?k=1&m=0&size=5"},
		{"PUT", "/shard/" + id + "/0?k=1&m=0&size=1099511627776"},
	} {
		req, _ := http.NewRequest(tc.method, srv.URL+tc.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || resp.Header.Get(remote.ErrorHeader) != "badrequest" {
			t.Errorf("%s %s: %s %q", tc.method, tc.path, resp.Status, resp.Header.Get(remote.ErrorHeader))
		}
	}
}

// TestEarlyRefusal: a node refuses a large Put before reading its body
// (shard exists, no space); the client still gets the precise error.
func TestEarlyRefusal(t *testing.T) {
	m, _ := mem.New(mem.Options{MaxBytes: 10 << 20})
	c := serve(t, m)
	ctx := t.Context()
	id := store.ShardID{Pack: pack.NewID()}
	data := storetest.Data(1, 4<<20)
	storetest.Put(t, c, id, data)
	for i := range 3 {
		err := c.Put(ctx, store.ShardInfo{ID: id, Size: int64(len(data)), K: 4, M: 2}, bytes.NewReader(data))
		if !errors.Is(err, store.ErrExists) {
			t.Fatalf("try %d: Put of existing shard: %v", i, err)
		}
	}
	big := storetest.Data(2, 8<<20)
	err := c.Put(ctx, store.ShardInfo{ID: store.ShardID{Pack: pack.NewID()}, Size: int64(len(big)), K: 4, M: 2}, bytes.NewReader(big))
	if !errors.Is(err, store.ErrNoSpace) {
		t.Fatalf("Put beyond capacity: %v", err)
	}
}

// TestHungNode: a node that accepts requests and never answers fails
// reads with ErrUnavailable after ResponseHeaderTimeout.
func TestHungNode(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	c, err := remote.New(srv.URL, remote.Options{ResponseHeaderTimeout: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	id := store.ShardID{Pack: pack.NewID()}
	if err := c.ReadAt(t.Context(), id, make([]byte, 10), 0); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("ReadAt from hung node: %v", err)
	}
}
