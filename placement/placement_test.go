package placement

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// zoned returns nodes n0..n(z*per-1), per nodes in each of z zones, each node
// its own host and rack, weight 1.
func zoned(z, per int) []Node {
	var out []Node
	for i := range z * per {
		out = append(out, Node{
			ID: fmt.Sprintf("n%03d", i), Region: "r", Zone: fmt.Sprintf("z%d", i/per),
			Rack: fmt.Sprintf("k%d", i), Host: fmt.Sprintf("h%d", i), Class: "hdd", Weight: 1,
		})
	}
	return out
}

func mustNew(t testing.TB, nodes []Node, p Pool) *Map {
	t.Helper()
	m, err := New(nodes, p)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return m
}

func groups(t testing.TB, m *Map) [][]string {
	t.Helper()
	out := make([][]string, m.Pool().PGs)
	for pg := range out {
		g, err := m.Group(pg)
		if err != nil {
			t.Fatalf("Group(%d): %v", pg, err)
		}
		out[pg] = g
	}
	return out
}

// TestBalance: 4+2 over 24 equal nodes in 3 zones (zone level, so exactly 2
// shards per zone), 10,000 PGs: every node's shard count is within 5% of the
// mean (2,500).
func TestBalance(t *testing.T) {
	nodes := zoned(3, 8)
	m := mustNew(t, nodes, Pool{Name: "ec", K: 4, M: 2, Domain: LevelZone, PGs: 10000})
	if m.Cap() != 2 || !m.SurvivesDomainLoss() {
		t.Fatalf("cap %d, survives %v; want 2, true", m.Cap(), m.SurvivesDomainLoss())
	}
	count := map[string]int{}
	for _, g := range groups(t, m) {
		for _, id := range g {
			count[id]++
		}
	}
	mean := float64(6*10000) / 24
	worst := 0.0
	for _, n := range nodes {
		dev := math.Abs(float64(count[n.ID])-mean) / mean
		worst = max(worst, dev)
		if dev > 0.05 {
			t.Errorf("node %s: %d shards, mean %.0f (%.1f%%)", n.ID, count[n.ID], mean, 100*dev)
		}
	}
	t.Logf("worst deviation from the mean: %.2f%%", 100*worst)
}

// moved counts, over all PGs, the shards whose node set lost a member: the
// shards a rebalancer copies.
func moved(a, b [][]string) int {
	n := 0
	for pg := range a {
		for _, id := range a[pg] {
			if !slices.Contains(b[pg], id) {
				n++
			}
		}
	}
	return n
}

// TestAddNode: adding one node to N moves at most 1/(N+1) + 5% of the shards.
func TestAddNode(t *testing.T) {
	tests := []struct {
		name  string
		z     int
		per   int
		level Level
	}{
		{"4+2/24nodes/zone", 3, 8, LevelZone},
		{"4+2/24nodes/host", 3, 8, LevelHost},
		{"4+2/60nodes/host", 3, 20, LevelHost},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := Pool{Name: "ec", K: 4, M: 2, Domain: tt.level, PGs: 4096}
			nodes := zoned(tt.z, tt.per)
			before := groups(t, mustNew(t, nodes, p))
			nodes = append(nodes, Node{ID: "new", Region: "r", Zone: "z0", Rack: "knew", Host: "hnew", Weight: 1})
			after := groups(t, mustNew(t, nodes, p))
			n := len(nodes) - 1
			frac := float64(moved(before, after)) / float64(6*p.PGs)
			bound := 1/float64(n+1) + 0.05
			touched := 0
			for pg := range before {
				if moved(before[pg:pg+1], after[pg:pg+1]) > 0 {
					touched++
				}
			}
			// A touched PG moves one shard to the new node; the new node's
			// fair share is 6/(N+1) of the PGs.
			pgFrac := float64(touched) / float64(p.PGs)
			t.Logf("moved %.2f%% of shards (ideal %.2f%%), touched %.2f%% of PGs (ideal %.2f%%)",
				100*frac, 100/float64(n+1), 100*pgFrac, 600/float64(n+1))
			if frac > bound {
				t.Fatalf("moved %.3f of shards, bound %.3f", frac, bound)
			}
			if pgFrac > 6/float64(n+1)+0.05 {
				t.Fatalf("touched %.3f of PGs, bound %.3f", pgFrac, 6/float64(n+1)+0.05)
			}
		})
	}
}

// TestNodeDown: a down or failed node gets nothing, and only the PGs that held
// it change, by one node each.
func TestNodeDown(t *testing.T) {
	p := Pool{Name: "ec", K: 4, M: 2, Domain: LevelZone, PGs: 2048}
	nodes := zoned(3, 8)
	before := groups(t, mustNew(t, nodes, p))
	for _, st := range []State{StateDown, StateFailed} {
		nodes[5].State = st
		after := groups(t, mustNew(t, nodes, p))
		for pg := range before {
			if slices.Contains(after[pg], nodes[5].ID) {
				t.Fatalf("%v node placed in pg %d", st, pg)
			}
			d := moved([][]string{before[pg]}, [][]string{after[pg]})
			had := slices.Contains(before[pg], nodes[5].ID)
			if (had && d != 1) || (!had && d != 0) {
				t.Fatalf("pg %d: %d shards moved (had the node: %v)", pg, d, had)
			}
		}
	}
}

// TestWeighted: the first pick goes to nodes in proportion to their weight;
// the whole k+m set keeps the order of the weights but compresses their
// ratio, because a node can hold at most one shard of a PG.
func TestWeighted(t *testing.T) {
	var nodes []Node
	for i := range 20 {
		w := 1.0 + float64(i%4) // weights 1, 2, 3, 4
		nodes = append(nodes, Node{ID: fmt.Sprintf("w%02d", i), Host: fmt.Sprintf("h%d", i), Weight: w})
	}
	const pgs = 200000
	total := 50.0 // Σ weights
	first := mustNew(t, nodes, Pool{Name: "one", K: 1, M: 0, Domain: LevelHost, PGs: pgs, BestEffort: true})
	var firstByW [5]float64
	for _, g := range groups(t, first) {
		firstByW[1+first.index[g[0]]%4]++
	}
	// Five nodes of each weight w: expected pgs*5w/50 first picks, sd < 0.7%.
	for w := 1; w <= 4; w++ {
		want := pgs * 5 * float64(w) / total
		if dev := math.Abs(firstByW[w]-want) / want; dev > 0.03 {
			t.Errorf("weight %d: %.0f first picks, want %.0f (%.1f%% off)", w, firstByW[w], want, 100*dev)
		}
	}
	t.Logf("first picks by weight 1..4: %.0f %.0f %.0f %.0f (ideal %.0f per unit of weight)",
		firstByW[1], firstByW[2], firstByW[3], firstByW[4], pgs*5/total)
	count := map[string]int{}

	ec := mustNew(t, nodes, Pool{Name: "ec", K: 4, M: 2, Domain: LevelHost, PGs: 20000})
	clear(count)
	for _, g := range groups(t, ec) {
		for _, id := range g {
			count[id]++
		}
	}
	var byW [5]float64
	for _, n := range nodes {
		byW[int(n.Weight)] += float64(count[n.ID]) / 5
	}
	t.Logf("4+2 shards per node by weight 1..4: %.0f %.0f %.0f %.0f (ratio to weight 1: %.2f %.2f %.2f)",
		byW[1], byW[2], byW[3], byW[4], byW[2]/byW[1], byW[3]/byW[1], byW[4]/byW[1])
	for w := 2; w <= 4; w++ {
		r := byW[w] / byW[1]
		if r <= byW[w-1]/byW[1] || r > float64(w)*1.05 || r < 0.6*float64(w) {
			t.Errorf("weight %d: share ratio %.2f to weight 1, want increasing, within [%.2f, %.2f]", w, r, 0.6*float64(w), 1.05*float64(w))
		}
	}
}

// TestRandomTopologies is a property test: over random topologies and pools,
// New either refuses with a reason that holds, or every group has k+m
// distinct eligible nodes with at most Cap (≤ m unless BestEffort) per domain,
// independent of the order of the nodes.
func TestRandomTopologies(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	placed := 0
	for iter := range 300 {
		var nodes []Node
		regions, zones, racks, hosts := 1+rng.IntN(2), 1+rng.IntN(3), 1+rng.IntN(3), 1+rng.IntN(4)
		for r := range regions {
			for z := range zones {
				for k := range racks {
					for h := range hosts {
						for d := range 1 + rng.IntN(2) {
							n := Node{
								ID:     fmt.Sprintf("r%dz%dk%dh%dd%d", r, z, k, h, d),
								Region: fmt.Sprint(r), Zone: fmt.Sprint(z), Rack: fmt.Sprint(k), Host: fmt.Sprint(h),
								Class:  []string{"hdd", "ssd"}[rng.IntN(2)],
								Weight: float64(rng.IntN(4)),
							}
							if rng.IntN(8) == 0 {
								n.State = StateDown
							}
							nodes = append(nodes, n)
						}
					}
				}
			}
		}
		k, m := 1+rng.IntN(6), rng.IntN(4)
		p := Pool{Name: fmt.Sprint("p", iter), K: k, M: m, Domain: Level(rng.IntN(5)), PGs: 64, BestEffort: rng.IntN(3) == 0}
		if rng.IntN(2) == 0 {
			p.Class = "ssd"
		}
		eligible := map[string]*Node{}
		for i := range nodes {
			n := &nodes[i]
			if n.State == StateUp && n.Weight > 0 && (p.Class == "" || n.Class == p.Class) {
				eligible[n.ID] = n
			}
		}
		mp, err := New(nodes, p)
		var ce *CannotPlaceError
		if errors.As(err, &ce) {
			switch ce.Reason {
			case ReasonNoClass, ReasonTooFewNodes:
				if len(eligible) >= p.Width() {
					t.Fatalf("iter %d: %v with %d eligible nodes", iter, err, len(eligible))
				}
			case ReasonNoRedundancy:
				if p.M != 0 || p.BestEffort {
					t.Fatalf("iter %d: %v for %+v", iter, err, p)
				}
			case ReasonTooFewDomains:
				if p.BestEffort || ce.Need <= p.M {
					t.Fatalf("iter %d: %v for %+v", iter, err, p)
				}
			}
			continue
		} else if err != nil {
			t.Fatalf("iter %d: %v", iter, err)
		}
		placed++
		if !p.BestEffort && (mp.Cap() > p.M || !mp.SurvivesDomainLoss()) {
			t.Fatalf("iter %d: cap %d > m %d", iter, mp.Cap(), p.M)
		}
		shuffled := slices.Clone(nodes)
		rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		mp2 := mustNew(t, shuffled, p)
		for pg := range p.PGs {
			g, err := mp.Group(pg)
			if err != nil {
				t.Fatal(err)
			}
			if g2, _ := mp2.Group(pg); !slices.Equal(g, g2) {
				t.Fatalf("iter %d pg %d: order of nodes changed the group: %v vs %v", iter, pg, g, g2)
			}
			if len(g) != p.Width() {
				t.Fatalf("iter %d pg %d: %d nodes, want %d", iter, pg, len(g), p.Width())
			}
			per := map[string]int{}
			seen := map[string]bool{}
			for _, id := range g {
				n := eligible[id]
				if n == nil {
					t.Fatalf("iter %d pg %d: ineligible node %s", iter, pg, id)
				}
				if seen[id] {
					t.Fatalf("iter %d pg %d: node %s twice in %v", iter, pg, id, g)
				}
				seen[id] = true
				d := n.domain(p.Domain)
				if per[d]++; per[d] > mp.Cap() {
					t.Fatalf("iter %d pg %d: %d shards in domain %s, cap %d", iter, pg, per[d], d, mp.Cap())
				}
			}
		}
	}
	if placed < 50 {
		t.Fatalf("only %d of 300 random layouts placed; the generator is too harsh", placed)
	}
	t.Logf("%d of 300 random layouts placed", placed)
}

func TestRefuse(t *testing.T) {
	tests := []struct {
		name   string
		nodes  []Node
		pool   Pool
		err    error
		reason Reason
	}{
		{"no class", zoned(3, 4), Pool{K: 4, M: 2, PGs: 8, Class: "ssd"}, ErrCannotPlace, ReasonNoClass},
		{"too few nodes", zoned(1, 5), Pool{K: 4, M: 2, PGs: 8, Domain: LevelNode}, ErrCannotPlace, ReasonTooFewNodes},
		{"too few zones", zoned(2, 8), Pool{K: 4, M: 2, PGs: 8, Domain: LevelZone}, ErrCannotPlace, ReasonTooFewDomains},
		{"one zone", zoned(1, 8), Pool{K: 2, M: 1, PGs: 8, Domain: LevelZone}, ErrCannotPlace, ReasonTooFewDomains},
		{"m=0", zoned(1, 8), Pool{K: 2, M: 0, PGs: 8}, ErrCannotPlace, ReasonNoRedundancy},
		{"all down", func() []Node {
			n := zoned(3, 2)
			for i := range n {
				n[i].State = StateDown
			}
			return n
		}(), Pool{K: 1, M: 1, PGs: 8}, ErrCannotPlace, ReasonTooFewNodes},
		{"k=0", zoned(1, 8), Pool{K: 0, M: 2, PGs: 8}, ErrInvalidPool, 0},
		{"m<0", zoned(1, 8), Pool{K: 2, M: -1, PGs: 8}, ErrInvalidPool, 0},
		{"pgs=0", zoned(1, 8), Pool{K: 2, M: 1}, ErrInvalidPool, 0},
		{"level", zoned(1, 8), Pool{K: 2, M: 1, PGs: 8, Domain: 9}, ErrInvalidPool, 0},
		{"dup", append(zoned(1, 4), zoned(1, 1)...), Pool{K: 2, M: 1, PGs: 8}, ErrInvalidNode, 0},
		{"nan", []Node{{ID: "a", Weight: math.NaN()}}, Pool{K: 1, M: 0, PGs: 8}, ErrInvalidNode, 0},
		{"negative", []Node{{ID: "a", Weight: -1}}, Pool{K: 1, M: 0, PGs: 8}, ErrInvalidNode, 0},
		{"empty id", []Node{{Weight: 1}}, Pool{K: 1, M: 0, PGs: 8}, ErrInvalidNode, 0},
		{"state", []Node{{ID: "a", Weight: 1, State: 7}}, Pool{K: 1, M: 0, PGs: 8}, ErrInvalidNode, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.nodes, tt.pool)
			if !errors.Is(err, tt.err) {
				t.Fatalf("err %v, want %v", err, tt.err)
			}
			var ce *CannotPlaceError
			if tt.reason != 0 && (!errors.As(err, &ce) || ce.Reason != tt.reason) {
				t.Fatalf("err %v, want reason %v", err, tt.reason)
			}
			t.Log(err)
		})
	}
}

func TestBestEffort(t *testing.T) {
	p := Pool{Name: "be", K: 4, M: 2, Domain: LevelZone, PGs: 256, BestEffort: true}
	m := mustNew(t, zoned(2, 8), p)
	if m.Cap() != 3 || m.SurvivesDomainLoss() {
		t.Fatalf("cap %d survives %v; want 3, false", m.Cap(), m.SurvivesDomainLoss())
	}
	// Uneven zones: 1 node and 9 nodes; 6 shards need cap 5.
	nodes := zoned(1, 10)
	nodes[0].Zone = "small"
	m = mustNew(t, nodes, p)
	if m.Cap() != 5 {
		t.Fatalf("cap %d, want 5", m.Cap())
	}
	for _, g := range groups(t, m) {
		if len(g) != 6 {
			t.Fatalf("group %v", g)
		}
	}
	// Single drive, 1+0.
	m = mustNew(t, zoned(1, 1), Pool{Name: "one", K: 1, M: 0, Domain: LevelNode, PGs: 4, BestEffort: true})
	if g, _ := m.Group(3); !slices.Equal(g, []string{"n000"}) || m.SurvivesDomainLoss() {
		t.Fatalf("group %v, survives %v", g, m.SurvivesDomainLoss())
	}
}

func TestGroupBadPG(t *testing.T) {
	m := mustNew(t, zoned(3, 2), Pool{K: 2, M: 1, PGs: 8, Domain: LevelZone})
	for _, pg := range []int{-1, 8, math.MaxInt} {
		if _, err := m.Group(pg); !errors.Is(err, ErrBadPG) {
			t.Fatalf("Group(%d): %v", pg, err)
		}
	}
}

func TestPGOf(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const packs, pgs = 100000, 100
	count := make([]int, pgs)
	movedN := 0
	for range packs {
		var id [16]byte
		for i := range id {
			id[i] = byte(rng.Uint32())
		}
		pg := PGOf(id, pgs)
		if pg < 0 || pg >= pgs {
			t.Fatalf("PGOf = %d", pg)
		}
		count[pg]++
		if PGOf(id, pgs+1) != pg {
			movedN++
		}
		if PGOf(id, 0) != 0 || PGOf(id, 1) != 0 || PGOf(id, -5) != 0 {
			t.Fatal("PGOf with pgs < 2 is not 0")
		}
	}
	for pg, c := range count {
		if c < 850 || c > 1150 { // mean 1000, sd 31.6
			t.Errorf("pg %d: %d packs", pg, c)
		}
	}
	t.Logf("growing 100 -> 101 PGs moved %.2f%% of packs", 100*float64(movedN)/packs)
	if f := float64(movedN) / packs; f > 1.0/101+0.003 {
		t.Errorf("growing to 101 PGs moved %.4f of packs, want about %.4f", f, 1.0/101)
	}
}

func TestAdapt(t *testing.T) {
	tests := []struct{ drives, k, m int }{
		{-1, 0, 0}, {0, 0, 0}, {1, 1, 0}, {2, 1, 1}, {3, 2, 1}, {4, 2, 2}, {5, 3, 2}, {6, 4, 2},
		{7, 5, 2}, {8, 6, 2}, {11, 9, 2}, {12, 8, 4}, {16, 12, 4}, {19, 15, 4}, {20, 16, 4}, {100, 16, 4},
	}
	for _, tt := range tests {
		if k, m := Adapt(tt.drives); k != tt.k || m != tt.m {
			t.Errorf("Adapt(%d) = %d+%d, want %d+%d", tt.drives, k, m, tt.k, tt.m)
		}
	}
	// Every adapted code places on its own drives at node level.
	for d := 1; d <= 24; d++ {
		k, m := Adapt(d)
		if _, err := New(zoned(1, d), Pool{K: k, M: m, Domain: LevelNode, PGs: 4, BestEffort: m == 0}); err != nil {
			t.Errorf("%d drives, %d+%d: %v", d, k, m, err)
		}
	}
}

func TestNegLog2(t *testing.T) {
	for _, h := range []uint64{1, 2, 3, 1000, 1 << 40, 1<<63 - 1, 1 << 63, 0xdeadbeefcafebabe, math.MaxUint64} {
		got := float64(negLog2(h)) / (1 << 32)
		want := 64 - math.Log2(float64(h))
		if math.Abs(got-want) > 1e-6 {
			t.Errorf("negLog2(%d) = %v, want %v", h, got, want)
		}
	}
	if negLog2(0) != negLog2(1) {
		t.Error("negLog2(0) != negLog2(1)")
	}
}

func TestParseLevel(t *testing.T) {
	for i, s := range []string{"node", "host", "rack", "zone", "region"} {
		l, err := ParseLevel(s)
		if err != nil || l != Level(i) || l.String() != s {
			t.Errorf("ParseLevel(%q) = %v, %v", s, l, err)
		}
	}
	if l, err := ParseLevel(""); err != nil || l != LevelHost {
		t.Errorf("ParseLevel(\"\") = %v, %v", l, err)
	}
	if _, err := ParseLevel("planet"); !errors.Is(err, ErrInvalidPool) {
		t.Errorf("ParseLevel(planet): %v", err)
	}
}

func TestLowerNegLog2(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	check := func(h uint64) {
		if lb, e := lowerNegLog2(h), float64(negLog2(h)); lb > e {
			t.Fatalf("h=%#x: bound %v > negLog2 %v", h, lb, e)
		}
	}
	for _, h := range []uint64{0, 1, 2, 1 << 63, math.MaxUint64, math.MaxUint64 - 1, math.MaxUint64 - 1<<20} {
		check(h)
	}
	for range 1000000 {
		h := rng.Uint64()
		check(h)
		check(^(h >> rng.IntN(64))) // near 2^64: the tight end
	}
}

// TestPickMatchesFullSort: the bounded candidate list with its cheap
// rejection picks exactly what a greedy walk over all nodes in draw order
// picks.
func TestPickMatchesFullSort(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	nodes := zoned(5, 40)
	for i := range nodes {
		nodes[i].Weight = 1 + float64(rng.IntN(5))
	}
	m := mustNew(t, nodes, Pool{Name: "x", K: 6, M: 3, Domain: LevelZone, PGs: 2000})
	for pg := range 2000 {
		pk := pgKey(m.seed, pg)
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
		want := m.greedy(nil, all, 9, m.Cap(), nil, nil)
		if got := m.pick(nil, pk, 9, 0, m.Cap(), nil, nil); !slices.Equal(got, want) {
			t.Fatalf("pg %d: pick %v, full sort %v", pg, got, want)
		}
	}
}
