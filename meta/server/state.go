package server

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/cockroachdb/pebble"
	"github.com/cockroachdb/pebble/bloom"
	"github.com/cockroachdb/pebble/vfs"

	"github.com/tessera-store/tessera/meta"
)

// Options configure a State. The zero value is valid.
type Options struct {
	Logger *slog.Logger // nil: slog.Default()
	FS     vfs.FS       // nil: the disk; vfs.NewMem() for tests
	// Sync makes Apply fsync its batch (ApplyBatch: once per call). Leave it
	// false under Raft, whose log is the durable record; meta/local sets it.
	Sync bool
	// CacheBytes sizes Pebble's block cache; 0 means 64 MiB.
	CacheBytes int64
}

// Validate reports whether the options are usable.
func (o *Options) Validate() error {
	if o.CacheBytes < 0 {
		return fmt.Errorf("server: %w: negative CacheBytes", meta.ErrInvalidArgument)
	}
	return nil
}

// Result is what Apply returns to the proposer: Value is nil, *meta.Object
// (OpCompleteUpload) or *meta.GCResult (OpCollectGarbage).
type Result struct {
	Value any
	Err   error
}

// ErrClosed is returned by a State after Close, or after a write to its
// Pebble store failed (the state may then lag the log: reopen it).
var ErrClosed = errors.New("server: state closed or failed")

// defaultIdemKeep is how many idempotency records are kept. It is part of
// the replicated behaviour: every replica must use the same value.
const defaultIdemKeep = 100_000

// State is the replicated state machine: a Pebble DB. Apply is
// deterministic: no clocks, no randomness, no map iteration order; times and
// IDs come in the command. Apply, ApplyBatch and Restore must be called from
// one goroutine at a time (the log's apply loop); reads and Snapshot are
// safe concurrently with them.
//
// On disk, dir holds STATE (the name of the current Pebble directory) and
// that directory, state-<generation>. Restore builds the next generation
// beside the current one and switches STATE atomically.
type State struct {
	opt      Options
	log      *slog.Logger
	fs       vfs.FS
	dir      string
	idemKeep int

	// applyMu serializes writers (Apply, ApplyBatch, Restore).
	applyMu sync.Mutex
	// Guarded by applyMu: the state as of the last committed batch.
	stats   meta.Stats
	idem    int64
	gen     int
	applied atomic.Uint64
	failed  bool

	// mu guards h; readers hold it shared, Restore and Close exclusively.
	mu sync.RWMutex
	h  *handle
}

// handle is one open Pebble generation, reference counted so that a
// Snapshot being streamed keeps it open across a Restore.
type handle struct {
	db     *pebble.DB
	fs     vfs.FS
	dir    string
	refs   atomic.Int32
	remove atomic.Bool // delete dir when the last reference goes
}

func (h *handle) release() error {
	if h.refs.Add(-1) != 0 {
		return nil
	}
	err := h.db.Close()
	if h.remove.Load() {
		if rerr := h.fs.RemoveAll(h.dir); err == nil {
			err = rerr
		}
	}
	return err
}

const stateFile = "STATE"

// Open opens or creates the state in dir.
func Open(dir string, opt Options) (*State, error) {
	if err := opt.Validate(); err != nil {
		return nil, err
	}
	s := &State{opt: opt, log: opt.Logger, fs: opt.FS, dir: dir, idemKeep: defaultIdemKeep}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.fs == nil {
		s.fs = vfs.Default
	}
	if err := s.fs.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("server: open %s: %w", dir, err)
	}
	gen, err := s.readGen()
	if err != nil {
		return nil, err
	}
	if gen == 0 {
		gen = 1
		if err := s.writeGen(gen); err != nil {
			return nil, err
		}
	}
	h, err := s.openGen(gen)
	if err != nil {
		return nil, err
	}
	s.gen = gen
	s.h = h
	if err := s.load(); err != nil {
		h.release()
		return nil, err
	}
	s.log.Info("meta state opened", "dir", dir, "applied", s.applied.Load(), "objects", s.stats.Objects)
	return s, nil
}

func (s *State) genDir(gen int) string { return s.fs.PathJoin(s.dir, "state-"+strconv.Itoa(gen)) }

func (s *State) readGen() (int, error) {
	name := s.fs.PathJoin(s.dir, stateFile)
	f, err := s.fs.Open(name)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("server: read %s: %w", stateFile, err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, 64))
	if err != nil {
		return 0, fmt.Errorf("server: read %s: %w", stateFile, err)
	}
	gen, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(string(b), "state-")))
	if err != nil || gen <= 0 {
		return 0, fmt.Errorf("server: %s holds %q: %w", stateFile, b, ErrCorrupt)
	}
	return gen, nil
}

func (s *State) writeGen(gen int) error {
	tmp := s.fs.PathJoin(s.dir, stateFile+".tmp")
	f, err := s.fs.Create(tmp)
	if err != nil {
		return fmt.Errorf("server: write %s: %w", stateFile, err)
	}
	if _, err := io.WriteString(f, "state-"+strconv.Itoa(gen)+"\n"); err != nil {
		f.Close()
		return fmt.Errorf("server: write %s: %w", stateFile, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("server: write %s: %w", stateFile, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("server: write %s: %w", stateFile, err)
	}
	if err := s.fs.Rename(tmp, s.fs.PathJoin(s.dir, stateFile)); err != nil {
		return fmt.Errorf("server: write %s: %w", stateFile, err)
	}
	d, err := s.fs.OpenDir(s.dir)
	if err != nil {
		return fmt.Errorf("server: sync %s: %w", s.dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("server: sync %s: %w", s.dir, err)
	}
	return nil
}

func (s *State) openGen(gen int) (*handle, error) {
	dir := s.genDir(gen)
	po := s.pebbleOptions()
	db, err := pebble.Open(dir, po)
	po.Cache.Unref()
	if err != nil {
		return nil, fmt.Errorf("server: open pebble %s: %w", dir, err)
	}
	h := &handle{db: db, fs: s.fs, dir: dir}
	h.refs.Store(1)
	return h, nil
}

// pebbleOptions tunes Pebble for point lookups (bloom filters on every
// level, a block cache) and bursts of small batches (a larger memtable).
func (s *State) pebbleOptions() *pebble.Options {
	size := s.opt.CacheBytes
	if size == 0 {
		size = 64 << 20
	}
	o := &pebble.Options{
		FS:                       s.fs,
		Logger:                   pebbleLogger{s.log},
		Cache:                    pebble.NewCache(size), // openGen drops this reference after Open
		MemTableSize:             32 << 20,
		L0CompactionThreshold:    4,
		L0StopWritesThreshold:    32,
		LBaseMaxBytes:            64 << 20,
		MaxConcurrentCompactions: func() int { return 2 },
	}
	o.Levels = make([]pebble.LevelOptions, 7)
	for i := range o.Levels {
		l := &o.Levels[i]
		l.BlockSize = 16 << 10
		l.FilterPolicy = bloom.FilterPolicy(10)
		l.FilterType = pebble.TableFilter
		l.TargetFileSize = 4 << 20 << i
	}
	o.EnsureDefaults()
	return o
}

// load reads the applied index and counters of the current generation.
func (s *State) load() error {
	db := s.h.db
	s.applied.Store(0)
	s.stats = meta.Stats{}
	s.idem = 0
	if v, ok, err := get(db, []byte(keyApplied)); err != nil {
		return err
	} else if ok {
		if len(v) != 8 {
			return fmt.Errorf("server: applied index: %w", ErrCorrupt)
		}
		s.applied.Store(binary.BigEndian.Uint64(v))
	}
	if v, ok, err := get(db, []byte(keyStats)); err != nil {
		return err
	} else if ok {
		st, err := decodeStats(v)
		if err != nil {
			return fmt.Errorf("server: stats: %w", err)
		}
		s.stats = st
	}
	if v, ok, err := get(db, []byte(keyIdemCount)); err != nil {
		return err
	} else if ok {
		d := dec{b: v}
		s.idem = d.varint()
		if err := d.done(); err != nil {
			return fmt.Errorf("server: idempotency count: %w", err)
		}
	}
	return nil
}

// Close closes the state. Snapshots still held keep their view open until
// released.
func (s *State) Close() error {
	s.applyMu.Lock()
	defer s.applyMu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.h == nil {
		return nil
	}
	err := s.h.release()
	s.h = nil
	s.failed = true
	return err
}

// AppliedIndex returns the index of the last applied command.
func (s *State) AppliedIndex() uint64 { return s.applied.Load() }

// Apply applies one command at log index index and records index as the
// applied index in the same Pebble batch. A command at an index not above
// AppliedIndex (a replay after restart) is skipped and returns Result{}.
func (s *State) Apply(index uint64, cmd []byte) Result {
	var r [1]Result
	s.applyBatch(index, [][]byte{cmd}, r[:])
	return r[0]
}

// ApplyBatch applies cmds at indexes first, first+1, ... Each command is
// still its own atomic Pebble batch, but with Options.Sync the WAL is synced
// once, by the last batch: group commit. Results are in command order.
func (s *State) ApplyBatch(first uint64, cmds [][]byte) []Result {
	rs := make([]Result, len(cmds))
	s.applyBatch(first, cmds, rs)
	return rs
}

func (s *State) applyBatch(first uint64, cmds [][]byte, rs []Result) {
	s.applyMu.Lock()
	defer s.applyMu.Unlock()
	s.mu.RLock()
	defer s.mu.RUnlock()
	for i, cmd := range cmds {
		if s.failed || s.h == nil {
			rs[i] = Result{Err: ErrClosed}
			continue
		}
		index := first + uint64(i)
		if index <= s.applied.Load() {
			continue
		}
		sync := s.opt.Sync && i == len(cmds)-1
		rs[i] = s.applyOne(index, cmd, sync)
	}
}

func (s *State) applyOne(index uint64, cmd []byte, sync bool) Result {
	db := s.h.db
	t := &txn{s: s, db: db, b: db.NewBatch(), st: s.stats, idem: s.idem}
	defer t.b.Close()
	res := t.run(index, cmd)
	if res.Err != nil {
		// A failed command changes nothing but the applied index.
		t.b.Reset()
		t.st, t.idem = s.stats, s.idem
	}
	var ib [8]byte
	binary.BigEndian.PutUint64(ib[:], index)
	t.b.Set([]byte(keyApplied), ib[:], nil)
	if res.Err == nil {
		t.b.Set([]byte(keyStats), encodeStats(&t.st), nil)
		if t.idem != s.idem {
			var e enc
			e.varint(t.idem)
			t.b.Set([]byte(keyIdemCount), e.b, nil)
		}
	}
	opts := pebble.NoSync
	if sync {
		opts = pebble.Sync
	}
	if err := t.b.Commit(opts); err != nil {
		s.failed = true
		s.log.Error("meta state commit failed", "index", index, "err", err)
		return Result{Err: fmt.Errorf("%w: commit index %d: %v", ErrClosed, index, err)}
	}
	s.stats, s.idem = t.st, t.idem
	s.applied.Store(index)
	return res
}

// reader returns the current Pebble handle with a reference; release it.
func (s *State) reader() (*handle, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.h == nil {
		return nil, ErrClosed
	}
	s.h.refs.Add(1)
	return s.h, nil
}

// get returns a copy of key's value.
func get(r pebble.Reader, key []byte) ([]byte, bool, error) {
	v, c, err := r.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("server: get: %w", err)
	}
	out := append([]byte(nil), v...)
	c.Close()
	return out, true, nil
}

// Snapshot is a consistent point-in-time view of a State.
type Snapshot struct {
	h     *handle
	snap  *pebble.Snapshot
	index uint64
}

// Snapshot returns a view of the state as of the last applied command. The
// caller must Release it.
func (s *State) Snapshot() (Snapshot, error) {
	s.applyMu.Lock()
	defer s.applyMu.Unlock()
	h, err := s.reader()
	if err != nil {
		return Snapshot{}, err
	}
	return Snapshot{h: h, snap: h.db.NewSnapshot(), index: s.applied.Load()}, nil
}

// Index is the applied index the snapshot reflects.
func (sn Snapshot) Index() uint64 { return sn.index }

// Release frees the snapshot.
func (sn Snapshot) Release() {
	if sn.snap == nil {
		return
	}
	sn.snap.Close()
	sn.h.release()
}

// Snapshot stream format: snapMagic, then records (uvarint key length > 0,
// key, uvarint value length, value) in key order, then a zero uvarint and
// the CRC-32C (big endian) of every byte before it.
var snapMagic = []byte("TSSNAP\x00\x01")

const maxSnapKey, maxSnapValue = 1 << 16, 1 << 30

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// WriteTo streams the snapshot to w.
func (sn Snapshot) WriteTo(w io.Writer) (int64, error) {
	if sn.snap == nil {
		return 0, ErrClosed
	}
	cw := &crcWriter{w: w, h: crc32.New(castagnoli)}
	bw := bufio.NewWriterSize(cw, 1<<16)
	it, err := sn.snap.NewIter(nil)
	if err != nil {
		return 0, fmt.Errorf("server: snapshot: %w", err)
	}
	defer it.Close()
	bw.Write(snapMagic)
	var hdr [2 * binary.MaxVarintLen64]byte
	for it.First(); it.Valid(); it.Next() {
		k, v := it.Key(), it.Value()
		n := binary.PutUvarint(hdr[:], uint64(len(k)))
		bw.Write(hdr[:n])
		bw.Write(k)
		n = binary.PutUvarint(hdr[:], uint64(len(v)))
		bw.Write(hdr[:n])
		if _, err := bw.Write(v); err != nil {
			return cw.n, fmt.Errorf("server: snapshot: %w", err)
		}
	}
	if err := it.Error(); err != nil {
		return cw.n, fmt.Errorf("server: snapshot: %w", err)
	}
	bw.WriteByte(0)
	if err := bw.Flush(); err != nil {
		return cw.n, fmt.Errorf("server: snapshot: %w", err)
	}
	var sum [4]byte
	binary.BigEndian.PutUint32(sum[:], cw.h.Sum32())
	n, err := w.Write(sum[:])
	cw.n += int64(n)
	if err != nil {
		return cw.n, fmt.Errorf("server: snapshot: %w", err)
	}
	return cw.n, nil
}

type crcWriter struct {
	w io.Writer
	h hash.Hash32
	n int64
}

func (c *crcWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.h.Write(p[:n])
	c.n += int64(n)
	return n, err
}

// Restore replaces the whole state with a stream written by
// Snapshot.WriteTo. It builds a new Pebble generation and switches to it
// atomically; on any error the current state is left untouched.
func (s *State) Restore(r io.Reader) error {
	s.applyMu.Lock()
	defer s.applyMu.Unlock()
	s.mu.RLock()
	closed := s.h == nil
	s.mu.RUnlock()
	if closed {
		return ErrClosed
	}
	gen := s.gen + 1
	dir := s.genDir(gen)
	if err := s.fs.RemoveAll(dir); err != nil {
		return fmt.Errorf("server: restore: %w", err)
	}
	h, err := s.openGen(gen)
	if err != nil {
		return err
	}
	if err := readSnapshot(r, h.db); err != nil {
		h.remove.Store(true)
		h.release()
		return fmt.Errorf("server: restore: %w", err)
	}
	if err := h.db.Flush(); err != nil {
		h.remove.Store(true)
		h.release()
		return fmt.Errorf("server: restore: %w", err)
	}
	if err := s.writeGen(gen); err != nil {
		h.remove.Store(true)
		h.release()
		return err
	}
	s.mu.Lock()
	old := s.h
	s.h, s.gen = h, gen
	err = s.load()
	s.failed = err != nil
	s.mu.Unlock()
	old.remove.Store(true)
	if rerr := old.release(); rerr != nil {
		s.log.Warn("meta state: closing replaced generation", "err", rerr)
	}
	if err != nil {
		return fmt.Errorf("server: restore: %w", err)
	}
	s.log.Info("meta state restored", "applied", s.applied.Load(), "generation", gen)
	return nil
}

// hashReader hashes exactly the bytes its callers consume.
type hashReader struct {
	r *bufio.Reader
	h hash.Hash32
}

func (h *hashReader) ReadByte() (byte, error) {
	c, err := h.r.ReadByte()
	if err == nil {
		h.h.Write([]byte{c})
	}
	return c, err
}

func (h *hashReader) Read(p []byte) (int, error) {
	n, err := h.r.Read(p)
	h.h.Write(p[:n])
	return n, err
}

func readSnapshot(r io.Reader, db *pebble.DB) error {
	br := bufio.NewReaderSize(r, 1<<16)
	hr := &hashReader{r: br, h: crc32.New(castagnoli)}
	magic := make([]byte, len(snapMagic))
	if _, err := io.ReadFull(hr, magic); err != nil || string(magic) != string(snapMagic) {
		return fmt.Errorf("%w: bad snapshot header", ErrCorrupt)
	}
	b := db.NewBatch()
	defer func() { b.Close() }()
	var prev []byte
	for {
		kl, err := binary.ReadUvarint(hr)
		if err != nil {
			return fmt.Errorf("%w: snapshot truncated", ErrCorrupt)
		}
		if kl == 0 {
			break
		}
		if kl > maxSnapKey {
			return fmt.Errorf("%w: snapshot key length %d", ErrCorrupt, kl)
		}
		k := make([]byte, kl)
		if _, err := io.ReadFull(hr, k); err != nil {
			return fmt.Errorf("%w: snapshot truncated", ErrCorrupt)
		}
		if prev != nil && string(k) <= string(prev) {
			return fmt.Errorf("%w: snapshot keys out of order", ErrCorrupt)
		}
		prev = k
		vl, err := binary.ReadUvarint(hr)
		if err != nil || vl > maxSnapValue {
			return fmt.Errorf("%w: snapshot value length", ErrCorrupt)
		}
		v, err := appendN(make([]byte, 0, min(vl, 1<<20)), hr, int(vl))
		if err != nil {
			return fmt.Errorf("%w: snapshot truncated", ErrCorrupt)
		}
		b.Set(k, v, nil)
		if b.Len() > 4<<20 {
			if err := b.Commit(pebble.NoSync); err != nil {
				return err
			}
			b.Close()
			b = db.NewBatch()
		}
	}
	var sum [4]byte
	if _, err := io.ReadFull(br, sum[:]); err != nil {
		return fmt.Errorf("%w: snapshot trailer", ErrCorrupt)
	}
	if binary.BigEndian.Uint32(sum[:]) != hr.h.Sum32() {
		return fmt.Errorf("%w: snapshot checksum mismatch", ErrCorrupt)
	}
	return b.Commit(pebble.NoSync)
}

func appendN(v []byte, r io.Reader, n int) ([]byte, error) {
	for n > 0 {
		c := min(n, 1<<20)
		l := len(v)
		v = append(v, make([]byte, c)...)
		if _, err := io.ReadFull(r, v[l:]); err != nil {
			return nil, err
		}
		n -= c
	}
	return v, nil
}

// pebbleLogger sends Pebble's log lines to slog at debug level (fatal ones
// at error level).
type pebbleLogger struct{ l *slog.Logger }

func (p pebbleLogger) Infof(format string, args ...any) {
	p.l.Debug("pebble: " + fmt.Sprintf(format, args...))
}

func (p pebbleLogger) Errorf(format string, args ...any) {
	p.l.Warn("pebble: " + fmt.Sprintf(format, args...))
}

func (p pebbleLogger) Fatalf(format string, args ...any) {
	p.l.Error("pebble: " + fmt.Sprintf(format, args...))
	panic(fmt.Sprintf(format, args...))
}
