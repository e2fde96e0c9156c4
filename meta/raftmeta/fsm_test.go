package raftmeta

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/vfs"

	"github.com/tessera-store/tessera/meta"
	"github.com/tessera-store/tessera/meta/server"
)

// TestRestartAfterSnapshot restarts a single voter whose log was compacted:
// Raft restores the snapshot at start, which the FSM must skip (State is
// newer), then replays the tail.
func TestRestartAfterSnapshot(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tune := func(c *Config) { c.TrailingLogs = 4; c.SnapshotThreshold = 1 << 20 }
	c := newCluster(t, 1, tune)
	m := c.members[0]
	mk := func(svc meta.Service, from, to int) {
		for i := from; i < to; i++ {
			name := fmt.Sprintf("x-%d", i)
			if err := svc.CreateBucket(ctx, "req-"+name, int64(i), meta.Bucket{Name: name, Owner: "u"}); err != nil {
				t.Fatal(err)
			}
		}
	}
	mk(m.node.Service(), 0, 50)
	if err := m.node.Snapshot(ctx); err != nil {
		t.Fatal(err)
	}
	mk(m.node.Service(), 50, 60)
	applied := m.node.st.AppliedIndex()
	m.stop()
	r := startMember(t, m.id, m.dir, m.raftAddr, false, tune)
	if got := r.node.st.AppliedIndex(); got != applied {
		t.Fatalf("restart: State applied index %d, want %d (snapshot restored over a newer State?)", got, applied)
	}
	if err := waitFor(ctx, r.node.IsLeader); err != nil {
		t.Fatal(err)
	}
	bs, err := r.node.Service().ListBuckets(ctx)
	if err != nil || len(bs) != 60 {
		t.Fatalf("after restart %d buckets (%v), want 60", len(bs), err)
	}
	mk(r.node.Service(), 60, 61) // and it still commits
}

func TestRestoreBadSnapshot(t *testing.T) {
	st, err := server.Open("state", server.Options{FS: vfs.NewMem()})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	f := newFSM(st)
	tests := []string{
		"",
		"TSRAFT\x00\x02",
		"TSRAFT\x00\x01\x05",
		"TSRAFT\x00\x01\x05\x10{}",
		"TSRAFT\x00\x01\x05\x02[]",
		"TSRAFT\x00\x01\x05\x02{}garbage", // State stream is garbage
	}
	for _, in := range tests {
		t.Run(fmt.Sprintf("%q", in), func(t *testing.T) {
			err := f.Restore(io.NopCloser(strings.NewReader(in)))
			if err == nil {
				t.Fatal("Restore accepted a bad snapshot")
			}
			if !errors.Is(err, ErrBadSnapshot) && !strings.Contains(in, "garbage") {
				t.Fatalf("Restore = %v, want ErrBadSnapshot", err)
			}
		})
	}
}
