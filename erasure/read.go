package erasure

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
)

// RepairPiece is the most bytes of each shard that Reconstruct holds at a
// time: it reads k pieces of this size, so a repair needs about
// (k+1)*RepairPiece bytes of memory whatever the shard size.
const RepairPiece = 256 << 10

// ShardReader reads the stored data bytes of the shards of one stripe: the
// read path's view of the k+m storage nodes that hold a pack. The caller
// adapts its stores to it (shard i of pack p on node Nodes[i]).
// Implementations must be safe for concurrent use.
type ShardReader interface {
	// ReadShardAt reads exactly len(p) bytes of shard's data at off into p
	// (shard is 0..k-1 for data, k..k+m-1 for parity). It returns nil only
	// if every byte was read and verified; any error (missing shard, node
	// down, a block failing its checksum, a short read) marks that shard
	// failed for the rest of the call that issued it. It must return
	// promptly once ctx is done, and must not touch p after returning.
	ReadShardAt(ctx context.Context, shard int, p []byte, off int64) error
}

// ShardReaderFunc adapts a function to ShardReader, e.g. to read shard i of
// a pack from the store on node Nodes[i].
type ShardReaderFunc func(ctx context.Context, shard int, p []byte, off int64) error

// ReadShardAt calls f.
func (f ShardReaderFunc) ReadShardAt(ctx context.Context, shard int, p []byte, off int64) error {
	return f(ctx, shard, p, off)
}

// ShardError reports that one shard of a stripe could not be read.
type ShardError struct {
	Index int   // shard index in the stripe
	Err   error // the ShardReader's error
}

func (e *ShardError) Error() string { return fmt.Sprintf("erasure: shard %d: %v", e.Index, e.Err) }

// Unwrap returns the reader's error, so errors.Is(err, store.ErrCorrupt) works.
func (e *ShardError) Unwrap() error { return e.Err }

// TooFewShardsError reports a range that could not be read or rebuilt
// because fewer than k shards answered. It matches ErrTooFewShards, and
// errors.Is also sees each shard's error.
type TooFewShardsError struct {
	Need   int     // shards needed: k
	Failed []int   // every shard that failed during the call, ascending
	Errs   []error // one *ShardError per entry of Failed, same order
}

func (e *TooFewShardsError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "erasure: too few shards (need %d, failed %v)", e.Need, e.Failed)
	for _, err := range e.Errs {
		b.WriteString("; ")
		b.WriteString(err.Error())
	}
	return b.String()
}

// Is matches ErrTooFewShards.
func (e *TooFewShardsError) Is(target error) bool { return target == ErrTooFewShards }

// Unwrap returns the *ShardError of every failed shard.
func (e *TooFewShardsError) Unwrap() []error { return e.Errs }

// failures is the set of shards that failed during one call, shared by the
// goroutines of that call.
type failures struct {
	mu sync.Mutex
	// errs[i] is shard i's *ShardError, nil while it has not failed.
	errs []error
}

func newFailures(n int) *failures { return &failures{errs: make([]error, n)} }

func (f *failures) add(i int, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.errs[i] == nil {
		f.errs[i] = &ShardError{Index: i, Err: err}
	}
}

func (f *failures) failed(i int) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.errs[i] != nil
}

func (f *failures) tooFew(k int) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	e := &TooFewShardsError{Need: k}
	for i, err := range f.errs {
		if err != nil {
			e.Failed = append(e.Failed, i)
			e.Errs = append(e.Errs, err)
		}
	}
	return e
}

func ctxErr(ctx context.Context) error {
	return fmt.Errorf("erasure: read: %w", ctx.Err())
}

// ReadRange reads pack bytes [off, off+len(p)) of a pack of packLen bytes
// into p.
//
// Healthy case: each span of the range is read from its data shard only
// (one shard, usually one node, for a range inside a shard), spans in
// parallel. When a span's shard fails, the same shard offsets are read from
// k other shards (data shards first, then parity; a failed read is replaced
// by the next shard) and just that byte range is reconstructed into p.
// Whole shards are never fetched. A shard that failed once in the call is
// not asked again.
//
// Errors: ErrRange for a range outside the pack; a *TooFewShardsError
// (matching ErrTooFewShards and naming every failed shard) when more than m
// shards fail for a span; ctx's error, wrapped, when ctx ends. On error the
// contents of p are unspecified. Without WithHedge, a data shard that hangs
// holds the call until ctx ends; WithHedge rebuilds around it, and
// WithExtraReads does the same for a hanging rebuild source.
func (c *Code) ReadRange(ctx context.Context, r ShardReader, packLen int64, p []byte, off int64) error {
	var buf [4]Span
	spans, err := c.AppendPlan(buf[:0], packLen, off, int64(len(p)))
	if err != nil {
		return err
	}
	switch len(spans) {
	case 0:
		return nil
	case 1:
		return c.readSpan(ctx, r, spans[0], p, nil)
	}
	fs := newFailures(c.N())
	g, gctx := errgroup.WithContext(ctx)
	for _, sp := range spans {
		g.Go(func() error { return c.readSpan(gctx, r, sp, p[sp.Pos:sp.Pos+sp.Len], fs) })
	}
	if err := g.Wait(); err != nil {
		if ctx.Err() != nil {
			return ctxErr(ctx)
		}
		return err
	}
	return nil
}

// readSpan reads span sp into dst (len(dst) == sp.Len), from its data shard
// or, if that fails, by reconstruction. fs may be nil until a failure.
func (c *Code) readSpan(ctx context.Context, r ShardReader, sp Span, dst []byte, fs *failures) error {
	if c.hedge > 0 && c.rs != nil && (fs == nil || !fs.failed(sp.Shard)) {
		return c.readSpanHedged(ctx, r, sp, dst, fs)
	}
	if fs == nil || !fs.failed(sp.Shard) {
		err := r.ReadShardAt(ctx, sp.Shard, dst, sp.Off)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctxErr(ctx)
		}
		if fs == nil {
			fs = newFailures(c.N())
		}
		fs.add(sp.Shard, err)
	}
	return c.rebuild(ctx, r, sp.Shard, sp.Off, dst, fs)
}

// readSpanHedged is readSpan with a hedge: if the direct read has not
// returned after c.hedge, the span is also rebuilt into a separate buffer,
// and the first success wins. The loser is cancelled and waited for, so no
// read touches dst or the buffer after return.
func (c *Code) readSpanHedged(ctx context.Context, r ShardReader, sp Span, dst []byte, fs *failures) error {
	if fs == nil {
		fs = newFailures(c.N())
	}
	dctx, dcancel := context.WithCancel(ctx)
	defer dcancel()
	direct := make(chan error, 1)
	go func() { direct <- r.ReadShardAt(dctx, sp.Shard, dst, sp.Off) }()
	timer := time.NewTimer(c.hedge)
	defer timer.Stop()
	select {
	case err := <-direct:
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctxErr(ctx)
		}
		fs.add(sp.Shard, err)
		return c.rebuild(ctx, r, sp.Shard, sp.Off, dst, fs)
	case <-timer.C:
	}

	token, buf := getBuf(len(dst))
	defer putBuf(token) // runs after both reads have returned
	hctx, hcancel := context.WithCancel(ctx)
	defer hcancel()
	hedged := make(chan error, 1)
	go func() { hedged <- c.rebuild(hctx, r, sp.Shard, sp.Off, buf, fs) }()
	var hedgeErr error
	directDone, hedgeDone := false, false
	for !directDone || !hedgeDone {
		select {
		case err := <-direct:
			directDone = true
			if err == nil {
				hcancel()
				if !hedgeDone {
					<-hedged
				}
				return nil
			}
			if ctx.Err() == nil {
				fs.add(sp.Shard, err)
			}
		case err := <-hedged:
			hedgeDone = true
			if err == nil {
				dcancel()
				if !directDone {
					<-direct
				}
				copy(dst, buf)
				return nil
			}
			hedgeErr = err
		}
	}
	if ctx.Err() != nil {
		return ctxErr(ctx)
	}
	if errors.Is(hedgeErr, ErrTooFewShards) {
		return fs.tooFew(c.k) // now including the direct read's failure
	}
	return hedgeErr
}

// rebuild writes bytes [off, off+len(dst)) of shard target into dst, reading
// the same range of k other shards that fs does not mark failed. Reads run
// in parallel, k+c.extra at a time; each failure is recorded in fs and
// replaced by the next candidate. Once k have answered the stragglers are
// cancelled; the call gives up (cancelling what is in flight) as soon as
// fewer than k shards can still answer. It returns only after every read it
// started has returned.
func (c *Code) rebuild(ctx context.Context, r ShardReader, target int, off int64, dst []byte, fs *failures) error {
	k, n, l := c.k, c.N(), len(dst)
	if l == 0 {
		return nil
	}
	cands := make([]int, 0, n)
	for i := range n {
		if i != target && !fs.failed(i) {
			cands = append(cands, i)
		}
	}
	if len(cands) < k || c.rs == nil {
		return fs.tooFew(k)
	}

	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type result struct {
		shard, slot int
		err         error
	}
	width := min(k+c.extra, len(cands)) // reads in flight at most
	token, bufs := getBuf(width * l)
	// Every read is drained before rebuild returns, so this runs last.
	defer putBuf(token)
	slot := func(s int) []byte { return bufs[s*l : (s+1)*l : (s+1)*l] }
	free := make([]int, 0, width)
	for s := width - 1; s >= 0; s-- {
		free = append(free, s)
	}
	results := make(chan result, width) // sends never block
	next, inflight, ok := 0, 0, 0
	launch := func() {
		s := free[len(free)-1]
		free = free[:len(free)-1]
		i := cands[next]
		next++
		inflight++
		go func() { results <- result{i, s, r.ReadShardAt(rctx, i, slot(s), off)} }()
	}
	drain := func() {
		cancel()
		for ; inflight > 0; inflight-- {
			<-results
		}
	}
	for range width {
		launch()
	}
	shards := make([][]byte, n)
	for ok < k {
		res := <-results
		inflight--
		if res.err == nil {
			shards[res.shard] = slot(res.slot)
			ok++
			continue
		}
		if ctx.Err() != nil {
			drain()
			return ctxErr(ctx)
		}
		fs.add(res.shard, res.err)
		free = append(free, res.slot)
		if ok+inflight+len(cands)-next < k {
			drain()
			return fs.tooFew(k)
		}
		if next < len(cands) {
			launch()
		}
	}
	drain() // stragglers: cancelled, their bytes unused

	shards[target] = dst[:0:l] // ReconstructSome writes into dst's memory
	required := make([]bool, n)
	required[target] = true
	if err := c.rs.ReconstructSome(shards, required); err != nil {
		return fmt.Errorf("erasure: rebuild shard %d [%d, +%d): %w", target, off, l, err)
	}
	if &shards[target][0] != &dst[0] {
		copy(dst, shards[target]) // not expected: the library reused dst
	}
	return nil
}

// Reconstruct rebuilds shard (data or parity) of a pack of packLen bytes
// from k of the other shards and writes its ShardSize(packLen) bytes to w,
// in order, RepairPiece bytes of every shard at a time. It never reads
// shard itself. Shards that fail are skipped for the remaining pieces; a
// *TooFewShardsError names them when fewer than k others answer. w sees a
// prefix of the shard if the call fails midway.
func (c *Code) Reconstruct(ctx context.Context, r ShardReader, packLen int64, shard int, w io.Writer) error {
	if shard < 0 || shard >= c.N() {
		return fmt.Errorf("%w: shard %d of %s", ErrShardCount, shard, c)
	}
	if packLen < 0 || packLen > MaxPackLen {
		return fmt.Errorf("%w: pack length %d", ErrRange, packLen)
	}
	s := c.ShardSize(packLen)
	fs := newFailures(c.N())
	buf := make([]byte, min(s, RepairPiece))
	for off := int64(0); off < s; off += int64(len(buf)) {
		piece := buf[:min(int64(len(buf)), s-off)]
		if err := c.rebuild(ctx, r, shard, off, piece, fs); err != nil {
			return fmt.Errorf("erasure: reconstruct shard %d: %w", shard, err)
		}
		if _, err := w.Write(piece); err != nil {
			return fmt.Errorf("erasure: reconstruct shard %d: write: %w", shard, err)
		}
	}
	return nil
}
