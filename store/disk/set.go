package disk

import (
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"slices"

	"github.com/tessera-store/tessera/store"
)

// Set is a store.Store over the drives of one node. A shard is placed on
// one drive by rendezvous hashing of its ID; when that drive is full or
// failed the next drive in the shard's ranking takes it. Reads find the
// shard through the drives' in-memory indexes. Safe for concurrent use.
type Set struct {
	drives []*Store
}

var (
	_ store.Store  = (*Set)(nil)
	_ store.Usager = (*Set)(nil)
)

// ErrNoDrives: a Set needs at least one drive.
var ErrNoDrives = errors.New("disk: no drives")

// NewSet returns a Set over drives.
func NewSet(drives []*Store) (*Set, error) {
	if len(drives) == 0 {
		return nil, ErrNoDrives
	}
	return &Set{drives: slices.Clone(drives)}, nil
}

// OpenSet opens one Store per folder with the same options.
func OpenSet(dirs []string, opt Options) (*Set, error) {
	var drives []*Store
	for _, d := range dirs {
		s, err := Open(d, opt)
		if err != nil {
			for _, o := range drives {
				o.Close()
			}
			return nil, err
		}
		drives = append(drives, s)
	}
	return NewSet(drives)
}

// Close closes every drive.
func (s *Set) Close() error {
	var errs []error
	for _, d := range s.drives {
		errs = append(errs, d.Close())
	}
	return errors.Join(errs...)
}

// Drives returns the set's drives in configuration order.
func (s *Set) Drives() []*Store { return slices.Clone(s.drives) }

// rank returns the drives in id's rendezvous order.
func (s *Set) rank(id store.ShardID) []*Store {
	if len(s.drives) == 1 {
		return s.drives
	}
	type scored struct {
		score uint64
		d     *Store
	}
	sc := make([]scored, len(s.drives))
	var buf [16 + 8 + 8]byte
	copy(buf[:16], id.Pack[:])
	binary.LittleEndian.PutUint64(buf[16:], uint64(id.Index))
	for i, d := range s.drives {
		binary.LittleEndian.PutUint64(buf[24:], uint64(i))
		h := fnv.New64a()
		h.Write(buf[:])
		sc[i] = scored{h.Sum64(), d}
	}
	slices.SortFunc(sc, func(a, b scored) int { return cmp.Compare(b.score, a.score) })
	out := make([]*Store, len(sc))
	for i := range sc {
		out[i] = sc[i].d
	}
	return out
}

// find returns the drive holding id.
func (s *Set) find(id store.ShardID) (*Store, error) {
	for _, d := range s.rank(id) {
		if _, err := d.lookup(id); err == nil {
			return d, nil
		}
	}
	return nil, fmt.Errorf("disk: %v/%d: %w", id.Pack, id.Index, store.ErrNotFound)
}

// Put implements store.Store. It tries drives in the shard's ranking,
// moving on when a drive is full or failed, as long as r has not been read
// (the shard fails the same way on every drive once bytes are consumed).
func (s *Set) Put(ctx context.Context, info store.ShardInfo, r io.Reader) error {
	if _, err := s.find(info.ID); err == nil {
		return fmt.Errorf("disk: put %v/%d: %w", info.ID.Pack, info.ID.Index, store.ErrExists)
	}
	var errs []error
	for _, d := range s.rank(info.ID) {
		cr := &countReader{r: r}
		err := d.Put(ctx, info, cr)
		if err == nil {
			return nil
		}
		errs = append(errs, err)
		retry := errors.Is(err, store.ErrNoSpace) || errors.Is(err, store.ErrDriveFailed)
		if !retry || cr.n > 0 {
			break
		}
	}
	return errors.Join(errs...)
}

type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// ReadAt implements store.Store.
func (s *Set) ReadAt(ctx context.Context, id store.ShardID, p []byte, off int64) error {
	d, err := s.find(id)
	if err != nil {
		return err
	}
	return d.ReadAt(ctx, id, p, off)
}

// Stat implements store.Store.
func (s *Set) Stat(ctx context.Context, id store.ShardID) (store.ShardInfo, error) {
	d, err := s.find(id)
	if err != nil {
		return store.ShardInfo{}, err
	}
	return d.Stat(ctx, id)
}

// Delete implements store.Store.
func (s *Set) Delete(ctx context.Context, id store.ShardID) error {
	d, err := s.find(id)
	if err != nil {
		return err
	}
	return d.Delete(ctx, id)
}

// Walk implements store.Store, drive after drive.
func (s *Set) Walk(ctx context.Context, fn func(store.ShardInfo) error) error {
	for _, d := range s.drives {
		if err := d.Walk(ctx, fn); err != nil {
			return err
		}
	}
	return nil
}

// Usage implements store.Usager: the sums over drives that have not failed
// (a failed drive's bytes are no longer served reliably). Failed is set
// only when every drive failed, since the node still takes writes on its
// healthy drives; DrivesFailed counts them.
func (s *Set) Usage(ctx context.Context) (store.Usage, error) {
	var u store.Usage
	failed := 0
	for _, d := range s.drives {
		du, err := d.Usage(ctx)
		if err != nil || du.Failed {
			failed++
			continue
		}
		u.TotalBytes += du.TotalBytes
		u.FreeBytes += du.FreeBytes
		u.UsedBytes += du.UsedBytes
		u.Shards += du.Shards
	}
	u.Failed = failed == len(s.drives)
	return u, nil
}

// DrivesFailed returns the number of drives marked failed.
func (s *Set) DrivesFailed() int {
	n := 0
	for _, d := range s.drives {
		if d.Failed() {
			n++
		}
	}
	return n
}
