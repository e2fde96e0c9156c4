// Package mem is an in-memory store.Store for tests and benchmarks. It keeps
// each shard framed exactly as on disk (shard format: header, blocks,
// checksums), so tests can corrupt stored bytes with Corrupt and see reads
// fail with store.ErrCorrupt, or lose shards with Drop.
package mem

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sync"

	"github.com/tessera-store/tessera/shard"
	"github.com/tessera-store/tessera/store"
)

// Options configure a Store. The zero value is valid.
type Options struct {
	// MaxBytes, if positive, is the capacity in framed bytes; a Put that
	// would exceed it fails with store.ErrNoSpace.
	MaxBytes int64
	// BlockSize of the shard format; 0 means shard.DefaultBlockSize.
	BlockSize int
}

// Validate checks the options.
func (o Options) Validate() error {
	if o.MaxBytes < 0 {
		return fmt.Errorf("mem: negative MaxBytes %d", o.MaxBytes)
	}
	if o.BlockSize != 0 && (o.BlockSize < shard.MinBlockSize || o.BlockSize > shard.MaxBlockSize) {
		return fmt.Errorf("mem: block size %d out of range", o.BlockSize)
	}
	return nil
}

// Store is an in-memory shard store. Safe for concurrent use.
type Store struct {
	opt Options

	// mu guards shards, used and reserved.
	mu       sync.RWMutex
	shards   map[store.ShardID][]byte // framed bytes, never modified in place except by Corrupt
	used     int64                    // sum of framed sizes
	reserved int64                    // framed bytes of Puts in flight
}

var (
	_ store.Store  = (*Store)(nil)
	_ store.Usager = (*Store)(nil)
)

// New returns an empty Store.
func New(opt Options) (*Store, error) {
	if err := opt.Validate(); err != nil {
		return nil, err
	}
	return &Store{opt: opt, shards: make(map[store.ShardID][]byte)}, nil
}

func header(info store.ShardInfo, blockSize int) shard.Header {
	return shard.Header{Pack: info.ID.Pack, Index: info.ID.Index, K: info.K, M: info.M, Length: info.Size, BlockSize: blockSize}
}

// Put implements store.Store.
func (s *Store) Put(ctx context.Context, info store.ShardInfo, r io.Reader) error {
	h := header(info, s.opt.BlockSize)
	if err := h.Validate(); err != nil {
		return fmt.Errorf("mem: put %v/%d: %w", info.ID.Pack, info.ID.Index, err)
	}
	if err := s.reserve(info.ID, h.FramedSize()); err != nil {
		return err
	}
	var buf bytes.Buffer
	buf.Grow(int(min(h.FramedSize(), 16<<20))) // a huge claimed size must not allocate up front
	err := shard.Frame(ctx, &buf, h, r)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reserved -= h.FramedSize()
	if err != nil {
		return fmt.Errorf("mem: put %v/%d: %w", info.ID.Pack, info.ID.Index, err)
	}
	if _, ok := s.shards[info.ID]; ok {
		return fmt.Errorf("mem: put %v/%d: %w", info.ID.Pack, info.ID.Index, store.ErrExists)
	}
	s.shards[info.ID] = buf.Bytes()
	s.used += h.FramedSize()
	return nil
}

// reserve checks existence and capacity, and reserves size bytes.
func (s *Store) reserve(id store.ShardID, size int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.shards[id]; ok {
		return fmt.Errorf("mem: put %v/%d: %w", id.Pack, id.Index, store.ErrExists)
	}
	if s.opt.MaxBytes > 0 && s.used+s.reserved+size > s.opt.MaxBytes {
		return fmt.Errorf("mem: put %v/%d: %d bytes with %d of %d used: %w", id.Pack, id.Index, size, s.used+s.reserved, s.opt.MaxBytes, store.ErrNoSpace)
	}
	s.reserved += size
	return nil
}

func (s *Store) get(id store.ShardID) ([]byte, error) {
	s.mu.RLock()
	b, ok := s.shards[id]
	s.mu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("mem: %v/%d: %w", id.Pack, id.Index, store.ErrNotFound)
	}
	return b, nil
}

// ReadAt implements store.Store.
func (s *Store) ReadAt(ctx context.Context, id store.ShardID, p []byte, off int64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b, err := s.get(id)
	if err != nil {
		return err
	}
	s.mu.RLock() // Corrupt may write b
	defer s.mu.RUnlock()
	return readFramed(b, id, p, off)
}

func readFramed(b []byte, id store.ShardID, p []byte, off int64) error {
	r, err := shard.NewReader(bytes.NewReader(b), int64(len(b)))
	if err == nil {
		err = r.ReadRange(p, off)
	}
	if err != nil {
		return fmt.Errorf("mem: read %v/%d: %w", id.Pack, id.Index, err)
	}
	return nil
}

// Stat implements store.Store.
func (s *Store) Stat(ctx context.Context, id store.ShardID) (store.ShardInfo, error) {
	if err := ctx.Err(); err != nil {
		return store.ShardInfo{}, err
	}
	b, err := s.get(id)
	if err != nil {
		return store.ShardInfo{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return infoOf(id, b), nil
}

// infoOf returns the info in a framed shard's header; a corrupt header
// yields zero K, M and Size (reads then fail with ErrCorrupt).
func infoOf(id store.ShardID, b []byte) store.ShardInfo {
	h, err := shard.ParseHeader(b)
	if err != nil {
		return store.ShardInfo{ID: id}
	}
	return store.ShardInfo{ID: id, Size: h.Length, K: h.K, M: h.M}
}

// Delete implements store.Store.
func (s *Store) Delete(ctx context.Context, id store.ShardID) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.shards[id]
	if !ok {
		return fmt.Errorf("mem: delete %v/%d: %w", id.Pack, id.Index, store.ErrNotFound)
	}
	delete(s.shards, id)
	s.used -= int64(len(b))
	return nil
}

// Walk implements store.Store. It works on a snapshot of the shard list.
func (s *Store) Walk(ctx context.Context, fn func(store.ShardInfo) error) error {
	s.mu.RLock()
	infos := make([]store.ShardInfo, 0, len(s.shards))
	for id, b := range s.shards {
		infos = append(infos, infoOf(id, b))
	}
	s.mu.RUnlock()
	for _, info := range infos {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := fn(info); err != nil {
			return err
		}
	}
	return nil
}

// Usage implements store.Usager. Without MaxBytes the capacity is reported
// as the used bytes (no free space is known).
func (s *Store) Usage(ctx context.Context) (store.Usage, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	u := store.Usage{UsedBytes: s.used, Shards: int64(len(s.shards)), TotalBytes: s.used}
	if s.opt.MaxBytes > 0 {
		u.TotalBytes = s.opt.MaxBytes
		u.FreeBytes = s.opt.MaxBytes - s.used - s.reserved
	}
	return u, nil
}

// Corrupt flips the bits of mask in the byte at framed offset off of shard
// id (header at 0, then blocks and checksums). A test hook.
func (s *Store) Corrupt(id store.ShardID, off int64, mask byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.shards[id]
	if !ok {
		return fmt.Errorf("mem: corrupt %v/%d: %w", id.Pack, id.Index, store.ErrNotFound)
	}
	if off < 0 || off >= int64(len(b)) {
		return fmt.Errorf("mem: corrupt %v/%d at %d: %w", id.Pack, id.Index, off, store.ErrOutOfRange)
	}
	b[off] ^= mask
	return nil
}

// Drop removes shard id without a trace, as a lost drive would. A test
// hook; it reports whether the shard was there.
func (s *Store) Drop(id store.ShardID) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.shards[id]
	if ok {
		delete(s.shards, id)
		s.used -= int64(len(b))
	}
	return ok
}

// DataOffset returns the framed offset of data byte off for block size bs
// (0 = default), for use with Corrupt.
func DataOffset(off int64, bs int) int64 {
	if bs == 0 {
		bs = shard.DefaultBlockSize
	}
	return shard.HeaderSize + off + (off/int64(bs))*shard.ChecksumSize
}
