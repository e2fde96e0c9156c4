package disk

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/tessera-store/tessera/pack"
	"github.com/tessera-store/tessera/store"
	"github.com/tessera-store/tessera/store/storetest"
)

// corruptible adds the storetest.Corrupter hook to a Store.
type corruptible struct{ *Store }

func (c corruptible) Corrupt(id store.ShardID, off int64, mask byte) error {
	_, path := c.path(id)
	return flipByte(path, off, mask)
}

func flipByte(path string, off int64, mask byte) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	b := []byte{0}
	if _, err := f.ReadAt(b, off); err != nil {
		return err
	}
	b[0] ^= mask
	_, err = f.WriteAt(b, off)
	return err
}

// testLogger sends logs to t.Log.
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func openTest(t testing.TB, dir string, opt Options) *Store {
	t.Helper()
	if opt.Logger == nil {
		opt.Logger = testLogger(t)
	}
	s, err := Open(dir, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		return corruptible{openTest(t, t.TempDir(), Options{})}
	})
}

func TestSetConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		set, err := OpenSet([]string{t.TempDir(), t.TempDir(), t.TempDir()}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		return corruptibleSet{set}
	})
}

type corruptibleSet struct{ *Set }

func (c corruptibleSet) Corrupt(id store.ShardID, off int64, mask byte) error {
	for _, d := range c.Drives() {
		if _, err := d.lookup(id); err == nil {
			return corruptible{d}.Corrupt(id, off, mask)
		}
	}
	return store.ErrNotFound
}

// tmpFiles lists temporary files under dir.
func tmpFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasPrefix(d.Name(), tmpPrefix) {
			out = append(out, path)
		}
		return nil
	})
	return out
}

func TestReopen(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir, Options{})
	ctx := t.Context()
	var ids []store.ShardID
	for i := range 10 {
		id := store.ShardID{Pack: pack.NewID(), Index: i % 6}
		storetest.Put(t, s, id, storetest.Data(uint64(i), i*10000))
		ids = append(ids, id)
	}
	u1, _ := s.Usage(ctx)
	// A leftover temporary file and a stray file.
	dir0, _ := s.path(ids[0])
	os.WriteFile(filepath.Join(dir0, tmpPrefix+"junk"), []byte("x"), 0o644)
	os.WriteFile(filepath.Join(dir0, "README"), []byte("x"), 0o644)
	if _, err := Open(dir, Options{}); !errors.Is(err, ErrLocked) {
		t.Fatalf("second Open of a folder: %v", err)
	}
	s.Close()
	// Corrupt shard 3's header.
	_, p3 := s.path(ids[3])
	if err := flipByte(p3, 20, 1); err != nil {
		t.Fatal(err)
	}
	s2 := openTest(t, dir, Options{})
	if tf := tmpFiles(t, dir); len(tf) != 0 {
		t.Fatalf("temporary files left: %v", tf)
	}
	u2, _ := s2.Usage(ctx)
	if u2.Shards != 10 || u2.UsedBytes != u1.UsedBytes {
		t.Fatalf("usage after reopen %+v, before %+v", u2, u1)
	}
	for i, id := range ids {
		info, err := s2.Stat(ctx, id)
		if i == 3 {
			if !errors.Is(err, store.ErrCorrupt) {
				t.Fatalf("Stat of corrupt shard: %v", err)
			}
			if err := s2.ReadAt(ctx, id, nil, 0); !errors.Is(err, store.ErrCorrupt) {
				t.Fatalf("ReadAt of corrupt shard: %v", err)
			}
			continue
		}
		if err != nil || info.Size != int64(i*10000) || info.K != 4 {
			t.Fatalf("Stat %d: %+v, %v", i, info, err)
		}
		p := make([]byte, info.Size)
		if err := s2.ReadAt(ctx, id, p, 0); err != nil || !bytes.Equal(p, storetest.Data(uint64(i), i*10000)) {
			t.Fatalf("ReadAt %d: %v", i, err)
		}
	}
	// A file lost behind the store's back reads as not found.
	_, p5 := s2.path(ids[5])
	os.Remove(p5)
	if err := s2.ReadAt(ctx, ids[5], make([]byte, 1), 0); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("vanished file: %v", err)
	}
}

// errFS injects errors: fail is consulted before each operation and, for
// writes, a failing write first writes half its bytes (a torn write).
type errFS struct {
	FS
	mu   sync.Mutex
	fail func(op, name string) error
}

func (e *errFS) check(op, name string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.fail == nil {
		return nil
	}
	return e.fail(op, name)
}

func (e *errFS) set(f func(op, name string) error) {
	e.mu.Lock()
	e.fail = f
	e.mu.Unlock()
}

func (e *errFS) Create(name string) (File, error) {
	if err := e.check("create", name); err != nil {
		return nil, err
	}
	f, err := e.FS.Create(name)
	if err != nil {
		return nil, err
	}
	return &errFile{File: f, fs: e, name: name}, nil
}

func (e *errFS) Open(name string) (File, error) {
	if err := e.check("open", name); err != nil {
		return nil, err
	}
	f, err := e.FS.Open(name)
	if err != nil {
		return nil, err
	}
	return &errFile{File: f, fs: e, name: name}, nil
}

func (e *errFS) Rename(o, n string) error {
	if err := e.check("rename", n); err != nil {
		return err
	}
	return e.FS.Rename(o, n)
}

func (e *errFS) Remove(name string) error {
	if err := e.check("remove", name); err != nil {
		return err
	}
	return e.FS.Remove(name)
}

type errFile struct {
	File
	fs   *errFS
	name string
}

func (f *errFile) Write(p []byte) (int, error) {
	if err := f.fs.check("write", f.name); err != nil {
		n, _ := f.File.Write(p[:len(p)/2])
		return n, err
	}
	return f.File.Write(p)
}

func (f *errFile) ReadAt(p []byte, off int64) (int, error) {
	if err := f.fs.check("read", f.name); err != nil {
		return 0, err
	}
	return f.File.ReadAt(p, off)
}

func (f *errFile) Sync() error {
	if err := f.fs.check("sync", f.name); err != nil {
		return err
	}
	return f.File.Sync()
}

func pathErr(op string, errno syscall.Errno) func(string, string) error {
	return func(o, name string) error {
		if o == op {
			return &fs.PathError{Op: o, Path: name, Err: errno}
		}
		return nil
	}
}

func TestFaults(t *testing.T) {
	data := storetest.Data(1, 300000)
	tests := []struct {
		name       string
		fail       func(op, name string) error
		want       error
		wantFailed bool
	}{
		{"ENOSPCWrite", pathErr("write", syscall.ENOSPC), store.ErrNoSpace, false},
		{"ENOSPCCreate", pathErr("create", syscall.ENOSPC), store.ErrNoSpace, false},
		{"ENOSPCSync", pathErr("sync", syscall.ENOSPC), store.ErrNoSpace, false},
		{"EIOWrite", pathErr("write", syscall.EIO), store.ErrDriveFailed, true},
		{"EIOSync", pathErr("sync", syscall.EIO), store.ErrDriveFailed, true},
		{"EIORename", pathErr("rename", syscall.EIO), store.ErrDriveFailed, true},
		{"EIODirSync", func(op, name string) error {
			if op == "sync" && !strings.Contains(filepath.Base(name), ".") {
				return &fs.PathError{Op: op, Path: name, Err: syscall.EIO}
			}
			return nil
		}, store.ErrDriveFailed, true},
		{"OtherWrite", pathErr("write", syscall.EINVAL), syscall.EINVAL, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			efs := &errFS{FS: OSFS{}}
			s := openTest(t, dir, Options{FS: efs})
			ctx := t.Context()
			good := store.ShardID{Pack: pack.NewID()}
			storetest.Put(t, s, good, data)
			efs.set(tt.fail)
			id := store.ShardID{Pack: pack.NewID(), Index: 1}
			err := s.Put(ctx, store.ShardInfo{ID: id, Size: int64(len(data)), K: 4, M: 2}, bytes.NewReader(data))
			if !errors.Is(err, tt.want) {
				t.Fatalf("Put = %v, want %v", err, tt.want)
			}
			efs.set(nil)
			if tf := tmpFiles(t, dir); len(tf) != 0 {
				t.Fatalf("temporary files left: %v", tf)
			}
			if _, err := s.Stat(ctx, id); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("Stat after failed Put: %v", err)
			}
			if _, path := s.path(id); fileExists(path) {
				t.Fatal("shard file left after failed Put")
			}
			u, err := s.Usage(ctx)
			if err != nil || u.Failed != tt.wantFailed || u.Shards != 1 {
				t.Fatalf("Usage %+v, %v", u, err)
			}
			err = s.Put(ctx, store.ShardInfo{ID: id, Size: int64(len(data)), K: 4, M: 2}, bytes.NewReader(data))
			if tt.wantFailed {
				if !errors.Is(err, store.ErrDriveFailed) {
					t.Fatalf("Put on failed drive: %v", err)
				}
			} else if err != nil {
				t.Fatalf("Put after fault cleared: %v", err)
			}
			p := make([]byte, 1000)
			if err := s.ReadAt(ctx, good, p, 5); err != nil || !bytes.Equal(p, data[5:1005]) {
				t.Fatalf("ReadAt after fault: %v", err)
			}
		})
	}
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func TestReadEIO(t *testing.T) {
	efs := &errFS{FS: OSFS{}}
	s := openTest(t, t.TempDir(), Options{FS: efs})
	id := store.ShardID{Pack: pack.NewID()}
	storetest.Put(t, s, id, storetest.Data(1, 1000))
	efs.set(pathErr("read", syscall.EIO))
	if err := s.ReadAt(t.Context(), id, make([]byte, 10), 0); !errors.Is(err, store.ErrDriveFailed) || !errors.Is(err, syscall.EIO) {
		t.Fatalf("ReadAt with EIO: %v", err)
	}
	if !s.Failed() {
		t.Fatal("drive not marked failed")
	}
}

func TestQuota(t *testing.T) {
	s := openTest(t, t.TempDir(), Options{MaxBytes: 100000})
	ctx := t.Context()
	storetest.Put(t, s, store.ShardID{Pack: pack.NewID()}, storetest.Data(1, 60000))
	id := store.ShardID{Pack: pack.NewID()}
	err := s.Put(ctx, store.ShardInfo{ID: id, Size: 60000, K: 4, M: 2}, bytes.NewReader(storetest.Data(2, 60000)))
	if !errors.Is(err, store.ErrNoSpace) {
		t.Fatalf("Put over quota: %v", err)
	}
	u, err := s.Usage(ctx)
	if err != nil || u.TotalBytes != 100000 || u.FreeBytes != 100000-u.UsedBytes || u.Shards != 1 {
		t.Fatalf("Usage %+v, %v", u, err)
	}
	if _, err := Open(t.TempDir(), Options{MaxBytes: -1}); err == nil {
		t.Fatal("negative MaxBytes accepted")
	}
}

// TestCrashInjected stops all file operations at a random point of a Put
// (as a crash would), then reopens the folder with the real file system.
func TestCrashInjected(t *testing.T) {
	for round := range 20 {
		dir := t.TempDir()
		efs := &errFS{FS: OSFS{}}
		s := openTest(t, dir, Options{FS: efs, BlockSize: 4096})
		before := store.ShardID{Pack: pack.NewID()}
		storetest.Put(t, s, before, storetest.Data(1, 50000))
		ops := 0
		stopAt := round % 10
		efs.set(func(op, name string) error {
			ops++
			if ops > stopAt {
				return errors.New("crashed")
			}
			return nil
		})
		id := store.ShardID{Pack: pack.NewID()}
		err := s.Put(t.Context(), store.ShardInfo{ID: id, Size: 256 << 10, K: 1}, bytes.NewReader(storetest.Data(2, 256<<10)))
		s.Close() // the process "died"
		s2 := openTest(t, dir, Options{})
		if tf := tmpFiles(t, dir); len(tf) != 0 {
			t.Fatalf("round %d: temporary files left: %v", round, tf)
		}
		checkAllVerify(t, s2, func(info store.ShardInfo) []byte {
			if info.ID == before {
				return storetest.Data(1, 50000)
			}
			return storetest.Data(2, 256<<10)
		})
		if _, serr := s2.Stat(t.Context(), id); err == nil && serr != nil {
			t.Fatalf("round %d: Put succeeded but shard missing after reopen: %v", round, serr)
		}
	}
}

// checkAllVerify reads every shard of s whole.
func checkAllVerify(t *testing.T, s store.Store, want func(store.ShardInfo) []byte) int {
	t.Helper()
	ctx := t.Context()
	n := 0
	err := s.Walk(ctx, func(info store.ShardInfo) error {
		n++
		p := make([]byte, info.Size)
		if err := s.ReadAt(ctx, info.ID, p, 0); err != nil {
			return err
		}
		if !bytes.Equal(p, want(info)) {
			return fmt.Errorf("shard %v: wrong content", info.ID)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// crashData is the content the crash child writes for id.
func crashData(id store.ShardID, n int) []byte {
	return storetest.Data(uint64(id.Pack[0])<<8|uint64(id.Pack[1]), n)
}

const crashEnv = "TESSERA_DISK_CRASH_DIR"

// TestCrashChild is the child process of TestCrashKill: it writes shards
// until killed, printing each committed ID.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv(crashEnv)
	if dir == "" {
		return // only meaningful as TestCrashKill's child
	}
	s, err := Open(dir, Options{BlockSize: 4096})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(2)
	}
	w := bufio.NewWriter(os.Stdout)
	for i := 0; ; i++ {
		id := store.ShardID{Pack: pack.NewID(), Index: i % 3}
		n := rand.IntN(64 << 10)
		if err := s.Put(context.Background(), store.ShardInfo{ID: id, Size: int64(n), K: 2, M: 1}, bytes.NewReader(crashData(id, n))); err != nil {
			fmt.Println("error", err)
			os.Exit(2)
		}
		fmt.Fprintln(w, id.Pack, id.Index)
		w.Flush()
	}
}

// TestCrashKill runs a child that writes shards in a loop and SIGKILLs it
// after a random number of committed writes (so mostly in the middle of
// one), then reopens the folder: every shard the child reported is there,
// every shard found verifies, and no temporary file is left.
func TestCrashKill(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	reported := map[store.ShardID]bool{}
	for round := range 10 {
		cmd := exec.Command(exe, "-test.run=^TestCrashChild$")
		cmd.Env = append(os.Environ(), crashEnv+"="+dir)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(out)
		killAfter := 1 + rand.IntN(4)
		for i := 0; i < killAfter && sc.Scan(); i++ {
			var h string
			var idx int
			if _, err := fmt.Sscan(sc.Text(), &h, &idx); err != nil {
				t.Fatalf("child said %q", sc.Text())
			}
			p, err := pack.ParseID(h)
			if err != nil {
				t.Fatalf("child said %q", sc.Text())
			}
			reported[store.ShardID{Pack: p, Index: idx}] = true
		}
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		s := openTest(t, dir, Options{})
		if tf := tmpFiles(t, dir); len(tf) != 0 {
			t.Fatalf("round %d: temporary files left: %v", round, tf)
		}
		for id := range reported {
			if _, err := s.Stat(t.Context(), id); err != nil {
				t.Fatalf("round %d: committed shard %v lost: %v", round, id, err)
			}
		}
		n := checkAllVerify(t, s, func(info store.ShardInfo) []byte { return crashData(info.ID, int(info.Size)) })
		if n < len(reported) {
			t.Fatalf("round %d: %d shards, %d reported", round, n, len(reported))
		}
		s.Close() // let the next child lock the folder
	}
}

func TestSetFallback(t *testing.T) {
	full := openTest(t, t.TempDir(), Options{MaxBytes: 1})
	efs := &errFS{FS: OSFS{}}
	broken := openTest(t, t.TempDir(), Options{FS: efs})
	ok := openTest(t, t.TempDir(), Options{})
	set, err := NewSet([]*Store{full, broken, ok})
	if err != nil {
		t.Fatal(err)
	}
	efs.set(pathErr("create", syscall.EIO))
	ctx := t.Context()
	for i := range 10 {
		storetest.Put(t, set, store.ShardID{Pack: pack.NewID(), Index: i % 6}, storetest.Data(uint64(i), 1000))
	}
	u, err := set.Usage(ctx)
	if err != nil || u.Shards != 10 || u.Failed {
		t.Fatalf("Usage %+v, %v", u, err)
	}
	if su, _ := ok.Usage(ctx); su.Shards != 10 {
		t.Fatalf("healthy drive holds %d shards", su.Shards)
	}
	if _, err := NewSet(nil); !errors.Is(err, ErrNoDrives) {
		t.Fatal(err)
	}
}

// TestOpenEIO: a shard whose header cannot be read at Open does not stop
// the drive from opening; the drive is marked failed and the shard reads
// as failed.
func TestOpenEIO(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir, Options{})
	bad := store.ShardID{Pack: pack.NewID()}
	good := store.ShardID{Pack: pack.NewID()}
	storetest.Put(t, s, bad, storetest.Data(1, 100))
	storetest.Put(t, s, good, storetest.Data(2, 100))
	s.Close()
	_, badPath := s.path(bad)
	efs := &errFS{FS: OSFS{}}
	efs.set(func(op, name string) error {
		if op == "read" && name == badPath {
			return &fs.PathError{Op: op, Path: name, Err: syscall.EIO}
		}
		return nil
	})
	s2 := openTest(t, dir, Options{FS: efs})
	if !s2.Failed() {
		t.Fatal("drive not marked failed")
	}
	if _, err := s2.Stat(t.Context(), bad); !errors.Is(err, store.ErrCorrupt) {
		t.Fatalf("Stat of unreadable shard: %v", err)
	}
	if err := s2.ReadAt(t.Context(), bad, make([]byte, 1), 0); err == nil {
		t.Fatal("read of unreadable shard succeeded")
	}
	p := make([]byte, 100)
	if err := s2.ReadAt(t.Context(), good, p, 0); err != nil || !bytes.Equal(p, storetest.Data(2, 100)) {
		t.Fatalf("good shard: %v", err)
	}
}
