package object

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/tessera-store/tessera/chunk"
	"github.com/tessera-store/tessera/erasure"
	"github.com/tessera-store/tessera/meta"
	"github.com/tessera-store/tessera/pack"
	"github.com/tessera-store/tessera/store"
)

// pendingBytes bounds the chunk bytes an upload holds while their addresses
// are looked up: lookups go in batches, never one round trip per chunk.
const pendingBytes = 2 << 20

// written is what an upload leaves for its commit.
type written struct {
	size      int64
	refs      []meta.ChunkRef
	inline    []byte
	newChunks []meta.ChunkInfo
	newPacks  []meta.Pack
}

// writer streams one body into packs. Not safe for concurrent use; its pack
// sealing runs on its own goroutines, which wait() joins.
type writer struct {
	l   *Layer
	ctx context.Context
	key []byte // private dedup domain key, or nil

	out written
	// seen holds the chunks this upload already packed, so a chunk repeated
	// inside one object is stored once.
	seen map[chunk.Addr]struct{}
	// maxChunk bounds one frame (the chunker's maximum plus codec overhead).
	maxChunk int

	// pending chunks wait for a batched index lookup; their bytes sit in buf.
	pending []pendingChunk
	buf     []byte

	// The open pack.
	packID pack.ID
	frames []byte
	infos  []int // indexes into out.newChunks of the open pack's chunks

	// Sealing packs run concurrently with filling the next one; at most
	// maxSealing at once per upload.
	sealers errgroup.Group
	mu      sync.Mutex // guards out.newPacks written by sealers

	// shared: new frames go to the layer's shared packs (small uploads);
	// scratch holds one encoded frame, sharedPacks the packs used.
	shared      bool
	scratch     []byte
	sharedPacks []*sharedPack
}

type pendingChunk struct {
	addr     chunk.Addr
	off, len int
}

// maxSealing is how many sealed packs of one upload may be in flight while
// the next fills: 1 keeps memory at two pack buffers per upload.
const maxSealing = 1

func (l *Layer) newWriter(ctx context.Context, key []byte) *writer {
	w := &writer{
		l:    l,
		ctx:  ctx,
		key:  key,
		seen: make(map[chunk.Addr]struct{}),
	}
	w.sealers.SetLimit(maxSealing)
	return w
}

// write consumes body (at most max bytes; want is the declared size or -1)
// and returns what the commit needs. Small bodies are returned inline when
// inline is set (objects; multipart parts are always chunked, because a
// completed upload's manifest is the concatenation of its parts' chunks).
// On error nothing is committed; shards already written become orphans for
// GC.
func (l *Layer) write(ctx context.Context, key []byte, body io.Reader, want, max int64, inline bool) (*written, error) {
	if want > max {
		return nil, ErrTooLarge
	}
	limit := max
	if want >= 0 {
		limit = want
	}
	cr := &countReader{r: io.LimitReader(body, limit+1)}

	// Tiny objects live in the manifest.
	if inline && l.opt.InlineMax > 0 && (want < 0 || want <= int64(l.opt.InlineMax)) {
		small := make([]byte, l.opt.InlineMax+1)
		n, err := io.ReadFull(cr, small)
		switch {
		case err == io.EOF || err == io.ErrUnexpectedEOF:
			if err := checkSize(int64(n), want); err != nil {
				return nil, err
			}
			return &written{size: int64(n), inline: small[:n:n]}, nil
		case err != nil:
			return nil, err
		}
		body = io.MultiReader(bytes.NewReader(small[:n]), cr)
	} else {
		body = cr
	}

	w := l.newWriter(ctx, key)
	w.shared = l.shared != nil && want >= 0 && want <= int64(l.opt.SharedMax)
	err := w.run(body)
	if werr := w.sealers.Wait(); err == nil {
		err = werr
	}
	if err == nil {
		err = w.waitShared()
	}
	if w.frames != nil { // an open pack abandoned by an error
		l.packBufs.put(w.frames)
		w.frames = nil
	}
	if err != nil {
		return nil, err
	}
	if cr.n > limit {
		if want >= 0 {
			return nil, ErrLongBody
		}
		return nil, ErrTooLarge
	}
	if err := checkSize(cr.n, want); err != nil {
		return nil, err
	}
	w.out.size = cr.n
	return &w.out, nil
}

func checkSize(got, want int64) error {
	switch {
	case want < 0 || got == want:
		return nil
	case got < want:
		return fmt.Errorf("%w: %d of %d bytes", ErrShortBody, got, want)
	default:
		return ErrLongBody
	}
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

func (w *writer) run(body io.Reader) error {
	opt := w.l.opt.Chunk
	opt.Key = w.key
	// Hash on this goroutine: a gateway serves many uploads at once, so
	// cores are busy anyway, and the chunker's pipelined hashing costs
	// 1.5-1.8x the CPU per byte (docs/arch/chunk.md).
	opt.Serial = true
	if err := opt.Validate(); err != nil {
		return err
	}
	sp := chunk.NewSplitter(body, opt)
	defer sp.Close()
	max := chunkMax(opt)
	w.maxChunk = max + 64
	// Chunks are cut straight into the pending buffer: no second copy.
	buf, err := w.l.pendBufs.get(w.ctx)
	if err != nil {
		return err
	}
	w.buf = buf
	defer func() { w.l.pendBufs.put(w.buf) }()
	for {
		if err := w.ctx.Err(); err != nil {
			return err
		}
		off := len(w.buf)
		c, err := sp.Next(w.buf[off:])
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		w.buf = w.buf[:off+len(c.Data)]
		w.out.refs = append(w.out.refs, meta.ChunkRef{Addr: c.Addr, Size: uint32(len(c.Data))})
		w.pending = append(w.pending, pendingChunk{addr: c.Addr, off: off, len: len(c.Data)})
		if len(w.buf) >= pendingBytes || len(w.pending) >= w.l.opt.LookupBatch {
			if err := w.flushPending(); err != nil {
				return err
			}
		}
	}
	if err := w.flushPending(); err != nil {
		return err
	}
	if len(w.infos) > 0 {
		return w.seal()
	}
	return nil
}

// flushPending looks the pending chunks up and packs those the index lacks.
func (w *writer) flushPending() error {
	if len(w.pending) == 0 {
		return nil
	}
	addrs := make([]chunk.Addr, 0, len(w.pending))
	for _, p := range w.pending {
		if _, ok := w.seen[p.addr]; !ok {
			addrs = append(addrs, p.addr)
		}
	}
	var found map[chunk.Addr]bool
	if len(addrs) > 0 {
		infos, err := w.l.meta.LookupChunks(w.ctx, addrs)
		if err != nil {
			return fmt.Errorf("object: lookup %d chunks: %w", len(addrs), err)
		}
		found = make(map[chunk.Addr]bool, len(infos))
		for _, in := range infos {
			// A tombstoned chunk (Refs 0) may be collected before this
			// upload commits: store it again rather than race GC.
			if in.Found && in.Refs > 0 {
				found[in.Addr] = true
			}
		}
	}
	for _, p := range w.pending {
		if _, ok := w.seen[p.addr]; ok || found[p.addr] {
			continue
		}
		w.seen[p.addr] = struct{}{}
		if err := w.addFrame(p.addr, w.buf[p.off:p.off+p.len]); err != nil {
			return err
		}
	}
	w.pending = w.pending[:0]
	w.buf = w.buf[:0]
	return nil
}

// addFrame compresses a new chunk into the open pack, sealing it when full.
func (w *writer) addFrame(a chunk.Addr, data []byte) error {
	if w.shared {
		return w.addShared(a, data)
	}
	if len(w.infos) == 0 {
		w.packID = pack.NewID()
		if w.frames == nil {
			b, err := w.l.packBufs.get(w.ctx)
			if err != nil {
				return err
			}
			w.frames = b
		}
	}
	off := len(w.frames)
	w.frames = pack.AppendFrame(w.frames, data, w.l.codec)
	w.infos = append(w.infos, len(w.out.newChunks))
	w.out.newChunks = append(w.out.newChunks, meta.ChunkInfo{
		Addr:   a,
		Pack:   w.packID,
		Offset: int64(off),
		Length: int32(len(w.frames) - off),
		Size:   uint32(len(data)),
	})
	if len(w.frames) >= w.l.opt.PackSize {
		return w.seal()
	}
	return nil
}

// addShared compresses a new chunk and appends it to a shared pack.
func (w *writer) addShared(a chunk.Addr, data []byte) error {
	if w.scratch == nil {
		w.scratch = make([]byte, 0, w.maxChunk)
	}
	w.scratch = pack.AppendFrame(w.scratch[:0], data, w.l.codec)
	sp, off, err := w.l.shared.add(w.ctx, w.scratch)
	if err != nil {
		return err
	}
	if !slices.Contains(w.sharedPacks, sp) {
		w.sharedPacks = append(w.sharedPacks, sp)
	}
	w.out.newChunks = append(w.out.newChunks, meta.ChunkInfo{
		Addr:   a,
		Pack:   sp.id,
		Offset: int64(off),
		Length: int32(len(w.scratch)),
		Size:   uint32(len(data)),
	})
	return nil
}

// waitShared waits until the shared packs holding this upload's chunks are
// written, and lists them for the commit.
func (w *writer) waitShared() error {
	for _, sp := range w.sharedPacks {
		p, err := w.l.shared.wait(w.ctx, sp)
		if err != nil {
			return err
		}
		w.out.newPacks = append(w.out.newPacks, p)
	}
	return nil
}

// seal hands the open pack to a sealer goroutine (erasure code and write
// shards) and starts a fresh one.
func (w *writer) seal() error {
	frames, id := w.frames, w.packID
	w.frames, w.infos = nil, w.infos[:0]
	w.sealers.Go(func() error {
		// The data shards alias frames until every shard write returned.
		defer w.l.packBufs.put(frames)
		p, err := w.l.writePack(w.ctx, id, frames)
		if err != nil {
			return err
		}
		w.mu.Lock()
		w.out.newPacks = append(w.out.newPacks, p)
		w.mu.Unlock()
		return nil
	})
	return nil
}

// writePack erasure codes one pack and writes its k+m shards in parallel to
// the nodes placement picks. It succeeds when at least k shards are durable;
// the others are recorded as missing for repair.
func (l *Layer) writePack(ctx context.Context, id pack.ID, frames []byte) (meta.Pack, error) {
	k, m, nodes, err := l.opt.Placement.Place(ctx, id)
	if err != nil {
		return meta.Pack{}, fmt.Errorf("object: place pack %v: %w", id, err)
	}
	code, err := erasure.NewCode(k, m)
	if err != nil {
		return meta.Pack{}, err
	}
	shards, err := encodePack(code, frames)
	if err != nil {
		return meta.Pack{}, fmt.Errorf("object: encode pack %v: %w", id, err)
	}
	size := int64(len(shards[0]))
	errs := make([]error, len(shards))
	var g sync.WaitGroup
	for i := range shards {
		g.Add(1)
		go func() {
			defer g.Done()
			st, err := l.opt.Stores.Store(nodes[i])
			if err == nil {
				info := store.ShardInfo{ID: store.ShardID{Pack: id, Index: i}, Size: size, K: k, M: m}
				err = st.Put(ctx, info, bytes.NewReader(shards[i]))
			}
			if err != nil {
				errs[i] = &erasure.ShardError{Index: i, Err: fmt.Errorf("node %s: %w", nodes[i], err)}
			}
		}()
	}
	g.Wait()
	var missing []int
	for i, err := range errs {
		if err != nil {
			missing = append(missing, i)
		}
	}
	if len(shards)-len(missing) < k || ctx.Err() != nil {
		if ctx.Err() != nil {
			return meta.Pack{}, ctx.Err()
		}
		return meta.Pack{}, fmt.Errorf("%w: pack %v: %w", ErrWriteQuorum, id, errors.Join(errs...))
	}
	if len(missing) > 0 {
		l.opt.Logger.Warn("pack written degraded", "op", "put", "pack", id.String(), "missing", missing, "err", errors.Join(errs...))
	}
	p := meta.Pack{
		ID:        id,
		Pool:      l.opt.Pool,
		K:         k,
		M:         m,
		Length:    int64(len(frames)),
		ShardSize: size,
		Nodes:     nodes,
		Missing:   missing,
		LiveBytes: int64(len(frames)),
		Created:   l.now(),
	}
	l.mu.Lock()
	l.packs[id] = p
	l.mu.Unlock()
	return p, nil
}

// chunkMax is the largest chunk opt yields (its defaults filled in as the
// chunk package does).
func chunkMax(opt chunk.Options) int {
	switch {
	case opt.Max != 0:
		return opt.Max
	case opt.Avg != 0:
		return 4 * opt.Avg
	}
	return chunk.DefaultMax
}
