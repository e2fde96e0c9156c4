package gateway

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/tessera-store/tessera/meta"
	"github.com/tessera-store/tessera/pack"
	"github.com/tessera-store/tessera/store"
)

// collector deletes what no committed manifest references:
//
//   - chunks whose refcount fell to zero more than Grace ago (their index
//     entries go; the metadata service returns packs left with no live
//     bytes, whose shards are deleted, then the packs forgotten);
//   - orphan shards, which no committed pack claims (an upload that failed
//     or was cut off): a shard is deleted when it was unclaimed on two walks
//     at least Grace apart, so a pack still being uploaded (its commit comes
//     at the end of the upload) is never touched unless the upload outlasts
//     Grace.
//
// Invariant: nothing a committed manifest references is deleted, because
// chunk entries only go once unreferenced for Grace, and a commit that
// references a collected chunk fails (meta.ErrMissingChunks) instead of
// committing.
type collector struct {
	meta  meta.Service
	nodes func(ctx context.Context) ([]string, error) // node IDs to walk
	store func(node string) (store.Store, error)
	grace time.Duration
	now   func() time.Time
	log   *slog.Logger

	// suspects holds unclaimed shards and when they were first seen.
	suspects map[store.ShardID]time.Time
	// repair, if set, rebuilds the damaged packs each walk finds.
	repair *repairer
}

func (c *collector) run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := c.once(ctx); err != nil && ctx.Err() == nil {
				c.log.Warn("gc pass failed", "op", "gc", "err", err)
			}
		}
	}
}

// once runs one full pass: collect, then repair what the walk found damaged.
func (c *collector) once(ctx context.Context) error {
	if err := c.collectChunks(ctx); err != nil {
		return err
	}
	damaged, err := c.collectOrphans(ctx)
	if err != nil {
		return err
	}
	if c.repair != nil && len(damaged) > 0 {
		n, err := c.repair.repair(ctx, damaged)
		if n > 0 {
			c.log.Info("repair rebuilt shards", "op", "repair", "shards", n, "packs", len(damaged))
		}
		return err
	}
	return nil
}

func (c *collector) collectChunks(ctx context.Context) error {
	for {
		res, err := c.meta.CollectGarbage(ctx, &meta.GCRequest{ReqID: newReqID(), Time: c.now().UnixNano(), Grace: int64(c.grace)})
		if err != nil {
			return err
		}
		if len(res.DeadPacks) > 0 {
			ids := make([]pack.ID, 0, len(res.DeadPacks))
			for _, p := range res.DeadPacks {
				c.deletePack(ctx, p)
				ids = append(ids, p.ID)
			}
			if err := c.meta.ForgetPacks(ctx, newReqID(), ids); err != nil {
				return err
			}
		}
		if res.CollectedChunks > 0 || len(res.DeadPacks) > 0 {
			c.log.Info("gc collected", "op", "gc", "chunks", res.CollectedChunks, "packs", len(res.DeadPacks))
		}
		if !res.More {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}

// deletePack deletes a dead pack's shards; a shard that cannot be deleted
// now (node down) is left for the orphan walk.
func (c *collector) deletePack(ctx context.Context, p meta.Pack) {
	for i, node := range p.Nodes {
		st, err := c.store(node)
		if err == nil {
			err = st.Delete(ctx, store.ShardID{Pack: p.ID, Index: i})
		}
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			c.log.Warn("gc shard delete failed", "op", "gc", "pack", p.ID.String(), "shard", i, "node", node, "err", err)
		}
	}
}

// collectOrphans walks every store, deletes shards no pack claims (after
// Grace), and returns the packs whose metadata records missing shards.
func (c *collector) collectOrphans(ctx context.Context) ([]meta.Pack, error) {
	nodes, err := c.nodes(ctx)
	if err != nil {
		return nil, err
	}
	damaged := make(map[pack.ID]meta.Pack)
	if c.suspects == nil {
		c.suspects = make(map[store.ShardID]time.Time)
	}
	now := c.now()
	seen := make(map[store.ShardID]bool)
	for _, node := range nodes {
		st, err := c.store(node)
		if err != nil {
			continue
		}
		var batch []store.ShardID
		flush := func() error {
			if len(batch) == 0 {
				return nil
			}
			ids := make([]pack.ID, len(batch))
			for i, s := range batch {
				ids[i] = s.Pack
			}
			packs, err := c.meta.GetPacks(ctx, ids)
			if err != nil {
				return err
			}
			known := make(map[pack.ID]bool, len(packs))
			for _, p := range packs {
				if p.ID != (pack.ID{}) {
					known[p.ID] = true
					if len(p.Missing) > 0 {
						damaged[p.ID] = p
					}
				}
			}
			for _, s := range batch {
				if known[s.Pack] {
					continue
				}
				seen[s] = true
				first, ok := c.suspects[s]
				if !ok {
					c.suspects[s] = now
					continue
				}
				if now.Sub(first) >= c.grace {
					if err := st.Delete(ctx, s); err != nil && !errors.Is(err, store.ErrNotFound) {
						c.log.Warn("gc orphan delete failed", "op", "gc", "pack", s.Pack.String(), "shard", s.Index, "node", node, "err", err)
						continue
					}
					delete(c.suspects, s)
					c.log.Info("gc removed orphan shard", "op", "gc", "pack", s.Pack.String(), "shard", s.Index, "node", node)
				}
			}
			batch = batch[:0]
			return nil
		}
		err = st.Walk(ctx, func(si store.ShardInfo) error {
			batch = append(batch, si.ID)
			if len(batch) >= 512 {
				return flush()
			}
			return nil
		})
		if err == nil {
			err = flush()
		}
		if err != nil {
			c.log.Warn("gc walk failed", "op", "gc", "node", node, "err", err)
		}
	}
	// Forget suspects that were claimed or deleted meanwhile.
	for s := range c.suspects {
		if !seen[s] {
			delete(c.suspects, s)
		}
	}
	out := make([]meta.Pack, 0, len(damaged))
	for _, p := range damaged {
		out = append(out, p)
	}
	return out, nil
}
