package raftmeta

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/tessera-store/tessera/meta"
	"github.com/tessera-store/tessera/meta/local"
	"github.com/tessera-store/tessera/meta/server"
)

func TestValidateEmbedded(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		wantErr error
	}{
		{"embedded", Config{ID: "a", Dir: "d", Embedded: true, Bootstrap: true}, nil},
		{"embedded with RaftAddr", Config{ID: "a", Dir: "d", Embedded: true, Bootstrap: true, RaftAddr: "127.0.0.1:0"}, ErrConfig},
		{"embedded without Bootstrap", Config{ID: "a", Dir: "d", Embedded: true}, ErrConfig},
		{"network without RaftAddr", Config{ID: "a", Dir: "d", Bootstrap: true}, ErrConfig},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.cfg.Validate(); !errors.Is(err, tt.wantErr) {
				t.Fatalf("Validate = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

// openEmbedded opens an embedded member in dir and waits for it to lead.
func openEmbedded(t *testing.T, dir string) *Node {
	t.Helper()
	n, err := Open(fastConfig(Config{ID: "e1", Dir: dir, Embedded: true, Bootstrap: true, Logger: testLogger(t)}))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := n.WaitLeader(ctx); err != nil {
		n.Close()
		t.Fatal(err)
	}
	return n
}

func mustBuckets(ctx context.Context, t *testing.T, svc meta.Service, names ...string) {
	t.Helper()
	for _, name := range names {
		if _, err := svc.GetBucket(ctx, name); err != nil {
			t.Fatalf("GetBucket(%s): %v", name, err)
		}
	}
}

// An embedded member keeps its vote across restarts: its address in the
// Raft configuration is EmbeddedAddr, not a port that changes.
func TestEmbeddedRestart(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dir := t.TempDir()
	n := openEmbedded(t, dir)
	if err := n.Service().CreateBucket(ctx, "r1", 1, meta.Bucket{Name: "bkt1", Owner: "u"}); err != nil {
		t.Fatal(err)
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}

	n = openEmbedded(t, dir)
	defer n.Close()
	svc := n.Service()
	mustBuckets(ctx, t, svc, "bkt1")
	if err := svc.CreateBucket(ctx, "r2", 2, meta.Bucket{Name: "bkt2", Owner: "u"}); err != nil {
		t.Fatal(err)
	}
	mustBuckets(ctx, t, svc, "bkt2")
	ms, err := n.Servers(ctx)
	if err != nil || len(ms) != 1 || ms[0].ID != "e1" || ms[0].RaftAddr != EmbeddedAddr || !ms[0].Voter {
		t.Fatalf("Servers = %+v, %v", ms, err)
	}
	if err := n.Join(ctx, "x", "127.0.0.1:1", ""); !errors.Is(err, meta.ErrInvalidArgument) {
		t.Fatalf("Join = %v, want ErrInvalidArgument", err)
	}
}

// A State that already applied commands (meta/local's, moved into
// Dir/state) is adopted on Bootstrap: new commands apply instead of being
// skipped as replays, and everything survives a snapshot and a restart.
func TestBootstrapOverExistingState(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dir := t.TempDir()
	ls, err := local.Open(filepath.Join(dir, "state"), server.Options{Logger: testLogger(t), Sync: true})
	if err != nil {
		t.Fatal(err)
	}
	var old []string
	for i := range 20 {
		name := fmt.Sprintf("old%d", i)
		if err := ls.CreateBucket(ctx, "old-"+name, 1, meta.Bucket{Name: name, Owner: "u"}); err != nil {
			t.Fatal(err)
		}
		old = append(old, name)
	}
	if err := ls.Close(); err != nil {
		t.Fatal(err)
	}

	n := openEmbedded(t, dir)
	svc := n.Service()
	mustBuckets(ctx, t, svc, old...)
	if err := svc.CreateBucket(ctx, "new1", 2, meta.Bucket{Name: "new1", Owner: "u"}); err != nil {
		t.Fatal(err)
	}
	mustBuckets(ctx, t, svc, "new1")
	if err := n.Snapshot(ctx); err != nil {
		t.Fatal(err)
	}
	if err := svc.CreateBucket(ctx, "new2", 3, meta.Bucket{Name: "new2", Owner: "u"}); err != nil {
		t.Fatal(err)
	}
	if got := n.st.AppliedIndex(); got <= uint64(len(old)) {
		t.Fatalf("applied index %d, want above the adopted %d", got, len(old))
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}

	n = openEmbedded(t, dir)
	defer n.Close()
	mustBuckets(ctx, t, n.Service(), append(old, "new1", "new2")...)
	bs, err := n.Service().ListBuckets(ctx)
	if err != nil || len(bs) != len(old)+2 {
		t.Fatalf("ListBuckets = %d buckets, %v; want %d", len(bs), err, len(old)+2)
	}
}
