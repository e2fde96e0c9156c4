package placement

import (
	"context"
	"fmt"
	"slices"

	"github.com/zeebo/xxh3"

	"github.com/tessera-store/tessera/pack"
)

// Map places the placement groups of one pool on a fixed set of nodes. It is
// immutable once built, so it is safe for concurrent use; a membership or
// state change builds a new Map.
type Map struct {
	pool Pool
	seed uint64 // hash of the pool name: pools sharing nodes get different layouts
	cap  int    // most shards of one PG in one failure domain

	// Eligible nodes (up, weight > 0, the pool's class), sorted by ID; their
	// position is the tie-break of equal draws.
	ids   []string
	draws []drawer
	dom   []int32 // index into domains

	domains    []string         // every domain of every node, eligible or not
	sizes      map[int32]int    // eligible nodes per domain
	eligibleDs int              // domains holding at least one eligible node
	domOf      map[string]int32 // node ID (all nodes) -> domain index
	index      map[string]int32 // node ID -> position in ids (eligible only)
}

// New builds the map of pool over nodes. The order of nodes does not matter.
// It fails with ErrInvalidPool or ErrInvalidNode for malformed input and with
// a *CannotPlaceError (matching ErrCannotPlace) when the usable nodes cannot
// hold the layout.
func New(nodes []Node, pool Pool) (*Map, error) {
	if err := pool.Validate(); err != nil {
		return nil, err
	}
	m := &Map{
		pool:  pool,
		seed:  xxh3.HashString(pool.Name),
		domOf: make(map[string]int32, len(nodes)),
		index: make(map[string]int32),
	}
	domIdx := make(map[string]int32)
	var elig []*Node
	classSeen := false
	for i := range nodes {
		n := &nodes[i]
		if err := n.validate(); err != nil {
			return nil, err
		}
		if _, dup := m.domOf[n.ID]; dup {
			return nil, fmt.Errorf("%w: duplicate id %q", ErrInvalidNode, n.ID)
		}
		d := n.domain(pool.Domain)
		di, ok := domIdx[d]
		if !ok {
			di = int32(len(m.domains))
			domIdx[d] = di
			m.domains = append(m.domains, d)
		}
		m.domOf[n.ID] = di
		if n.State != StateUp || n.Weight == 0 || (pool.Class != "" && n.Class != pool.Class) {
			continue
		}
		classSeen = true
		elig = append(elig, n)
	}
	width := pool.Width()
	switch {
	case pool.Class != "" && !classSeen:
		return nil, &CannotPlaceError{Pool: pool.Name, Reason: ReasonNoClass, Need: width}
	case len(elig) < width:
		return nil, &CannotPlaceError{Pool: pool.Name, Reason: ReasonTooFewNodes, Need: width, Have: len(elig)}
	case pool.M == 0 && !pool.BestEffort:
		return nil, &CannotPlaceError{Pool: pool.Name, Reason: ReasonNoRedundancy, Need: 1}
	}
	slices.SortFunc(elig, func(a, b *Node) int {
		if a.ID < b.ID {
			return -1
		}
		return 1 // IDs are unique
	})
	sizes := make(map[int32]int)
	for i, n := range elig {
		m.ids = append(m.ids, n.ID)
		m.draws = append(m.draws, drawer{key: xxh3.HashString(n.ID), invW: 1 / n.Weight})
		di := m.domOf[n.ID]
		m.dom = append(m.dom, di)
		m.index[n.ID] = int32(i)
		sizes[di]++
	}
	m.sizes = sizes
	m.eligibleDs = len(sizes)
	m.cap = spreadCap(sizes, width)
	if m.cap > pool.M && !pool.BestEffort {
		return nil, &CannotPlaceError{Pool: pool.Name, Reason: ReasonTooFewDomains, Need: m.cap, Have: pool.M}
	}
	return m, nil
}

// spreadCap returns the smallest per-domain cap c ≥ ceil(n/D) with which the
// domains can hold n shards: Σ min(c, size) ≥ n. The caller guarantees that
// the domains hold at least n nodes in total.
func spreadCap[K comparable](sizes map[K]int, n int) int {
	d := len(sizes)
	if d == 0 {
		return n
	}
	for c := (n + d - 1) / d; ; c++ {
		sum := 0
		for _, s := range sizes {
			sum += min(c, s)
		}
		if sum >= n || c >= n {
			return c
		}
	}
}

// Pool returns the map's pool.
func (m *Map) Pool() Pool { return m.pool }

// Cap returns the most shards of one placement group that one failure domain
// holds.
func (m *Map) Cap() int { return m.cap }

// Eligible returns the number of nodes that receive new shards.
func (m *Map) Eligible() int { return len(m.ids) }

// Domains returns the number of failure domains holding eligible nodes.
func (m *Map) Domains() int { return m.eligibleDs }

// SurvivesDomainLoss reports whether losing any one failure domain at the
// pool's level loses no placement group: every PG has at most m shards in
// one domain. Only BestEffort maps can report false.
func (m *Map) SurvivesDomainLoss() bool { return m.pool.M >= 1 && m.cap <= m.pool.M }

// Group returns the IDs of the k+m nodes of placement group pg; shard i goes
// to element i. The caller owns the slice.
func (m *Map) Group(pg int) ([]string, error) {
	if pg < 0 || pg >= m.pool.PGs {
		return nil, fmt.Errorf("%w: pool %q pg %d of %d", ErrBadPG, m.pool.Name, pg, m.pool.PGs)
	}
	var buf [32]int32
	idx := m.pick(buf[:0], pgKey(m.seed, pg), m.pool.Width(), 0, m.cap, nil, nil)
	out := make([]string, len(idx))
	for i, j := range idx {
		out[i] = m.ids[j]
	}
	return out, nil
}

// Place returns the pool's code and the nodes of pack id's placement group
// (it implements the object layer's Placement interface).
func (m *Map) Place(ctx context.Context, id pack.ID) (k, mm int, nodes []string, err error) {
	if err := ctx.Err(); err != nil {
		return 0, 0, nil, err
	}
	nodes, err = m.Group(PGOf(id, m.pool.PGs))
	if err != nil {
		return 0, 0, nil, err
	}
	return m.pool.K, m.pool.M, nodes, nil
}

// drawer is what an eligible node contributes to a draw.
type drawer struct {
	key  uint64  // xxh3 of the node ID
	invW float64 // 1 / weight
}

// draw is the node's key for a PG: -ln(u)/weight up to the constant ln 2.
// Smaller wins.
func (d *drawer) draw(pk uint64) float64 {
	return float64(negLog2(mix64(pk^d.key))) * d.invW
}

type candidate struct {
	key float64
	i   int32
}

func (a candidate) less(b candidate) bool {
	return a.key < b.key || (a.key == b.key && a.i < b.i)
}

// pick appends to dst up to want eligible nodes for the draw pk, in draw
// order, with at most cap per domain counting prior(domain) shards already
// there, skipping nodes for which skip is true (at most skips of them). It
// returns fewer than want only when the constraints leave too few nodes.
func (m *Map) pick(dst []int32, pk uint64, want, skips, cap int, skip func(int32) bool, prior func(int32) int) []int32 {
	// The greedy walk almost always ends within the first few candidates,
	// so keep the t best in a sorted array and fall back to a full sort
	// only when the domain rule rejected too many of them.
	t := min(want+skips+12, len(m.ids))
	var buf [72]candidate
	top := buf[:0]
	if t > len(buf) {
		top = make([]candidate, 0, t)
	}
	for i := range m.draws {
		d := &m.draws[i]
		h := mix64(pk ^ d.key)
		if len(top) == t {
			// Cheap rejection: -log2(u) ≥ (1-u)·log2(e), so most nodes
			// are out without the log (see lowerNegLog2).
			if lowerNegLog2(h)*d.invW >= top[t-1].key {
				continue
			}
		}
		c := candidate{float64(negLog2(h)) * d.invW, int32(i)}
		if len(top) == t {
			if !c.less(top[t-1]) {
				continue
			}
			top = top[:t-1]
		}
		j := len(top)
		top = append(top, c)
		for j > 0 && c.less(top[j-1]) {
			top[j] = top[j-1]
			j--
		}
		top[j] = c
	}
	start := len(dst)
	dst = m.greedy(dst, top, want, cap, skip, prior)
	if len(dst)-start == want || t == len(m.ids) {
		return dst
	}
	all := make([]candidate, len(m.ids))
	for i := range m.ids {
		all[i] = candidate{m.draws[i].draw(pk), int32(i)}
	}
	slices.SortFunc(all, func(a, b candidate) int {
		if a.less(b) {
			return -1
		}
		return 1
	})
	return m.greedy(dst[:start], all, want, cap, skip, prior)
}

func (m *Map) greedy(dst []int32, order []candidate, want, cap int, skip func(int32) bool, prior func(int32) int) []int32 {
	start := len(dst)
	for _, c := range order {
		if len(dst)-start == want {
			break
		}
		if skip != nil && skip(c.i) {
			continue
		}
		d := m.dom[c.i]
		n := 0
		if prior != nil {
			n = prior(d)
		}
		for _, j := range dst[start:] {
			if m.dom[j] == d {
				n++
			}
		}
		if n < cap {
			dst = append(dst, c.i)
		}
	}
	return dst
}
