package node

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tessera-store/tessera/meta"
	"github.com/tessera-store/tessera/pack"
	"github.com/tessera-store/tessera/shard"
	"github.com/tessera-store/tessera/store"
	"github.com/tessera-store/tessera/store/mem"
	"github.com/tessera-store/tessera/store/remote"
	"github.com/tessera-store/tessera/store/storetest"
)

type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// fakeMeta records registrations and heartbeats on a channel.
type fakeMeta struct {
	calls chan call
	// forget makes the next heartbeat fail with meta.ErrNoSuchNode.
	mu     sync.Mutex
	forget bool
}

type call struct {
	kind string
	n    meta.Node
}

func (f *fakeMeta) RegisterNode(ctx context.Context, reqID string, n meta.Node) error {
	f.calls <- call{"register", n}
	return nil
}

func (f *fakeMeta) Heartbeat(ctx context.Context, reqID string, n meta.Node) error {
	f.mu.Lock()
	forget := f.forget
	f.forget = false
	f.mu.Unlock()
	f.calls <- call{"heartbeat", n}
	if forget {
		return meta.ErrNoSuchNode
	}
	return nil
}

func startNode(t *testing.T, cfg Config) (addr string, stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	ready := make(chan string, 1)
	cfg.Ready = func(a string) { ready <- a }
	if cfg.Logger == nil {
		cfg.Logger = testLogger(t)
	}
	if cfg.Listen == "" && cfg.Listener == nil {
		cfg.Listen = "127.0.0.1:0"
	}
	done := make(chan error, 1)
	go func() { done <- Run(ctx, cfg) }()
	select {
	case addr = <-ready:
	case err := <-done:
		cancel()
		t.Fatalf("Run: %v", err)
	}
	return addr, func() error { cancel(); return <-done }
}

func TestRun(t *testing.T) {
	drives := []string{t.TempDir(), t.TempDir()}
	fm := &fakeMeta{calls: make(chan call, 100)}
	cfg := Config{Drives: drives, Zone: "z1", Rack: "r1", Class: "ssd", Meta: fm, HeartbeatInterval: 10 * time.Millisecond}
	addr, stop := startNode(t, cfg)
	c, err := remote.New(addr, remote.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	data := storetest.Data(1, 200000)
	id := store.ShardID{Pack: pack.NewID(), Index: 1}
	storetest.Put(t, c, id, data)
	p := make([]byte, 1000)
	if err := c.ReadAt(t.Context(), id, p, 70000); err != nil || !bytes.Equal(p, data[70000:71000]) {
		t.Fatalf("ReadAt: %v", err)
	}
	reg := <-fm.calls
	if reg.kind != "register" || reg.n.Zone != "z1" || reg.n.Rack != "r1" || reg.n.Class != "ssd" || reg.n.Addr != addr || !strings.HasPrefix(reg.n.ID, "n-") {
		t.Fatalf("registration %+v", reg)
	}
	// Heartbeats follow; one soon reports the shard.
	for hb := range fm.calls {
		if hb.kind != "heartbeat" || hb.n.ID != reg.n.ID {
			t.Fatalf("unexpected %+v", hb)
		}
		if hb.n.Shards == 1 && hb.n.Used > 200000 && hb.n.Capacity > 0 && hb.n.LastSeen > 0 && !hb.n.Failed {
			break
		}
	}
	// A metad that forgot the node gets a new registration.
	fm.mu.Lock()
	fm.forget = true
	fm.mu.Unlock()
	for c := range fm.calls {
		if c.kind == "register" {
			break
		}
	}
	if err := stop(); err != nil {
		t.Fatalf("Run returned %v", err)
	}
	// Restart: same ID, same shards.
	addr, stop = startNode(t, cfg)
	if reg2 := <-fm.calls; reg2.kind == "heartbeat" {
		// drain a heartbeat of the first run still in the channel
		for reg2.kind != "register" {
			reg2 = <-fm.calls
		}
		if reg2.n.ID != reg.n.ID {
			t.Fatalf("ID changed: %s -> %s", reg.n.ID, reg2.n.ID)
		}
	} else if reg2.n.ID != reg.n.ID {
		t.Fatalf("ID changed: %s -> %s", reg.n.ID, reg2.n.ID)
	}
	c2, _ := remote.New(addr, remote.Options{})
	defer c2.Close()
	if err := c2.ReadAt(t.Context(), id, p, 70000); err != nil || !bytes.Equal(p, data[70000:71000]) {
		t.Fatalf("ReadAt after restart: %v", err)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

func TestConfigValidate(t *testing.T) {
	for _, c := range []Config{
		{Listen: "x"},
		{Drives: []string{"d"}},
		{Drives: []string{"d"}, Listen: "x", Class: "tape"},
		{Drives: []string{"d"}, Listen: "x", HeartbeatInterval: -1},
		{Drives: []string{"d"}, Listen: "x", Scrub: ScrubOptions{BytesPerSecond: -1}},
	} {
		if err := c.Validate(); err == nil {
			t.Errorf("%+v accepted", c)
		}
		if err := Run(t.Context(), c); err == nil {
			t.Errorf("Run(%+v) succeeded", c)
		}
	}
}

func TestLoadID(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new")
	id, err := LoadID(dir)
	if err != nil || !strings.HasPrefix(id, "n-") {
		t.Fatal(id, err)
	}
	id2, err := LoadID(dir)
	if err != nil || id2 != id {
		t.Fatalf("second load %q, %v; want %q", id2, err, id)
	}
	os.WriteFile(filepath.Join(dir, idFile), []byte("\n"), 0o644)
	if _, err := LoadID(dir); err == nil {
		t.Fatal("empty id accepted")
	}
}

// lossy lists one shard more than it holds and fails reads of one with
// store.ErrDriveFailed.
type lossy struct {
	*mem.Store
	ghost, dead store.ShardID
}

func (l lossy) Walk(ctx context.Context, fn func(store.ShardInfo) error) error {
	if err := fn(store.ShardInfo{ID: l.ghost, Size: 10, K: 4, M: 2}); err != nil {
		return err
	}
	return l.Store.Walk(ctx, fn)
}

func (l lossy) ReadAt(ctx context.Context, id store.ShardID, p []byte, off int64) error {
	if id == l.dead {
		return store.ErrDriveFailed
	}
	return l.Store.ReadAt(ctx, id, p, off)
}

func TestScrub(t *testing.T) {
	m, _ := mem.New(mem.Options{})
	const bs = shard.DefaultBlockSize
	ids := make([]store.ShardID, 5)
	for i := range ids {
		ids[i] = store.ShardID{Pack: pack.NewID(), Index: i}
		storetest.Put(t, m, ids[i], storetest.Data(uint64(i), 3*bs+5))
	}
	// ids[0]: bad last block; ids[1]: bad header; ids[2]: read fails with
	// a drive error; ids[3], ids[4]: fine.
	if err := m.Corrupt(ids[0], mem.DataOffset(3*bs+2, 0), 1); err != nil {
		t.Fatal(err)
	}
	if err := m.Corrupt(ids[1], 9, 0x80); err != nil {
		t.Fatal(err)
	}
	st := lossy{Store: m, ghost: store.ShardID{Pack: pack.NewID()}, dead: ids[2]}
	var mu sync.Mutex
	bad := map[store.ShardID]error{}
	s := &Scrubber{Store: st, Options: ScrubOptions{BytesPerSecond: 1 << 40, ReadSize: 100000, Logger: testLogger(t)},
		OnBad: func(ctx context.Context, info store.ShardInfo, err error) {
			mu.Lock()
			bad[info.ID] = err
			mu.Unlock()
		}}
	stats, err := s.Scrub(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if stats.Shards != 6 || stats.Corrupt != 2 || stats.Missing != 1 || stats.Failed != 1 {
		t.Fatalf("stats %+v", stats)
	}
	if stats.Bytes < 2*(3*bs+5) {
		t.Fatalf("scrubbed only %d bytes", stats.Bytes)
	}
	want := map[store.ShardID]error{ids[0]: store.ErrCorrupt, ids[1]: store.ErrCorrupt, ids[2]: store.ErrDriveFailed, st.ghost: store.ErrNotFound}
	if len(bad) != len(want) {
		t.Fatalf("reported %v", bad)
	}
	for id, w := range want {
		if !errors.Is(bad[id], w) {
			t.Errorf("%v: reported %v, want %v", id, bad[id], w)
		}
	}
	// A slow scrub stops when ctx is done (the limiter waits on ctx).
	slow := &Scrubber{Store: m, Options: ScrubOptions{BytesPerSecond: 1, ReadSize: 10}}
	ctx, cancel := context.WithCancel(t.Context())
	go cancel()
	if _, err := slow.Scrub(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled scrub: %v", err)
	}
	if _, err := (&Scrubber{Store: m, Options: ScrubOptions{ReadSize: -1}}).Scrub(t.Context()); err == nil {
		t.Fatal("invalid options accepted")
	}
}

// TestRunScrubs checks the node's background scrubber reports a shard
// corrupted on disk.
func TestRunScrubs(t *testing.T) {
	drive := t.TempDir()
	badc := make(chan store.ShardInfo, 10)
	cfg := Config{Drives: []string{drive}, Zone: "z", Scrub: ScrubOptions{BytesPerSecond: 1 << 40, Interval: 10 * time.Millisecond},
		OnBadShard: func(ctx context.Context, info store.ShardInfo, err error) {
			if errors.Is(err, store.ErrCorrupt) {
				badc <- info
			}
		}}
	addr, stop := startNode(t, cfg)
	c, _ := remote.New(addr, remote.Options{})
	defer c.Close()
	id := store.ShardID{Pack: pack.NewID(), Index: 2}
	storetest.Put(t, c, id, storetest.Data(3, 5000))
	// Flip a data byte in the file.
	var path string
	filepath.WalkDir(drive, func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.HasPrefix(d.Name(), id.Pack.String()) {
			path = p
		}
		return nil
	})
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[shard.HeaderSize+100] ^= 1
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if got := <-badc; got.ID != id {
		t.Fatalf("reported %v", got.ID)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

// notifyWriter signals on the first write.
type notifyWriter struct {
	once sync.Once
	c    chan struct{}
	mu   sync.Mutex
	buf  bytes.Buffer
}

func (w *notifyWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	w.buf.Write(p)
	w.mu.Unlock()
	w.once.Do(func() { close(w.c) })
	return len(p), nil
}

func TestMainCommand(t *testing.T) {
	drive := t.TempDir()
	var dialed []string
	dial := func(addrs []string) (Registrar, error) {
		dialed = addrs
		return &fakeMeta{calls: make(chan call, 1000)}, nil
	}
	usage := [][]string{
		{},
		{"--drive", drive, "--listen", "127.0.0.1:0", "--meta", "m:1"},
		{"--drive", drive, "--zone", "z", "--meta", "m:1"},
		{"--drive", drive, "--zone", "z", "--listen", "127.0.0.1:0"},
		{"--drive", drive, "--zone", "z", "--listen", "127.0.0.1:0", "--meta", "m", "--class", "tape"},
		{"--drive", drive, "--zone", "z", "--listen", "127.0.0.1:0", "--meta", "m", "--log-level", "loud"},
		{"--drive", drive, "--zone", "z", "--listen", "127.0.0.1:0", "--meta", "m", "extra"},
		{"--bogus"},
	}
	for _, args := range usage {
		if err := Main(t.Context(), args, io.Discard, io.Discard, dial); err == nil {
			t.Errorf("Main(%q) succeeded", args)
		}
	}
	failDial := func([]string) (Registrar, error) { return nil, errors.New("no metad") }
	good := []string{"--drive", drive, "--drive", t.TempDir(), "--zone", "z", "--listen", "127.0.0.1:0", "--meta", "m1:9000, m2:9000", "--class", "ssd", "--log-level", "debug"}
	if err := Main(t.Context(), good, io.Discard, io.Discard, failDial); err == nil {
		t.Fatal("Main with failing dialer succeeded")
	}
	ctx, cancel := context.WithCancel(t.Context())
	out := &notifyWriter{c: make(chan struct{})}
	done := make(chan error, 1)
	go func() { done <- Main(ctx, good, out, tWriter{t}, dial) }()
	select {
	case <-out.c:
	case err := <-done:
		t.Fatalf("Main: %v", err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	out.mu.Lock()
	defer out.mu.Unlock()
	if !strings.Contains(out.buf.String(), "node serving on 127.0.0.1:") || len(dialed) != 2 || dialed[1] != "m2:9000" {
		t.Fatalf("stdout %q, dialed %q", out.buf.String(), dialed)
	}
}

func TestListenerInUse(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	err = Run(t.Context(), Config{Drives: []string{t.TempDir()}, Listen: l.Addr().String(), Logger: testLogger(t)})
	if err == nil {
		t.Fatal("Run on a busy port succeeded")
	}
}
