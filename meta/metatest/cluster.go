package metatest

import (
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"

	"github.com/tessera-store/tessera/meta"
)

func testCluster(t *testing.T, e *env) {
	ctx := e.ctx
	n := meta.Node{ID: "n2", Addr: "127.0.0.1:9002", Zone: "z1", Class: "ssd", Capacity: 100, LastSeen: 5}
	for _, nd := range []meta.Node{n, {ID: "n1", Addr: "127.0.0.1:9001"}} {
		if err := e.s.RegisterNode(ctx, e.id(), nd); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.s.RegisterNode(ctx, e.id(), meta.Node{}); !errors.Is(err, meta.ErrInvalidArgument) {
		t.Fatalf("RegisterNode(empty) = %v", err)
	}
	if err := e.s.Heartbeat(ctx, e.id(), meta.Node{ID: "n2", Capacity: 200, Free: 50, Used: 150, Shards: 7, Failed: true, LastSeen: 9}); err != nil {
		t.Fatal(err)
	}
	if err := e.s.Heartbeat(ctx, e.id(), meta.Node{ID: "nx"}); !errors.Is(err, meta.ErrNoSuchNode) {
		t.Fatalf("Heartbeat(unknown) = %v", err)
	}
	ns, err := e.s.ListNodes(ctx)
	if err != nil || len(ns) != 2 || ns[0].ID != "n1" {
		t.Fatalf("ListNodes = %+v, %v", ns, err)
	}
	want := n
	want.Capacity, want.Free, want.Used, want.Shards, want.Failed, want.LastSeen = 200, 50, 150, 7, true, 9
	if !reflect.DeepEqual(ns[1], want) {
		t.Fatalf("node = %+v, want %+v", ns[1], want)
	}
	pools := []struct {
		p       meta.Pool
		wantErr error
	}{
		{meta.Pool{Name: "hot", K: 1, M: 2, Codec: "s2", Domain: "host", PGs: 64}, nil},
		{meta.Pool{Name: "cold", K: 8, M: 4, Codec: "zstd", Class: "hdd", Domain: "rack", PGs: 256}, nil},
		{meta.Pool{Name: "", K: 1}, meta.ErrInvalidArgument},
		{meta.Pool{Name: "bad", K: 0}, meta.ErrInvalidArgument},
		{meta.Pool{Name: "huge", K: 200, M: 100}, meta.ErrInvalidArgument},
	}
	for _, tt := range pools {
		if err := e.s.PutPool(ctx, e.id(), tt.p); !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
			t.Errorf("PutPool(%+v) = %v, want %v", tt.p, err, tt.wantErr)
		}
	}
	ps, err := e.s.ListPools(ctx)
	if err != nil || len(ps) != 2 || !reflect.DeepEqual(ps[0], pools[1].p) || !reflect.DeepEqual(ps[1], pools[0].p) {
		t.Fatalf("ListPools = %+v, %v", ps, err)
	}
}

func testUsers(t *testing.T, e *env) {
	ctx := e.ctx
	u := meta.User{Name: "alice", AccessKey: "AKIA1", SecretEnc: []byte{1, 2, 3}, Created: 7, Root: true}
	tests := []struct {
		u       meta.User
		wantErr error
	}{
		{u, nil},
		{meta.User{Name: "alice", AccessKey: "AKIA2"}, meta.ErrUserExists},
		{meta.User{Name: "bob", AccessKey: "AKIA1"}, meta.ErrUserExists},
		{meta.User{Name: "bob", AccessKey: "AKIA2"}, nil},
		{meta.User{Name: "", AccessKey: "AKIA3"}, meta.ErrInvalidArgument},
	}
	for _, tt := range tests {
		if err := e.s.PutUser(ctx, e.id(), tt.u); !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
			t.Errorf("PutUser(%+v) = %v, want %v", tt.u, err, tt.wantErr)
		}
	}
	got, err := e.s.GetUserByKey(ctx, "AKIA1")
	if err != nil || !reflect.DeepEqual(got, u) {
		t.Fatalf("GetUserByKey = %+v, %v", got, err)
	}
	us, err := e.s.ListUsers(ctx)
	if err != nil || len(us) != 2 {
		t.Fatalf("ListUsers = %+v, %v", us, err)
	}
	if err := e.s.DeleteUser(ctx, e.id(), "alice"); err != nil {
		t.Fatal(err)
	}
	if err := e.s.DeleteUser(ctx, e.id(), "alice"); !errors.Is(err, meta.ErrNoSuchUser) {
		t.Fatalf("second DeleteUser = %v", err)
	}
	if _, err := e.s.GetUserByKey(ctx, "AKIA1"); !errors.Is(err, meta.ErrNoSuchUser) {
		t.Fatalf("GetUserByKey after delete = %v", err)
	}
	// The name and the key are free again.
	if err := e.s.PutUser(ctx, e.id(), u); err != nil {
		t.Fatal(err)
	}
}

// testConcurrency runs writers, readers and listers at once (meant for -race).
func testConcurrency(t *testing.T, e *env) {
	e.mkBucket("bkt")
	const workers, per = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, workers*2)
	for w := 0; w < workers; w++ {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for i := 0; i < per; i++ {
				c := Content{Pack: 1000 + w*per + i, Chunks: []int{w*per + i, 9999}}
				refs, packs, infos := c.Build()
				o := meta.Object{Bucket: "bkt", Key: fmt.Sprintf("w%d/%03d", w, i), Size: 2000, ETag: etag("x"), Chunks: refs}
				err := e.s.PutObject(e.ctx, &meta.PutObjectRequest{ReqID: e.id(), Time: int64(i), Object: o, NewPacks: packs, NewChunks: infos})
				if err != nil {
					errs <- err
					return
				}
			}
		}()
		go func() {
			defer wg.Done()
			for i := 0; i < per; i++ {
				if _, err := e.s.ListObjects(e.ctx, &meta.ListRequest{Bucket: "bkt", Delimiter: "/"}); err != nil {
					errs <- err
					return
				}
				if _, err := e.s.Stats(e.ctx); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	st := e.stats()
	if st.Objects != workers*per || st.Chunks != 2*workers*per || st.UniqueChunks != workers*per+1 {
		t.Fatalf("Stats = %+v", st)
	}
	if r := e.refs(9999); r != workers*per {
		t.Fatalf("shared chunk refs = %d", r)
	}
}
