package object

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/tessera-store/tessera/chunk"
	"github.com/tessera-store/tessera/erasure"
	"github.com/tessera-store/tessera/meta"
	"github.com/tessera-store/tessera/pack"
	"github.com/tessera-store/tessera/store"
)

// OpenObject streams bytes [off, off+n) of o. See s3api.Backend.
func (l *Layer) OpenObject(ctx context.Context, o *meta.Object, off, n int64) (io.ReadCloser, error) {
	if off < 0 || n < 0 || off+n > o.Size {
		return nil, fmt.Errorf("object: range [%d, %d) outside %d bytes: %w", off, off+n, o.Size, store.ErrOutOfRange)
	}
	if len(o.Chunks) == 0 {
		if int64(len(o.Inline)) != o.Size {
			return nil, fmt.Errorf("%w: inline object %s/%s has %d bytes, manifest says %d", ErrCorrupt, o.Bucket, o.Key, len(o.Inline), o.Size)
		}
		return io.NopCloser(bytes.NewReader(o.Inline[off : off+n])), nil
	}
	b, err := l.bucket(ctx, o.Bucket)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	r := &reader{cancel: cancel, results: make(chan chan result, l.opt.ReadAhead)}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		defer close(r.results)
		l.fetch(ctx, b.DomainKey, o.Chunks, off, n, r.results)
	}()
	return r, nil
}

type result struct {
	data []byte // the bytes to deliver
	err  error
}

// reader delivers fetched chunks in order.
type reader struct {
	cancel  context.CancelFunc
	results chan chan result
	wg      sync.WaitGroup
	cur     []byte
	err     error
}

// fill makes r.cur non-empty with the next chunk; false at the end of the
// range or on an error (r.err says which).
func (r *reader) fill() bool {
	for len(r.cur) == 0 {
		if r.err != nil {
			return false
		}
		ch, ok := <-r.results
		if !ok {
			r.err = io.EOF
			continue
		}
		res := <-ch
		r.cur, r.err = res.data, res.err
	}
	return true
}

func (r *reader) Read(p []byte) (int, error) {
	if !r.fill() {
		return 0, r.err
	}
	n := copy(p, r.cur)
	r.cur = r.cur[n:]
	return n, nil
}

// WriteTo writes the rest of the range to w chunk by chunk, without the
// copy into a caller's buffer that Read makes (io.Copy uses it).
func (r *reader) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for r.fill() {
		n, err := w.Write(r.cur)
		total += int64(n)
		r.cur = r.cur[n:]
		if err != nil {
			return total, err
		}
	}
	if r.err == io.EOF {
		return total, nil
	}
	return total, r.err
}

func (r *reader) Close() error {
	r.cancel()
	// Drain so the fetcher and its workers can finish.
	for ch := range r.results {
		<-ch
	}
	r.wg.Wait()
	return nil
}

// fetch resolves the chunks covering [off, off+n) in batches and starts one
// bounded fetch per chunk; results are queued in order (the channel's
// capacity is the read-ahead).
func (l *Layer) fetch(ctx context.Context, key []byte, refs []meta.ChunkRef, off, n int64, out chan<- chan result) {
	// Find the first chunk.
	i, pos := 0, int64(0)
	for i < len(refs) && pos+int64(refs[i].Size) <= off {
		pos += int64(refs[i].Size)
		i++
	}
	end := off + n
	sem := make(chan struct{}, l.opt.ReadAhead)
	fail := func(err error) {
		ch := make(chan result, 1)
		ch <- result{err: err}
		select {
		case out <- ch:
		case <-ctx.Done():
		}
	}
	for i < len(refs) && pos < end {
		// One index lookup per batch of chunks.
		j, bpos := i, pos
		var addrs []chunk.Addr
		for j < len(refs) && bpos < end && len(addrs) < l.opt.LookupBatch {
			if _, ok := l.cache.get(refs[j].Addr); !ok {
				addrs = append(addrs, refs[j].Addr)
			}
			bpos += int64(refs[j].Size)
			j++
		}
		locs := make(map[chunk.Addr]meta.ChunkInfo, len(addrs))
		if len(addrs) > 0 {
			infos, err := l.meta.LookupChunks(ctx, dedupAddrs(addrs))
			if err != nil {
				fail(fmt.Errorf("object: lookup chunks: %w", err))
				return
			}
			for _, in := range infos {
				if in.Found {
					locs[in.Addr] = in
				}
			}
		}
		for ; i < j; i++ {
			ref := refs[i]
			lo, hi := int64(0), int64(ref.Size)
			if pos < off {
				lo = off - pos
			}
			if pos+hi > end {
				hi = end - pos
			}
			pos += int64(ref.Size)
			ch := make(chan result, 1)
			select {
			case out <- ch:
			case <-ctx.Done():
				return
			}
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				ch <- result{err: ctx.Err()}
				return
			}
			loc, ok := locs[ref.Addr]
			go func() {
				defer func() { <-sem }()
				data, err := l.chunkData(ctx, key, ref, loc, ok)
				if err != nil {
					ch <- result{err: err}
					return
				}
				ch <- result{data: data[lo:hi]}
			}()
		}
	}
}

func dedupAddrs(a []chunk.Addr) []chunk.Addr {
	seen := make(map[chunk.Addr]struct{}, len(a))
	out := a[:0]
	for _, x := range a {
		if _, ok := seen[x]; !ok {
			seen[x] = struct{}{}
			out = append(out, x)
		}
	}
	return out
}

// chunkData returns a chunk's verified plaintext, from the cache or its pack.
func (l *Layer) chunkData(ctx context.Context, key []byte, ref meta.ChunkRef, loc meta.ChunkInfo, found bool) ([]byte, error) {
	if data, ok := l.cache.get(ref.Addr); ok {
		return data, nil
	}
	if !found {
		// Skipped in the batch because it was cached, then evicted.
		infos, err := l.meta.LookupChunks(ctx, []chunk.Addr{ref.Addr})
		if err != nil {
			return nil, fmt.Errorf("object: lookup chunk %v: %w", ref.Addr, err)
		}
		if len(infos) != 1 || !infos[0].Found {
			return nil, fmt.Errorf("%w: chunk %v not in the index", ErrCorrupt, ref.Addr)
		}
		loc = infos[0]
	}
	p, err := l.packInfo(ctx, loc.Pack)
	if err != nil {
		return nil, err
	}
	code, err := erasure.NewCode(p.K, p.M)
	if err != nil {
		return nil, err
	}
	frame := make([]byte, loc.Length)
	sr := &shardReader{l: l, p: p}
	if err := code.ReadRange(ctx, sr, p.Length, frame, loc.Offset); err != nil {
		// The cached pack may be stale (repair moved or rebuilt shards):
		// refetch it once and retry before giving up.
		l.forgetPack(p.ID)
		fresh, ferr := l.packInfo(ctx, loc.Pack)
		if ferr != nil || ctx.Err() != nil {
			return nil, fmt.Errorf("object: read chunk %v from pack %v: %w", ref.Addr, p.ID, err)
		}
		sr = &shardReader{l: l, p: fresh}
		if err := code.ReadRange(ctx, sr, fresh.Length, frame, loc.Offset); err != nil {
			return nil, fmt.Errorf("object: read chunk %v from pack %v: %w", ref.Addr, p.ID, err)
		}
	}
	data, err := pack.DecodeFrame(nil, frame, int(loc.Size))
	if err != nil {
		return nil, fmt.Errorf("%w: chunk %v: %w", ErrCorrupt, ref.Addr, err)
	}
	if a, err := chunk.Sum(key, data); err != nil || a != ref.Addr {
		return nil, fmt.Errorf("%w: chunk %v: content does not match its address", ErrCorrupt, ref.Addr)
	}
	l.cache.put(ref.Addr, data)
	return data, nil
}

// packInfo returns a pack's metadata; packs are cached (their layout never
// changes; node lists change on repair, and a stale list only costs a
// reconstruction until the entry is refreshed).
func (l *Layer) packInfo(ctx context.Context, id pack.ID) (meta.Pack, error) {
	l.mu.Lock()
	p, ok := l.packs[id]
	l.mu.Unlock()
	if ok {
		return p, nil
	}
	ps, err := l.meta.GetPacks(ctx, []pack.ID{id})
	if err != nil {
		return meta.Pack{}, fmt.Errorf("object: get pack %v: %w", id, err)
	}
	if len(ps) != 1 || ps[0].ID != id {
		return meta.Pack{}, fmt.Errorf("%w: pack %v not in metadata", ErrCorrupt, id)
	}
	p = ps[0]
	l.mu.Lock()
	if len(l.packs) > 100000 {
		clear(l.packs)
	}
	l.packs[id] = p
	l.mu.Unlock()
	return p, nil
}

func (l *Layer) forgetPack(id pack.ID) {
	l.mu.Lock()
	delete(l.packs, id)
	l.mu.Unlock()
}

// shardReader reads a pack's shards from the nodes that hold them.
type shardReader struct {
	l *Layer
	p meta.Pack
}

var errShardMissing = errors.New("object: shard recorded missing")

func (s *shardReader) ReadShardAt(ctx context.Context, shard int, p []byte, off int64) error {
	for _, m := range s.p.Missing {
		if m == shard {
			return errShardMissing
		}
	}
	if shard >= len(s.p.Nodes) {
		return fmt.Errorf("object: pack %v has no node for shard %d", s.p.ID, shard)
	}
	st, err := s.l.opt.Stores.Store(s.p.Nodes[shard])
	if err != nil {
		return err
	}
	return st.ReadAt(ctx, store.ShardID{Pack: s.p.ID, Index: shard}, p, off)
}
