// Package disk is a store.Store over one drive folder.
//
// Layout: each shard is one file in a hashed directory tree,
//
//	<dir>/shards/<h[0:2]>/<h[2:4]>/<h>.<index>
//
// where h is the pack ID in hex (random, so the tree is balanced), holding the
// framed shard (package shard: header, blocks, per-block CRC32C).
//
// Put writes to a temporary name ".tmp-..." in the target directory, fsyncs
// the file, renames it into place and fsyncs the directory: a shard is either
// whole and durable or absent. Open rebuilds the in-memory index from the
// tree (reading each header) and removes temporary files a crash left. Every
// read verifies the checksums of the blocks it touches.
//
// ENOSPC, or a Put beyond Options.MaxBytes, fails with store.ErrNoSpace and
// leaves nothing behind. An EIO from the drive marks the store failed: later
// Puts fail with store.ErrDriveFailed and Usage reports Failed.
package disk

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/tessera-store/tessera/pack"
	"github.com/tessera-store/tessera/shard"
	"github.com/tessera-store/tessera/store"
)

// Options configure a Store. The zero value is valid.
type Options struct {
	// FS is the file system; nil means OSFS.
	FS FS
	// MaxBytes, if positive, caps the framed bytes stored (a quota, used by
	// tests to simulate a full drive); a Put beyond it fails with
	// store.ErrNoSpace.
	MaxBytes int64
	// BlockSize of the shard format for new shards; 0 means
	// shard.DefaultBlockSize.
	BlockSize int
	// Logger; nil means slog.Default().
	Logger *slog.Logger
}

// Validate checks the options.
func (o Options) Validate() error {
	if o.MaxBytes < 0 {
		return fmt.Errorf("disk: negative MaxBytes %d", o.MaxBytes)
	}
	if o.BlockSize != 0 && (o.BlockSize < shard.MinBlockSize || o.BlockSize > shard.MaxBlockSize) {
		return fmt.Errorf("disk: block size %d out of range", o.BlockSize)
	}
	return nil
}

// ErrLocked: the drive folder is open in another process (or another Store).
var ErrLocked = errors.New("disk: folder locked by another store")

const (
	lockFile  = "LOCK"
	shardsDir = "shards"
	tmpPrefix = ".tmp-"
)

// entry is the index's view of one stored shard.
type entry struct {
	info   store.ShardInfo
	framed int64 // file size
	bad    bool  // header failed verification at Open
}

// Store is a shard store on one drive folder. Safe for concurrent use. Open
// locks the folder (LOCK file, flock): a second Store on it, in this or
// another process, fails with ErrLocked until Close.
type Store struct {
	dir    string
	fs     FS
	opt    Options
	log    *slog.Logger
	failed atomic.Bool
	dirs   sync.Map  // parent directories known to exist: string -> struct{}
	lock   io.Closer // the folder's LOCK file

	// mu guards index, used and reserved.
	mu       sync.RWMutex
	index    map[store.ShardID]entry
	used     int64 // framed bytes of indexed shards
	reserved int64 // framed bytes of Puts in flight
}

var (
	_ store.Store  = (*Store)(nil)
	_ store.Usager = (*Store)(nil)
)

// Open opens (creating if needed) the store in dir, rebuilds its index and
// removes temporary files left by a crash.
func Open(dir string, opt Options) (*Store, error) {
	if err := opt.Validate(); err != nil {
		return nil, err
	}
	if opt.FS == nil {
		opt.FS = OSFS{}
	}
	s := &Store{dir: dir, fs: opt.FS, opt: opt, log: opt.Logger, index: make(map[store.ShardID]entry)}
	if s.log == nil {
		s.log = slog.Default()
	}
	root := filepath.Join(dir, shardsDir)
	if err := s.fs.MkdirAll(root, 0o755); err != nil {
		return nil, fmt.Errorf("disk: open %s: %w", dir, s.classify(err))
	}
	lock, err := s.fs.Lock(filepath.Join(dir, lockFile))
	if err != nil {
		return nil, fmt.Errorf("disk: open %s: %w", dir, s.classify(err))
	}
	s.lock = lock
	if err := s.load(root); err != nil {
		lock.Close()
		return nil, fmt.Errorf("disk: open %s: %w", dir, s.classify(err))
	}
	return s, nil
}

// Close releases the folder's lock. The Store must not be used after.
func (s *Store) Close() error {
	return s.lock.Close()
}

// Dir returns the store's folder.
func (s *Store) Dir() string { return s.dir }

// load walks the two-level tree under root.
func (s *Store) load(root string) error {
	l1, err := s.fs.ReadDir(root)
	if err != nil {
		return err
	}
	for _, d1 := range l1 {
		if !d1.IsDir() {
			continue
		}
		p1 := filepath.Join(root, d1.Name())
		l2, err := s.fs.ReadDir(p1)
		if err != nil {
			return err
		}
		for _, d2 := range l2 {
			if !d2.IsDir() {
				continue
			}
			p2 := filepath.Join(p1, d2.Name())
			files, err := s.fs.ReadDir(p2)
			if err != nil {
				return err
			}
			s.dirs.Store(p2, struct{}{})
			for _, f := range files {
				if err := s.loadFile(p2, f.Name()); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func (s *Store) loadFile(dir, name string) error {
	path := filepath.Join(dir, name)
	if strings.HasPrefix(name, tmpPrefix) {
		s.log.Info("disk: removing leftover temporary file", "op", "open", "path", path)
		return s.fs.Remove(path)
	}
	id, ok := parseName(name)
	if !ok {
		s.log.Warn("disk: ignoring unknown file", "op", "open", "path", path)
		return nil
	}
	e, err := s.readEntry(id, path)
	if err != nil {
		// Unreadable (EIO marks the drive failed): keep it indexed as bad
		// so reads and the scrubber report it, and open the rest.
		s.log.Warn("disk: unreadable shard", "op", "open", "shard", name, "err", s.classify(err))
		e = entry{info: store.ShardInfo{ID: id}, bad: true}
	}
	s.index[id] = e
	s.used += e.framed
	return nil
}

// readEntry reads the header of the shard file at path.
func (s *Store) readEntry(id store.ShardID, path string) (entry, error) {
	f, err := s.fs.Open(path)
	if err != nil {
		return entry{}, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return entry{}, err
	}
	e := entry{info: store.ShardInfo{ID: id}, framed: fi.Size()}
	r, err := shard.NewReader(f, fi.Size())
	switch {
	case err == nil && (r.Header().Pack != id.Pack || r.Header().Index != id.Index):
		err = fmt.Errorf("header names %v/%d: %w", r.Header().Pack, r.Header().Index, store.ErrCorrupt)
		fallthrough
	case errors.Is(err, store.ErrCorrupt):
		s.log.Warn("disk: corrupt shard", "op", "open", "path", path, "err", err)
		e.bad = true
	case err != nil:
		return entry{}, err
	default:
		h := r.Header()
		e.info.Size, e.info.K, e.info.M = h.Length, h.K, h.M
	}
	return e, nil
}

func parseName(name string) (store.ShardID, bool) {
	h, idx, ok := strings.Cut(name, ".")
	if !ok {
		return store.ShardID{}, false
	}
	p, err := pack.ParseID(h)
	if err != nil {
		return store.ShardID{}, false
	}
	i, err := strconv.Atoi(idx)
	if err != nil || i < 0 || i >= shard.MaxShards || strconv.Itoa(i) != idx {
		return store.ShardID{}, false
	}
	return store.ShardID{Pack: p, Index: i}, true
}

// path returns the directory and file name of shard id.
func (s *Store) path(id store.ShardID) (dir, file string) {
	h := id.Pack.String()
	dir = filepath.Join(s.dir, shardsDir, h[0:2], h[2:4])
	return dir, filepath.Join(dir, h+"."+strconv.Itoa(id.Index))
}

// classify marks err with store.ErrNoSpace or store.ErrDriveFailed (marking
// the drive failed) when it is ENOSPC or EIO.
func (s *Store) classify(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT):
		return fmt.Errorf("%w: %w", store.ErrNoSpace, err)
	case errors.Is(err, syscall.EIO):
		if !s.failed.Swap(true) {
			s.log.Error("disk: drive failed", "op", "io", "path", s.dir, "err", err)
		}
		return fmt.Errorf("%w: %w", store.ErrDriveFailed, err)
	}
	return err
}

// Failed reports whether the drive has been marked failed.
func (s *Store) Failed() bool { return s.failed.Load() }

// Put implements store.Store.
func (s *Store) Put(ctx context.Context, info store.ShardInfo, r io.Reader) error {
	id := info.ID
	if err := s.put(ctx, info, r); err != nil {
		return fmt.Errorf("disk: put %v/%d: %w", id.Pack, id.Index, err)
	}
	return nil
}

func (s *Store) put(ctx context.Context, info store.ShardInfo, r io.Reader) (err error) {
	if s.failed.Load() {
		return store.ErrDriveFailed
	}
	h := shard.Header{Pack: info.ID.Pack, Index: info.ID.Index, K: info.K, M: info.M, Length: info.Size, BlockSize: s.opt.BlockSize}
	if err := h.Validate(); err != nil {
		return err
	}
	size := h.FramedSize()
	if err := s.reserve(info.ID, size); err != nil {
		return err
	}
	defer func() {
		s.mu.Lock()
		s.reserved -= size
		s.mu.Unlock()
	}()
	dir, final := s.path(info.ID)
	if _, ok := s.dirs.Load(dir); !ok {
		if err := s.fs.MkdirAll(dir, 0o755); err != nil {
			return s.classify(err)
		}
		s.dirs.Store(dir, struct{}{})
	}
	var rnd [8]byte
	rand.Read(rnd[:])
	tmp := filepath.Join(dir, tmpPrefix+filepath.Base(final)+"."+hex.EncodeToString(rnd[:]))
	f, err := s.fs.Create(tmp)
	if err != nil {
		return s.classify(err)
	}
	committed := false
	defer func() {
		if !committed {
			f.Close()
			if rerr := s.fs.Remove(tmp); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
				s.log.Warn("disk: removing temporary file", "op", "put", "path", tmp, "err", rerr)
			}
		}
	}()
	if err := shard.Frame(ctx, f, h, r); err != nil {
		return s.classify(err)
	}
	if err := f.Sync(); err != nil {
		return s.classify(err)
	}
	if err := f.Close(); err != nil {
		return s.classify(err)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	if _, ok := s.index[info.ID]; ok {
		s.mu.Unlock()
		return store.ErrExists
	}
	if err := s.fs.Rename(tmp, final); err != nil {
		s.mu.Unlock()
		return s.classify(err)
	}
	committed = true
	s.index[info.ID] = entry{info: store.ShardInfo{ID: info.ID, Size: info.Size, K: info.K, M: info.M}, framed: size}
	s.used += size
	s.mu.Unlock()
	if err := s.syncDir(dir); err != nil {
		// The rename may not be durable: take the shard back.
		s.mu.Lock()
		delete(s.index, info.ID)
		s.used -= size
		rerr := s.fs.Remove(final)
		s.mu.Unlock()
		if rerr != nil {
			s.log.Warn("disk: removing shard after failed directory sync", "op", "put", "path", final, "err", rerr)
		}
		return s.classify(err)
	}
	return nil
}

func (s *Store) syncDir(dir string) error {
	d, err := s.fs.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// reserve checks existence, health and capacity, and reserves size bytes.
func (s *Store) reserve(id store.ShardID, size int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.index[id]; ok {
		return store.ErrExists
	}
	if s.opt.MaxBytes > 0 && s.used+s.reserved+size > s.opt.MaxBytes {
		return fmt.Errorf("%d bytes with %d of %d used: %w", size, s.used+s.reserved, s.opt.MaxBytes, store.ErrNoSpace)
	}
	s.reserved += size
	return nil
}

func (s *Store) lookup(id store.ShardID) (entry, error) {
	s.mu.RLock()
	e, ok := s.index[id]
	s.mu.RUnlock()
	if !ok {
		return entry{}, store.ErrNotFound
	}
	return e, nil
}

// ReadAt implements store.Store.
func (s *Store) ReadAt(ctx context.Context, id store.ShardID, p []byte, off int64) error {
	if err := s.readAt(ctx, id, p, off); err != nil {
		return fmt.Errorf("disk: read %v/%d: %w", id.Pack, id.Index, err)
	}
	return nil
}

func (s *Store) readAt(ctx context.Context, id store.ShardID, p []byte, off int64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if _, err := s.lookup(id); err != nil {
		return err
	}
	_, path := s.path(id)
	f, err := s.fs.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		// Indexed but gone: lost behind our back (or deleted concurrently).
		return fmt.Errorf("file vanished: %w", store.ErrNotFound)
	}
	if err != nil {
		return s.classify(err)
	}
	defer f.Close()
	r, err := shard.NewReader(f, -1)
	if err == nil {
		if r.Header().Pack != id.Pack || r.Header().Index != id.Index {
			return fmt.Errorf("header names %v/%d: %w", r.Header().Pack, r.Header().Index, store.ErrCorrupt)
		}
		err = r.ReadRange(p, off)
	}
	return s.classify(err)
}

// Stat implements store.Store. A shard whose header failed verification
// at Open returns store.ErrCorrupt.
func (s *Store) Stat(ctx context.Context, id store.ShardID) (store.ShardInfo, error) {
	if err := ctx.Err(); err != nil {
		return store.ShardInfo{}, err
	}
	e, err := s.lookup(id)
	if err == nil && e.bad {
		err = store.ErrCorrupt
	}
	if err != nil {
		return store.ShardInfo{}, fmt.Errorf("disk: stat %v/%d: %w", id.Pack, id.Index, err)
	}
	return e.info, nil
}

// Delete implements store.Store.
func (s *Store) Delete(ctx context.Context, id store.ShardID) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	_, path := s.path(id)
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.index[id]
	if !ok {
		return fmt.Errorf("disk: delete %v/%d: %w", id.Pack, id.Index, store.ErrNotFound)
	}
	if err := s.fs.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("disk: delete %v/%d: %w", id.Pack, id.Index, s.classify(err))
	}
	delete(s.index, id)
	s.used -= e.framed
	return nil
}

// Walk implements store.Store over a snapshot of the index. Shards whose
// header failed verification are listed with only ID set (Size, K, M zero);
// reading them returns store.ErrCorrupt.
func (s *Store) Walk(ctx context.Context, fn func(store.ShardInfo) error) error {
	s.mu.RLock()
	infos := make([]store.ShardInfo, 0, len(s.index))
	for _, e := range s.index {
		infos = append(infos, e.info)
	}
	s.mu.RUnlock()
	for i, info := range infos {
		if i%256 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if err := fn(info); err != nil {
			return err
		}
	}
	return ctx.Err()
}

// Usage implements store.Usager: the file system's size and free space
// (capped by MaxBytes when set), the framed bytes stored, the shard count
// and whether the drive failed.
func (s *Store) Usage(ctx context.Context) (store.Usage, error) {
	total, free, err := s.fs.Statfs(s.dir)
	if err != nil {
		return store.Usage{}, fmt.Errorf("disk: usage %s: %w", s.dir, s.classify(err))
	}
	s.mu.RLock()
	u := store.Usage{TotalBytes: total, FreeBytes: free, UsedBytes: s.used, Shards: int64(len(s.index)), Failed: s.failed.Load()}
	reserved := s.reserved
	s.mu.RUnlock()
	if s.opt.MaxBytes > 0 {
		u.TotalBytes = s.opt.MaxBytes
		u.FreeBytes = min(free, max(0, s.opt.MaxBytes-u.UsedBytes-reserved))
	}
	return u, nil
}
