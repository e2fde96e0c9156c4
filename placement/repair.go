package placement

import (
	"bytes"
	"fmt"
	"slices"
)

// Damaged is a pack with shards known missing.
type Damaged struct {
	Pack    [16]byte
	K, M    int
	Nodes   []string // node holding shard i, len K+M (as in meta.Pack.Nodes)
	Missing []int    // indexes of the missing shards
}

// Target is where one missing shard is rebuilt.
type Target struct {
	Shard int
	Node  string
}

// Repair is the plan for one damaged pack.
type Repair struct {
	Pack [16]byte
	// Redundancy is how many more shards the pack can lose: M - missing.
	// Negative means the pack is lost (Err is ErrUnrecoverable).
	Redundancy int
	// Targets holds one entry per missing shard, in ascending shard order,
	// when Err is nil.
	Targets []Target
	// Degraded reports that the domain rule had to be relaxed: the rebuilt
	// pack may have more shards in some failure domain than the map's Cap
	// or than M, so it may not survive that domain's loss.
	Degraded bool
	// Err is nil, ErrUnrecoverable, ErrInvalidDamage or a *CannotPlaceError
	// (no usable node is left for some shard).
	Err error
}

// PlanRepair returns one Repair per damaged pack, most at risk first: by
// Redundancy ascending, then by pack ID. Packs that cannot be repaired (lost,
// malformed, or with no node to rebuild on) come last, with Err set. It is a
// pure function of the map and its input.
//
// Each missing shard goes to a node drawn as for the pack's placement group,
// skipping the nodes that hold a surviving shard, with at most Cap shards
// per failure domain counting the domains of the surviving shards. A node
// that held a missing shard may be picked again if it is up (the shard may
// have been lost to bitrot, not to the node). When the domain rule leaves too
// few nodes it is relaxed one shard at a time and the repair is Degraded: a
// rebuilt shard in a crowded domain is safer than none.
func (m *Map) PlanRepair(damaged []Damaged) []Repair {
	out := make([]Repair, len(damaged))
	for i := range damaged {
		out[i] = m.planOne(&damaged[i])
	}
	slices.SortStableFunc(out, func(a, b Repair) int {
		if (a.Err == nil) != (b.Err == nil) {
			if a.Err == nil {
				return -1
			}
			return 1
		}
		if a.Redundancy != b.Redundancy {
			return a.Redundancy - b.Redundancy
		}
		return bytes.Compare(a.Pack[:], b.Pack[:])
	})
	return out
}

func (m *Map) planOne(d *Damaged) Repair {
	r := Repair{Pack: d.Pack, Redundancy: d.M - len(d.Missing)}
	n := d.K + d.M
	if d.K < 1 || d.M < 0 || n > MaxWidth || len(d.Nodes) != n || len(d.Missing) == 0 {
		r.Err = fmt.Errorf("%w: %x: k=%d m=%d, %d nodes, %d missing", ErrInvalidDamage, d.Pack, d.K, d.M, len(d.Nodes), len(d.Missing))
		return r
	}
	missing := make([]bool, n)
	for _, s := range d.Missing {
		if s < 0 || s >= n || missing[s] {
			r.Err = fmt.Errorf("%w: %x: missing shard %d of %d", ErrInvalidDamage, d.Pack, s, n)
			return r
		}
		missing[s] = true
	}
	if r.Redundancy < 0 {
		r.Err = fmt.Errorf("%w: %x: %d of %d shards missing, k=%d", ErrUnrecoverable, d.Pack, len(d.Missing), n, d.K)
		return r
	}
	// Domains of the surviving shards; a node the map does not know is a
	// domain of its own.
	holders := make(map[string]bool, n)
	prior := make(map[int32]int, n)
	next := int32(-1)
	for s, id := range d.Nodes {
		if missing[s] {
			continue
		}
		holders[id] = true
		di, ok := m.domOf[id]
		if !ok {
			di, next = next, next-1
		}
		prior[di]++
	}
	skip := func(i int32) bool { return holders[m.ids[i]] }
	priorOf := func(di int32) int { return prior[di] }

	// The same cap rule as New, for this pack's width, over the eligible
	// domains; relaxed below when the surviving shards crowd them.
	cap := m.cap
	if n != m.pool.Width() {
		cap = n
		if len(m.ids) >= n {
			cap = spreadCap(m.sizes, n)
		}
	}
	want := len(d.Missing)
	pk := pgKey(m.seed, PGOf(d.Pack, m.pool.PGs))
	var picked []int32
	for c := cap; c <= n; c++ {
		picked = m.pick(picked[:0], pk, want, len(holders), c, skip, priorOf)
		if len(picked) == want {
			r.Degraded = c > cap || (d.M >= 1 && c > d.M)
			break
		}
	}
	if len(picked) < want {
		r.Err = &CannotPlaceError{Pool: m.pool.Name, Reason: ReasonTooFewNodes, Need: want, Have: len(picked)}
		return r
	}
	shards := slices.Clone(d.Missing)
	slices.Sort(shards)
	r.Targets = make([]Target, want)
	for i, s := range shards {
		r.Targets[i] = Target{Shard: s, Node: m.ids[picked[i]]}
	}
	return r
}
