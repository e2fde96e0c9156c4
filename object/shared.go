package object

import (
	"context"
	"sync"

	"github.com/tessera-store/tessera/meta"
	"github.com/tessera-store/tessera/pack"
)

// sharedPacker packs the new chunks of small uploads together. Alone, a
// 1 MiB object becomes a 1 MiB pack: k+m shard files of 256 KiB, each with
// its own create, fsync, rename and directory fsync. Measured on this
// project's machine, writing 256 KiB files durably cost 3.4 s of CPU per GB
// against 1.9 s for 2 MiB files, and 16 concurrent 1 MiB PUTs spent 44% of
// the server's CPU in those syscalls. Here concurrent small uploads append
// their frames to one open pack, and the pack is sealed like a group
// commit: as soon as an upload waits on it and fewer than maxSealing shared
// seals are in flight, or when it is full. Under load many objects share
// one set of shard files; an idle server seals at once.
//
// Every upload whose chunks landed in a pack lists the pack in its commit;
// the metadata state registers a pack once and counts only committed chunks
// in its LiveBytes, so the frames of an upload that never commits are dead
// bytes of the pack from the start.
type sharedPacker struct {
	l          *Layer
	maxSealing int

	mu      sync.Mutex
	open    *sharedPack // nil when no pack is open
	sealing int         // shared seals in flight
}

// sharedPack is one pack being filled by several uploads, then sealed.
type sharedPack struct {
	id      pack.ID
	frames  []byte // from l.packBufs; owned by the sealer once sealed
	waiters int    // uploads waiting for it to be sealed
	done    chan struct{}
	p       meta.Pack // set before done is closed
	err     error
}

func newSharedPacker(l *Layer, maxSealing int) *sharedPacker {
	return &sharedPacker{l: l, maxSealing: maxSealing}
}

// add appends one encoded frame to the open pack (opening one if needed,
// sealing the open one first if frame does not fit) and returns the pack
// and the frame's offset in it.
func (s *sharedPacker) add(ctx context.Context, frame []byte) (*sharedPack, int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		if s.open != nil && len(s.open.frames) > 0 && len(s.open.frames)+len(frame) > s.l.opt.PackSize {
			s.sealLocked()
		}
		if s.open != nil {
			break
		}
		// Wait for a buffer without the lock: sealers return buffers, and
		// the seal that frees one takes the lock when it ends.
		s.mu.Unlock()
		buf, err := s.l.packBufs.get(ctx)
		s.mu.Lock()
		if err != nil {
			return nil, 0, err
		}
		if s.open != nil { // another upload opened one meanwhile
			s.l.packBufs.put(buf)
			continue
		}
		s.open = &sharedPack{id: pack.NewID(), frames: buf, done: make(chan struct{})}
	}
	sp := s.open
	off := len(sp.frames)
	sp.frames = append(sp.frames, frame...)
	return sp, off, nil
}

// wait returns sp's pack once it is sealed and written, sealing it now if
// it is still open and a seal slot is free.
func (s *sharedPacker) wait(ctx context.Context, sp *sharedPack) (meta.Pack, error) {
	s.mu.Lock()
	if s.open == sp {
		sp.waiters++
		s.sealWaitedLocked()
	}
	s.mu.Unlock()
	select {
	case <-sp.done:
		return sp.p, sp.err
	case <-ctx.Done():
		// The pack is still sealed for the other uploads in it.
		return meta.Pack{}, ctx.Err()
	}
}

// sealWaitedLocked seals the open pack if an upload waits on it and a seal
// slot is free.
func (s *sharedPacker) sealWaitedLocked() {
	if s.open != nil && s.open.waiters > 0 && s.sealing < s.maxSealing {
		s.sealLocked()
	}
}

// sealLocked closes the open pack to new frames and writes it on its own
// goroutine. The write does not run under any upload's context: other
// uploads' chunks are in the pack.
func (s *sharedPacker) sealLocked() {
	sp := s.open
	s.open = nil
	s.sealing++
	go func() {
		sp.p, sp.err = s.l.writePack(context.Background(), sp.id, sp.frames)
		s.l.packBufs.put(sp.frames)
		sp.frames = nil
		close(sp.done)
		s.mu.Lock()
		s.sealing--
		s.sealWaitedLocked()
		s.mu.Unlock()
	}()
}
