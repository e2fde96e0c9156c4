package erasure

import (
	"context"
	"fmt"
	"sync"

	"github.com/tessera-store/tessera/store"
)

// faultKind is a failure the fake injects on one shard.
type faultKind int

const (
	healthy  faultKind = iota
	missing            // every read: store.ErrNotFound
	corrupt            // reads touching [lo, hi): store.ErrCorrupt
	blocked            // every read blocks until ctx is done
	errAfter           // reads fail with store.ErrUnavailable once more than after bytes were served
)

type fault struct {
	kind   faultKind
	lo, hi int64 // corrupt
	after  int64 // errAfter
}

type request struct{ off, n int64 }

// fakeReader is an in-memory ShardReader with fault injection. It records
// every request so tests can check what a read touched.
type fakeReader struct {
	shards [][]byte
	faults map[int]fault // read-only once reads start
	// entered receives the shard index when a blocked read starts (if non-nil).
	entered chan int

	mu sync.Mutex
	// served and reqs are guarded by mu.
	served map[int]int64
	reqs   map[int][]request
}

func newFakeReader(shards [][]byte) *fakeReader {
	return &fakeReader{
		shards: shards,
		faults: map[int]fault{},
		served: map[int]int64{},
		reqs:   map[int][]request{},
	}
}

func (f *fakeReader) requests() map[int][]request {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[int][]request{}
	for k, v := range f.reqs {
		out[k] = append([]request(nil), v...)
	}
	return out
}

// garble overwrites p so that a caller using the bytes of a failed read
// shows up as wrong data.
func garble(p []byte) {
	for i := range p {
		p[i] = 0xA5
	}
}

func (f *fakeReader) ReadShardAt(ctx context.Context, shard int, p []byte, off int64) error {
	n := int64(len(p))
	f.mu.Lock()
	f.reqs[shard] = append(f.reqs[shard], request{off, n})
	f.served[shard] += n
	served := f.served[shard]
	f.mu.Unlock()

	if shard < 0 || shard >= len(f.shards) {
		return fmt.Errorf("fake: shard %d: %w", shard, store.ErrNotFound)
	}
	data := f.shards[shard]
	if off < 0 || off > int64(len(data)) || n > int64(len(data))-off {
		return fmt.Errorf("fake: shard %d [%d,+%d): %w", shard, off, n, store.ErrOutOfRange)
	}
	switch ft := f.faults[shard]; ft.kind {
	case missing:
		garble(p)
		return fmt.Errorf("fake: shard %d: %w", shard, store.ErrNotFound)
	case corrupt:
		if off < ft.hi && off+n > ft.lo {
			garble(p)
			return fmt.Errorf("fake: shard %d block at %d: %w", shard, ft.lo, store.ErrCorrupt)
		}
	case blocked:
		if f.entered != nil {
			f.entered <- shard
		}
		<-ctx.Done()
		garble(p)
		return ctx.Err()
	case errAfter:
		if served > ft.after {
			garble(p)
			return fmt.Errorf("fake: shard %d: %w", shard, store.ErrUnavailable)
		}
	}
	copy(p, data[off:off+n])
	return nil
}
