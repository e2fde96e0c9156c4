package raftmeta

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"

	"github.com/tessera-store/tessera/meta"
	"github.com/tessera-store/tessera/meta/remote"
	"github.com/tessera-store/tessera/meta/server"
)

// testLogger sends logs to t.Log when -v and RAFTMETA_LOG are set.
func testLogger(t testing.TB) *slog.Logger {
	if os.Getenv("RAFTMETA_LOG") == "" {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) { w.t.Log(string(p)); return len(p), nil }

// member is one Raft member with its gRPC API, in process.
type member struct {
	t        testing.TB
	id, dir  string
	raftAddr string
	api      string
	node     *Node
	g        *grpc.Server
	closed   bool
}

// fastConfig shortens timeouts so tests elect quickly; loopback is fast.
func fastConfig(c Config) Config {
	c.HeartbeatTimeout = 150 * time.Millisecond
	c.ElectionTimeout = 150 * time.Millisecond
	c.LeaderLeaseTimeout = 100 * time.Millisecond
	return c
}

// defaultTimeouts undoes fastConfig.
func defaultTimeouts(c *Config) {
	c.HeartbeatTimeout, c.ElectionTimeout, c.LeaderLeaseTimeout = 0, 0, 0
}

// startMember starts (or restarts, from dir) a member. raftAddr "" picks a
// port.
func startMember(t testing.TB, id, dir, raftAddr string, bootstrap bool, tune func(*Config)) *member {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if raftAddr == "" {
		raftAddr = "127.0.0.1:0"
	}
	cfg := fastConfig(Config{ID: id, Dir: dir, RaftAddr: raftAddr, APIAddr: lis.Addr().String(), Bootstrap: bootstrap, Logger: testLogger(t)})
	if tune != nil {
		tune(&cfg)
	}
	n, err := Open(cfg)
	if err != nil {
		lis.Close()
		t.Fatal(err)
	}
	g := grpc.NewServer(remote.ServerOptions()...)
	remote.NewServer(n.Service(), n).Register(g)
	go g.Serve(lis)
	m := &member{t: t, id: id, dir: dir, raftAddr: n.RaftAddr(), api: lis.Addr().String(), node: n, g: g}
	t.Cleanup(m.stop)
	return m
}

func (m *member) stop() {
	if m.closed {
		return
	}
	m.closed = true
	m.g.Stop()
	if err := m.node.Close(); err != nil {
		m.t.Logf("close %s: %v", m.id, err)
	}
}

// cluster is a group of in-process members.
type cluster struct {
	t       testing.TB
	members []*member
}

// newCluster starts n voters: the first bootstraps, the others join.
func newCluster(t testing.TB, n int, tune func(*Config)) *cluster {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c := &cluster{t: t}
	root := t.TempDir()
	first := startMember(t, "m0", filepath.Join(root, "m0"), "", true, tune)
	c.members = append(c.members, first)
	if err := waitFor(ctx, first.node.IsLeader); err != nil {
		t.Fatal("bootstrap member never led:", err)
	}
	for i := 1; i < n; i++ {
		id := fmt.Sprintf("m%d", i)
		m := startMember(t, id, filepath.Join(root, id), "", false, tune)
		if err := c.join(ctx, id, m.raftAddr, m.api); err != nil {
			t.Fatal(err)
		}
		c.members = append(c.members, m)
	}
	return c
}

// join adds a voter through whichever member leads, retrying while
// leadership moves (elections happen on a loaded machine; AddVoter and the
// address publication are idempotent).
func (c *cluster) join(ctx context.Context, id, raftAddr, api string) error {
	for {
		l, err := c.leader(ctx)
		if err != nil {
			return err
		}
		err = l.node.Join(ctx, id, raftAddr, api)
		if err == nil || ctx.Err() != nil {
			return err
		}
		c.t.Logf("join %s via %s: %v; retrying", id, l.node.cfg.ID, err)
		time.Sleep(50 * time.Millisecond)
	}
}

func (c *cluster) apis() []string {
	var out []string
	for _, m := range c.members {
		out = append(out, m.api)
	}
	return out
}

// leader waits for a live member that leads.
func (c *cluster) leader(ctx context.Context) (*member, error) {
	var l *member
	err := waitFor(ctx, func() bool {
		for _, m := range c.members {
			if !m.closed && m.node.IsLeader() {
				l = m
				return true
			}
		}
		return false
	})
	return l, err
}

func (c *cluster) client(t testing.TB) *remote.Client {
	cl, err := remote.Dial(c.apis(), remote.Options{Logger: testLogger(t), RetryFor: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Close() })
	return cl
}

// waitFor polls cond: Raft exposes no event for "applied up to", so tests
// poll with a short tick bounded by ctx.
func waitFor(ctx context.Context, cond func() bool) error {
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
	return nil
}

// stateView reads a member's State directly (followers refuse reads).
func stateView(m *member) meta.Service {
	return server.NewService(m.node.st, readAnyway{})
}

type readAnyway struct{}

func (readAnyway) Propose(context.Context, []byte) (server.Result, error) {
	return server.Result{}, meta.ErrNotLeader
}
func (readAnyway) ReadBarrier(ctx context.Context) error { return ctx.Err() }

func TestSingleVoter(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c := newCluster(t, 1, nil)
	svc := c.members[0].node.Service()
	if err := svc.CreateBucket(ctx, "r1", 1, meta.Bucket{Name: "bkt", Owner: "u"}); err != nil {
		t.Fatal(err)
	}
	b, err := svc.GetBucket(ctx, "bkt")
	if err != nil || b.Owner != "u" {
		t.Fatalf("GetBucket = %+v, %v", b, err)
	}
	// The leader publishes its API address through the log after winning
	// the election, asynchronously: wait for it.
	var st remote.Status
	err = waitFor(ctx, func() bool {
		st, err = c.members[0].node.Status(ctx)
		return err == nil && st.LeaderAPI != ""
	})
	if err != nil || st.State != "Leader" || st.LeaderAPI != c.members[0].api || len(st.Members) != 1 {
		t.Fatalf("Status = %+v, %v", st, err)
	}
}

// commitStream runs writers that create buckets until stop closes, and
// returns the names whose creation was acknowledged.
func commitStream(ctx context.Context, t *testing.T, svc meta.Service, writers int, prefix string, stop <-chan struct{}) func() []string {
	var mu sync.Mutex
	var acked []string
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				name := fmt.Sprintf("%s-%d-%d", prefix, w, i)
				if err := svc.CreateBucket(ctx, "req-"+name, int64(i), meta.Bucket{Name: name, Owner: "u"}); err != nil {
					// A double apply would surface here as ErrBucketOwnedByYou.
					t.Errorf("CreateBucket %s: %v", name, err)
					return
				}
				mu.Lock()
				acked = append(acked, name)
				mu.Unlock()
			}
		}()
	}
	return func() []string {
		wg.Wait()
		return acked
	}
}

func TestFailover(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	// Default (LAN) timeouts: the logged failover time is the figure the
	// docs quote.
	c := newCluster(t, 3, defaultTimeouts)
	cl := c.client(t)
	old, err := c.leader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	done := commitStream(ctx, t, cl, 16, "b", stop)
	// Let commits flow, then kill the leader mid-stream.
	if err := waitFor(ctx, func() bool { return old.node.st.AppliedIndex() > 200 }); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	old.stop()
	nl, err := c.leader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	base := nl.node.st.AppliedIndex()
	if err := waitFor(ctx, func() bool { return nl.node.st.AppliedIndex() > base }); err != nil {
		t.Fatal(err)
	}
	t.Logf("failover: new leader %s applying commits %v after the kill", nl.id, time.Since(killed))
	close(stop)
	acked := done()
	if len(acked) == 0 {
		t.Fatal("no commits acknowledged")
	}
	// Every acknowledged commit is on the new leader, exactly once.
	bs, err := cl.ListBuckets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]int{}
	for _, b := range bs {
		have[b.Name]++
	}
	for _, name := range acked {
		if have[name] != 1 {
			t.Fatalf("acknowledged bucket %s present %d times after failover", name, have[name])
		}
	}
	st, err := cl.Stats(ctx)
	if err != nil || st.Buckets != int64(len(bs)) {
		t.Fatalf("Stats.Buckets = %d (%v), listed %d", st.Buckets, err, len(bs))
	}
	t.Logf("%d commits acknowledged, %d buckets", len(acked), len(bs))
}

func TestRestartCatchUp(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	c := newCluster(t, 3, nil)
	cl := c.client(t)
	mk := func(from, to int) {
		for i := from; i < to; i++ {
			name := fmt.Sprintf("r-%d", i)
			if err := cl.CreateBucket(ctx, "req-"+name, int64(i), meta.Bucket{Name: name, Owner: "u"}); err != nil {
				t.Fatal(err)
			}
		}
	}
	mk(0, 20)
	l, err := c.leader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var f *member
	for _, m := range c.members {
		if m != l {
			f = m
			break
		}
	}
	f.stop()
	mk(20, 60)
	// Restart the follower from its directory, on its old Raft address.
	r := startMember(t, f.id, f.dir, f.raftAddr, false, nil)
	c.members = append(c.members, r)
	target := l.node.st.AppliedIndex()
	if err := waitFor(ctx, func() bool { return r.node.st.AppliedIndex() >= target }); err != nil {
		t.Fatalf("restarted member stuck at %d, leader at %d", r.node.st.AppliedIndex(), target)
	}
	bs, err := stateView(r).ListBuckets(ctx)
	if err != nil || len(bs) != 60 {
		t.Fatalf("restarted member holds %d buckets (%v), want 60", len(bs), err)
	}
}

func TestSnapshotNewVoter(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	tune := func(c *Config) {
		c.TrailingLogs = 8
		c.SnapshotThreshold = 1 << 20 // only explicit snapshots
	}
	c := newCluster(t, 1, tune)
	l := c.members[0]
	svc := l.node.Service()
	for i := range 100 {
		name := fmt.Sprintf("s-%d", i)
		if err := svc.CreateBucket(ctx, "req-"+name, int64(i), meta.Bucket{Name: name, Owner: "u"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.node.Snapshot(ctx); err != nil {
		t.Fatal(err)
	}
	first, _ := l.node.store.FirstIndex()
	if first <= 1 {
		t.Fatalf("log not compacted after snapshot: first index %d", first)
	}
	n := startMember(t, "new", filepath.Join(t.TempDir(), "new"), "", false, tune)
	c.members = append(c.members, n)
	if err := c.join(ctx, "new", n.raftAddr, n.api); err != nil {
		t.Fatal(err)
	}
	target := l.node.st.AppliedIndex()
	if err := waitFor(ctx, func() bool { return n.node.st.AppliedIndex() >= target }); err != nil {
		t.Fatalf("new voter stuck at %d, leader at %d", n.node.st.AppliedIndex(), target)
	}
	if s := n.node.Stats()["last_snapshot_index"]; s == "0" {
		t.Fatalf("new voter did not install a snapshot (stats %v)", n.node.Stats())
	}
	bs, err := stateView(n).ListBuckets(ctx)
	if err != nil || len(bs) != 100 {
		t.Fatalf("new voter holds %d buckets (%v), want 100", len(bs), err)
	}
	// The directory travelled in the snapshot: the new voter knows the leader's API.
	if got := n.node.LeaderAPI(); got != l.api {
		t.Fatalf("new voter's leader API %q, want %q", got, l.api)
	}
}
