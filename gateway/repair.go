package gateway

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"

	"github.com/tessera-store/tessera/erasure"
	"github.com/tessera-store/tessera/meta"
	"github.com/tessera-store/tessera/placement"
	"github.com/tessera-store/tessera/store"
)

// repairer rebuilds shards recorded missing (failed writes while a node was
// down, shards the scrubber found corrupt or gone), most-at-risk packs
// first. A shard is rebuilt from k others with erasure.Reconstruct, written
// to the target node, and only then recorded in the pack's node list: a
// crash midway leaves an orphan shard for GC, never a pack that claims a
// shard it does not have.
//
// The damaged packs come from the collector's walk of every store (each
// walked shard's pack metadata is fetched anyway, and it lists missing
// shards), so repair runs after each GC pass.
type repairer struct {
	meta    meta.Service
	store   func(node string) (store.Store, error)
	targets func(p meta.Pack) ([]placement.Target, error)
	log     *slog.Logger
}

// repair rebuilds what it can of packs and returns the number of shards
// rebuilt.
func (r *repairer) repair(ctx context.Context, packs []meta.Pack) (int, error) {
	// Most at risk first: fewest spare shards left.
	slices.SortStableFunc(packs, func(a, b meta.Pack) int {
		return (a.M - len(a.Missing)) - (b.M - len(b.Missing))
	})
	rebuilt := 0
	for _, p := range packs {
		if len(p.Missing) == 0 {
			continue
		}
		if err := ctx.Err(); err != nil {
			return rebuilt, err
		}
		n, err := r.repairPack(ctx, p)
		rebuilt += n
		if err != nil {
			r.log.Warn("pack repair failed", "op", "repair", "pack", p.ID.String(), "missing", p.Missing, "err", err)
		}
	}
	return rebuilt, nil
}

func (r *repairer) repairPack(ctx context.Context, p meta.Pack) (int, error) {
	if len(p.Missing) > p.M {
		return 0, fmt.Errorf("pack lost: %d shards missing, %d parity", len(p.Missing), p.M)
	}
	targets, err := r.targets(p)
	if err != nil {
		return 0, err
	}
	code, err := erasure.NewCode(p.K, p.M)
	if err != nil {
		return 0, err
	}
	sr := erasure.ShardReaderFunc(func(ctx context.Context, shard int, buf []byte, off int64) error {
		if slices.Contains(p.Missing, shard) {
			return errors.New("shard recorded missing")
		}
		st, err := r.store(p.Nodes[shard])
		if err != nil {
			return err
		}
		return st.ReadAt(ctx, store.ShardID{Pack: p.ID, Index: shard}, buf, off)
	})
	nodes := slices.Clone(p.Nodes)
	missing := slices.Clone(p.Missing)
	done := 0
	for _, t := range targets {
		st, err := r.store(t.Node)
		if err != nil {
			return done, err
		}
		id := store.ShardID{Pack: p.ID, Index: t.Shard}
		// The target may hold a stale or corrupt copy (bitrot repair on
		// the same node): remove it first.
		if err := st.Delete(ctx, id); err != nil && !errors.Is(err, store.ErrNotFound) {
			return done, err
		}
		pr, pw := io.Pipe()
		go func() {
			pw.CloseWithError(code.Reconstruct(ctx, sr, p.Length, t.Shard, pw))
		}()
		err = st.Put(ctx, store.ShardInfo{ID: id, Size: p.ShardSize, K: p.K, M: p.M}, pr)
		pr.CloseWithError(err) // unblocks Reconstruct if Put stopped early
		if err != nil {
			return done, fmt.Errorf("rebuild shard %d on %s: %w", t.Shard, t.Node, err)
		}
		nodes[t.Shard] = t.Node
		missing = slices.DeleteFunc(missing, func(i int) bool { return i == t.Shard })
		done++
	}
	if err := r.meta.SetPackShards(ctx, newReqID(), p.ID, nodes, missing); err != nil {
		return done, err
	}
	return done, nil
}

// sameNodeTargets rebuilds each missing shard on the node that held it: an
// all-in-one server's drives are fixed, and a lost shard there is bitrot or
// a replaced drive.
func sameNodeTargets(p meta.Pack) ([]placement.Target, error) {
	out := make([]placement.Target, 0, len(p.Missing))
	for _, s := range p.Missing {
		if s < 0 || s >= len(p.Nodes) {
			return nil, fmt.Errorf("pack %v: missing shard %d out of range", p.ID, s)
		}
		out = append(out, placement.Target{Shard: s, Node: p.Nodes[s]})
	}
	return out, nil
}
