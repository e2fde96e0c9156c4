package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"golang.org/x/time/rate"

	"github.com/tessera-store/tessera/store"
)

// ScrubOptions configure a Scrubber. The zero value is valid.
type ScrubOptions struct {
	// BytesPerSecond caps the scrub's read rate; 0 means 32 MiB/s.
	BytesPerSecond int64
	// Interval is the pause between the start of two passes; 0 means 24 h.
	Interval time.Duration
	// ReadSize is the size of one verifying read; 0 means 1 MiB.
	ReadSize int
	// Logger; nil means slog.Default().
	Logger *slog.Logger
}

// Validate checks the options.
func (o ScrubOptions) Validate() error {
	if o.BytesPerSecond < 0 || o.Interval < 0 || o.ReadSize < 0 {
		return fmt.Errorf("node: invalid scrub options %+v", o)
	}
	return nil
}

func (o ScrubOptions) withDefaults() ScrubOptions {
	if o.BytesPerSecond == 0 {
		o.BytesPerSecond = 32 << 20
	}
	if o.Interval == 0 {
		o.Interval = 24 * time.Hour
	}
	if o.ReadSize == 0 {
		o.ReadSize = 1 << 20
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}

// BadShardFunc receives a shard the scrubber could not verify. err matches
// store.ErrCorrupt (a block or the header failed its checksum),
// store.ErrNotFound (listed but gone: lost, or deleted by GC during the
// pass, so the receiver should check the pack is still live before acting)
// or store.ErrDriveFailed (the drive returned I/O errors and was marked
// failed). The lead's wiring maps it to meta MarkShardsMissing.
type BadShardFunc func(ctx context.Context, info store.ShardInfo, err error)

// ScrubStats are the totals of one pass.
type ScrubStats struct {
	Shards, Bytes            int64
	Corrupt, Missing, Failed int64
	Started, Finished        time.Time
}

// Scrubber re-reads every shard of a store at a bounded rate, verifying
// block checksums (every store.Store read verifies them).
type Scrubber struct {
	Store   store.Store
	Options ScrubOptions
	// OnBad is called for each shard that fails; nil means log only.
	OnBad BadShardFunc
}

// Scrub makes one pass over the store. It returns early with ctx's error
// when ctx is done, or with a Walk error.
func (s *Scrubber) Scrub(ctx context.Context) (ScrubStats, error) {
	o := s.Options.withDefaults()
	if err := s.Options.Validate(); err != nil {
		return ScrubStats{}, err
	}
	lim := rate.NewLimiter(rate.Limit(o.BytesPerSecond), max(o.ReadSize, 1))
	st := ScrubStats{Started: time.Now()}
	// Scrub a snapshot of the list, not inside Walk: a remote Walk holds a
	// connection and a disk Walk a snapshot anyway.
	var infos []store.ShardInfo
	if err := s.Store.Walk(ctx, func(info store.ShardInfo) error {
		infos = append(infos, info)
		return nil
	}); err != nil {
		return st, fmt.Errorf("node: scrub: %w", err)
	}
	buf := make([]byte, o.ReadSize)
	for _, info := range infos {
		if err := ctx.Err(); err != nil {
			return st, err
		}
		st.Shards++
		err := s.verify(ctx, lim, info, buf, &st)
		switch {
		case err == nil:
			continue
		case ctx.Err() != nil:
			return st, ctx.Err()
		case errors.Is(err, store.ErrCorrupt):
			st.Corrupt++
		case errors.Is(err, store.ErrNotFound):
			st.Missing++
		case errors.Is(err, store.ErrDriveFailed):
			st.Failed++
		default:
			o.Logger.Warn("node: scrub read failed", "op", "scrub", "shard", shardName(info.ID), "err", err)
			continue
		}
		o.Logger.Warn("node: scrub found bad shard", "op", "scrub", "shard", shardName(info.ID), "err", err)
		if s.OnBad != nil {
			s.OnBad(ctx, info, err)
		}
	}
	st.Finished = time.Now()
	return st, nil
}

// verify reads shard info whole, ReadSize bytes at a time. A zero-length
// shard is still opened (its header is checked).
func (s *Scrubber) verify(ctx context.Context, lim *rate.Limiter, info store.ShardInfo, buf []byte, st *ScrubStats) error {
	off := int64(0)
	for {
		n := int(min(int64(len(buf)), info.Size-off))
		if err := lim.WaitN(ctx, max(n, 1)); err != nil {
			return err
		}
		if err := s.Store.ReadAt(ctx, info.ID, buf[:n], off); err != nil {
			return err
		}
		st.Bytes += int64(n)
		off += int64(n)
		if off >= info.Size {
			return nil
		}
	}
}

// Run scrubs a pass every Interval until ctx is done, logging each pass.
func (s *Scrubber) Run(ctx context.Context) error {
	o := s.Options.withDefaults()
	t := time.NewTicker(o.Interval)
	defer t.Stop()
	for {
		st, err := s.Scrub(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			o.Logger.Warn("node: scrub pass failed", "op", "scrub", "err", err)
		} else {
			o.Logger.Info("node: scrub pass done", "op", "scrub", "shards", st.Shards, "bytes", st.Bytes,
				"corrupt", st.Corrupt, "missing", st.Missing, "failed", st.Failed, "took", st.Finished.Sub(st.Started))
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

func shardName(id store.ShardID) string { return fmt.Sprintf("%v/%d", id.Pack, id.Index) }
