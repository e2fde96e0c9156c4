package placement

import (
	"errors"
	"slices"
	"testing"
)

func packID(b byte) [16]byte { return [16]byte{b} }

func TestPlanRepair(t *testing.T) {
	nodes := zoned(3, 4) // 12 nodes, zones z0 (n000-n003), z1, z2
	m := mustNew(t, nodes, Pool{Name: "ec", K: 4, M: 2, Domain: LevelZone, PGs: 64})
	domain := func(id string) string {
		for i := range nodes {
			if nodes[i].ID == id {
				return nodes[i].domain(LevelZone)
			}
		}
		return "unknown:" + id
	}
	layout := []string{"n000", "n001", "n004", "n005", "n008", "n009"}
	in := []Damaged{
		{Pack: packID(1), K: 4, M: 2, Nodes: layout, Missing: []int{0}},                                // redundancy 1
		{Pack: packID(2), K: 4, M: 2, Nodes: layout, Missing: []int{5, 2}},                             // redundancy 0
		{Pack: packID(3), K: 4, M: 2, Nodes: layout, Missing: []int{0, 1, 2}},                          // lost
		{Pack: packID(4), K: 4, M: 2, Nodes: layout[:5], Missing: []int{0}},                            // malformed
		{Pack: packID(5), K: 4, M: 2, Nodes: layout, Missing: []int{6}},                                // malformed
		{Pack: packID(6), K: 4, M: 2, Nodes: layout, Missing: []int{1, 1}},                             // malformed
		{Pack: packID(7), K: 4, M: 2, Nodes: layout, Missing: []int{3}},                                // redundancy 1
		{Pack: packID(8), K: 2, M: 2, Nodes: []string{"n000", "x", "y", "n004"}, Missing: []int{1, 2}}, // unknown nodes
	}
	out := m.PlanRepair(in)
	var order []byte
	for _, r := range out {
		order = append(order, r.Pack[0])
	}
	if want := []byte{2, 8, 1, 7}; !slices.Equal(order[:4], want) {
		t.Fatalf("order %v, want %v first", order, want)
	}
	for _, r := range out {
		var d *Damaged
		for i := range in {
			if in[i].Pack == r.Pack {
				d = &in[i]
			}
		}
		switch r.Pack[0] {
		case 3:
			if !errors.Is(r.Err, ErrUnrecoverable) || r.Redundancy != -1 {
				t.Fatalf("pack 3: %+v", r)
			}
			continue
		case 4, 5, 6:
			if !errors.Is(r.Err, ErrInvalidDamage) {
				t.Fatalf("pack %d: %+v", r.Pack[0], r)
			}
			continue
		}
		if r.Err != nil || r.Degraded {
			t.Fatalf("pack %d: %+v", r.Pack[0], r)
		}
		// Resulting layout: distinct nodes, at most 2 per zone, surviving
		// holders untouched.
		final := slices.Clone(d.Nodes)
		var shards []int
		for _, tg := range r.Targets {
			shards = append(shards, tg.Shard)
			final[tg.Shard] = tg.Node
		}
		want := slices.Clone(d.Missing)
		slices.Sort(want)
		if !slices.Equal(shards, want) {
			t.Fatalf("pack %d: targets for shards %v, want %v", r.Pack[0], shards, want)
		}
		per := map[string]int{}
		for i, id := range final {
			if slices.Contains(final[i+1:], id) {
				t.Fatalf("pack %d: node %s twice in %v", r.Pack[0], id, final)
			}
			per[domain(id)]++
			if per[domain(id)] > 2 {
				t.Fatalf("pack %d: zone of %s holds %d shards: %v", r.Pack[0], id, per[domain(id)], final)
			}
		}
	}
	// Pure: the same input gives the same plan.
	again := m.PlanRepair(in)
	for i := range out {
		if out[i].Pack != again[i].Pack || !slices.Equal(out[i].Targets, again[i].Targets) {
			t.Fatalf("plan %d differs: %+v vs %+v", i, out[i], again[i])
		}
	}
}

// TestPlanRepairConverges: a shard lost with its node is rebuilt on the node
// the map now gives its placement group, when that node is free.
func TestPlanRepairConverges(t *testing.T) {
	nodes := zoned(3, 4)
	p := Pool{Name: "ec", K: 4, M: 2, Domain: LevelZone, PGs: 64}
	before := mustNew(t, nodes, p)
	id := packID(42)
	_, _, layout, err := before.Place(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	dead := layout[3]
	for i := range nodes {
		if nodes[i].ID == dead {
			nodes[i].State = StateFailed
		}
	}
	after := mustNew(t, nodes, p)
	_, _, now, _ := after.Place(t.Context(), id)
	out := after.PlanRepair([]Damaged{{Pack: id, K: 4, M: 2, Nodes: layout, Missing: []int{3}}})
	if out[0].Err != nil || len(out[0].Targets) != 1 {
		t.Fatalf("plan %+v", out[0])
	}
	var added string
	for _, n := range now {
		if !slices.Contains(layout, n) {
			added = n
		}
	}
	if out[0].Targets[0].Node != added || added == dead {
		t.Fatalf("repair to %s, the map's replacement is %s (layout %v, now %v)", out[0].Targets[0].Node, added, layout, now)
	}
}

// TestPlanRepairDegraded: when the domain rule leaves no node, it is relaxed
// and the repair says so; when no node at all is left, the pack fails with
// ErrCannotPlace.
func TestPlanRepairDegraded(t *testing.T) {
	nodes := zoned(3, 2) // 6 nodes, 2 per zone, 4+2 uses every node
	// After n000 fails, zone z0 has one node left: a best-effort map.
	p := Pool{Name: "ec", K: 4, M: 2, Domain: LevelZone, PGs: 8, BestEffort: true}
	layout := []string{"n000", "n001", "n002", "n003", "n004", "n005"}
	nodes[0].State = StateFailed
	nodes = append(nodes, Node{ID: "spare", Zone: "z1", Region: "r", Weight: 1})
	m := mustNew(t, nodes, p)
	out := m.PlanRepair([]Damaged{{Pack: packID(1), K: 4, M: 2, Nodes: layout, Missing: []int{0}}})
	if r := out[0]; r.Err != nil || !r.Degraded || r.Targets[0].Node != "spare" {
		t.Fatalf("plan %+v, want degraded repair onto spare", r)
	}
	// A 5+2 pack whose surviving shards hold every usable node.
	out = m.PlanRepair([]Damaged{{Pack: packID(1), K: 5, M: 2, Nodes: append(slices.Clone(layout), "spare"), Missing: []int{0}}})
	if r := out[0]; !errors.Is(r.Err, ErrCannotPlace) {
		t.Fatalf("plan %+v, want ErrCannotPlace", r)
	}
}
