package raftmeta

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/cockroachdb/pebble"
	"github.com/cockroachdb/pebble/vfs"
	"github.com/hashicorp/raft"
)

// Key layout of the Raft store (its own Pebble DB in <data>/raft):
//
//	"l" + big-endian uint64 index -> encoded raft.Log
//	"s" + key                    -> StableStore value
//
// Big-endian indexes sort numerically, so First/LastIndex are the first and
// last keys under "l".
const (
	prefixLog    = 'l'
	prefixStable = 's'
)

// logFormatV1 is the first byte of every encoded log entry; bump it when the
// encoding below changes.
const logFormatV1 = 1

// ErrCorruptLog reports a log entry or stable value that does not decode.
var ErrCorruptLog = errors.New("raftmeta: corrupt raft store entry")

// Store is a raft.LogStore and raft.StableStore on Pebble. Every write is
// synced before it returns (Raft's durability contract). Safe for
// concurrent use.
type Store struct {
	db   *pebble.DB
	sync *pebble.WriteOptions

	// mu guards first and last, cached bounds of the log (0, 0 when empty).
	mu          sync.Mutex
	first, last uint64
}

var (
	_ raft.LogStore    = (*Store)(nil)
	_ raft.StableStore = (*Store)(nil)
)

// StoreOptions configure OpenStore. The zero value is the default.
type StoreOptions struct {
	// FS is the file system; nil means the OS file system.
	FS vfs.FS
	// NoSync skips fsync on writes. Only for tests and benchmarks that
	// measure something else; never in production.
	NoSync bool
}

// OpenStore opens (creating if needed) the Raft store in dir.
func OpenStore(dir string, opt StoreOptions) (*Store, error) {
	po := &pebble.Options{FS: opt.FS, Logger: quietLogger{}}
	db, err := pebble.Open(dir, po)
	if err != nil {
		return nil, fmt.Errorf("raftmeta: open raft store %s: %w", dir, err)
	}
	s := &Store{db: db, sync: pebble.Sync}
	if opt.NoSync {
		s.sync = pebble.NoSync
	}
	if err := s.loadBounds(); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

func logKey(index uint64) []byte {
	var k [9]byte
	k[0] = prefixLog
	binary.BigEndian.PutUint64(k[1:], index)
	return k[:]
}

func (s *Store) loadBounds() error {
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: []byte{prefixLog}, UpperBound: []byte{prefixLog + 1}})
	if err != nil {
		return fmt.Errorf("raftmeta: raft store iterator: %w", err)
	}
	defer it.Close()
	var first, last uint64
	if it.First() {
		first = binary.BigEndian.Uint64(it.Key()[1:])
	}
	if it.Last() {
		last = binary.BigEndian.Uint64(it.Key()[1:])
	}
	if err := it.Error(); err != nil {
		return fmt.Errorf("raftmeta: raft store bounds: %w", err)
	}
	s.mu.Lock()
	s.first, s.last = first, last
	s.mu.Unlock()
	return nil
}

// FirstIndex returns the first index written, 0 for an empty log.
func (s *Store) FirstIndex() (uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.first, nil
}

// LastIndex returns the last index written, 0 for an empty log.
func (s *Store) LastIndex() (uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last, nil
}

// GetLog reads entry index into l; raft.ErrLogNotFound if it is absent.
func (s *Store) GetLog(index uint64, l *raft.Log) error {
	v, closer, err := s.db.Get(logKey(index))
	if errors.Is(err, pebble.ErrNotFound) {
		return raft.ErrLogNotFound
	}
	if err != nil {
		return fmt.Errorf("raftmeta: get log %d: %w", index, err)
	}
	defer closer.Close()
	if err := decodeLog(v, l); err != nil {
		return fmt.Errorf("raftmeta: log %d: %w", index, err)
	}
	l.Index = index
	return nil
}

// StoreLog stores one entry.
func (s *Store) StoreLog(l *raft.Log) error { return s.StoreLogs([]*raft.Log{l}) }

// StoreLogs stores entries in one synced batch.
func (s *Store) StoreLogs(logs []*raft.Log) error {
	if len(logs) == 0 {
		return nil
	}
	b := s.db.NewBatch()
	defer b.Close()
	var buf []byte
	lo, hi := logs[0].Index, logs[0].Index
	for _, l := range logs {
		buf = encodeLog(buf[:0], l)
		if err := b.Set(logKey(l.Index), buf, nil); err != nil {
			return fmt.Errorf("raftmeta: store log %d: %w", l.Index, err)
		}
		lo, hi = min(lo, l.Index), max(hi, l.Index)
	}
	if err := b.Commit(s.sync); err != nil {
		return fmt.Errorf("raftmeta: store logs %d-%d: %w", lo, hi, err)
	}
	s.mu.Lock()
	if s.first == 0 || lo < s.first {
		s.first = lo
	}
	if hi > s.last {
		s.last = hi
	}
	s.mu.Unlock()
	return nil
}

// DeleteRange deletes entries min..max inclusive.
func (s *Store) DeleteRange(lo, hi uint64) error {
	if lo > hi {
		return nil
	}
	end := logKey(hi + 1)
	if hi == ^uint64(0) {
		end = []byte{prefixLog + 1}
	}
	if err := s.db.DeleteRange(logKey(lo), end, s.sync); err != nil {
		return fmt.Errorf("raftmeta: delete logs %d-%d: %w", lo, hi, err)
	}
	return s.loadBounds()
}

// Set stores a stable value.
func (s *Store) Set(key, val []byte) error {
	k := append([]byte{prefixStable}, key...)
	if err := s.db.Set(k, val, s.sync); err != nil {
		return fmt.Errorf("raftmeta: set %q: %w", key, err)
	}
	return nil
}

// Get returns a stable value, or an empty slice when key is absent.
func (s *Store) Get(key []byte) ([]byte, error) {
	k := append([]byte{prefixStable}, key...)
	v, closer, err := s.db.Get(k)
	if errors.Is(err, pebble.ErrNotFound) {
		return []byte{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("raftmeta: get %q: %w", key, err)
	}
	defer closer.Close()
	return append([]byte{}, v...), nil
}

// SetUint64 stores a stable integer.
func (s *Store) SetUint64(key []byte, val uint64) error {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], val)
	return s.Set(key, b[:])
}

// GetUint64 returns a stable integer, or 0 when key is absent.
func (s *Store) GetUint64(key []byte) (uint64, error) {
	v, err := s.Get(key)
	if err != nil {
		return 0, err
	}
	if len(v) == 0 {
		return 0, nil
	}
	if len(v) != 8 {
		return 0, fmt.Errorf("%w: stable key %q has %d bytes", ErrCorruptLog, key, len(v))
	}
	return binary.BigEndian.Uint64(v), nil
}

// encodeLog appends l's encoding (without the index, which is the key):
// version, uvarint term, type byte, varint appended-at unix ns,
// uvarint len + data, uvarint len + extensions.
func encodeLog(dst []byte, l *raft.Log) []byte {
	dst = append(dst, logFormatV1)
	dst = binary.AppendUvarint(dst, l.Term)
	dst = append(dst, byte(l.Type))
	var at int64
	if !l.AppendedAt.IsZero() {
		at = l.AppendedAt.UnixNano()
	}
	dst = binary.AppendVarint(dst, at)
	dst = binary.AppendUvarint(dst, uint64(len(l.Data)))
	dst = append(dst, l.Data...)
	dst = binary.AppendUvarint(dst, uint64(len(l.Extensions)))
	dst = append(dst, l.Extensions...)
	return dst
}

// decodeLog decodes v into l, copying the byte slices (v belongs to Pebble).
func decodeLog(v []byte, l *raft.Log) error {
	if len(v) == 0 || v[0] != logFormatV1 {
		return ErrCorruptLog
	}
	v = v[1:]
	term, n := binary.Uvarint(v)
	if n <= 0 || len(v) < n+1 {
		return ErrCorruptLog
	}
	v = v[n:]
	typ := raft.LogType(v[0])
	v = v[1:]
	at, n := binary.Varint(v)
	if n <= 0 {
		return ErrCorruptLog
	}
	v = v[n:]
	data, v, ok := lenPrefixed(v)
	if !ok {
		return ErrCorruptLog
	}
	ext, v, ok := lenPrefixed(v)
	if !ok || len(v) != 0 {
		return ErrCorruptLog
	}
	l.Term, l.Type = term, typ
	l.Data, l.Extensions = data, ext
	l.AppendedAt = time.Time{}
	if at != 0 {
		l.AppendedAt = time.Unix(0, at)
	}
	return nil
}

func lenPrefixed(v []byte) (field, rest []byte, ok bool) {
	n, k := binary.Uvarint(v)
	if k <= 0 || n > uint64(len(v)-k) {
		return nil, nil, false
	}
	v = v[k:]
	if n == 0 {
		return nil, v, true
	}
	return append([]byte(nil), v[:n]...), v[n:], true
}

// quietLogger drops Pebble's informational chatter; errors reach callers
// as returned errors.
type quietLogger struct{}

func (quietLogger) Infof(string, ...any)  {}
func (quietLogger) Errorf(string, ...any) {}
func (quietLogger) Fatalf(format string, args ...any) {
	panic(fmt.Sprintf(format, args...))
}
