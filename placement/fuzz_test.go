package placement

import (
	"errors"
	"fmt"
	"sync"
	"testing"
)

// FuzzMap builds a map from arbitrary bytes (topology, weights, states, the
// pool) and checks that nothing panics, that errors are typed, and that
// groups and repair plans keep the rules.
func FuzzMap(f *testing.F) {
	f.Add([]byte{4, 2, 3, 8, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1})
	f.Add([]byte{1, 0, 0, 1, 1, 5})
	f.Add([]byte{200, 200, 9, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		at := func(i int) int {
			if i < len(b) {
				return int(b[i])
			}
			return 0
		}
		p := Pool{Name: "f", K: at(0) % 20, M: at(1) % 8, Domain: Level(at(2) % 6), PGs: at(3) % 40, BestEffort: at(4)&1 == 1}
		var nodes []Node
		for i := 5; i < len(b) && len(nodes) < 64; i++ {
			v := int(b[i])
			nodes = append(nodes, Node{
				ID: fmt.Sprint("n", len(nodes)), Zone: fmt.Sprint(v % 4), Rack: fmt.Sprint(v % 3), Host: fmt.Sprint(v % 7),
				Weight: float64(v % 5), State: State((v / 5) % 4),
			})
		}
		m, err := New(nodes, p)
		if err != nil {
			if !errors.Is(err, ErrCannotPlace) && !errors.Is(err, ErrInvalidPool) && !errors.Is(err, ErrInvalidNode) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		var held [][]string
		for pg := -1; pg <= p.PGs; pg++ {
			g, err := m.Group(pg)
			if pg < 0 || pg == p.PGs {
				if !errors.Is(err, ErrBadPG) {
					t.Fatalf("Group(%d): %v", pg, err)
				}
				continue
			}
			if err != nil || len(g) != p.Width() {
				t.Fatalf("Group(%d) = %v, %v", pg, g, err)
			}
			seen := map[string]bool{}
			for _, id := range g {
				if seen[id] {
					t.Fatalf("node %s twice in %v", id, g)
				}
				seen[id] = true
			}
			held = append(held, g)
		}
		var dmg []Damaged
		for i, g := range held {
			dmg = append(dmg, Damaged{Pack: [16]byte{byte(i)}, K: p.K, M: p.M, Nodes: g, Missing: []int{at(i) % (p.Width() + 1)}})
		}
		for _, r := range m.PlanRepair(dmg) {
			if r.Err != nil && !errors.Is(r.Err, ErrCannotPlace) && !errors.Is(r.Err, ErrUnrecoverable) && !errors.Is(r.Err, ErrInvalidDamage) {
				t.Fatalf("untyped repair error %v", r.Err)
			}
		}
	})
}

func TestConcurrentGroups(t *testing.T) {
	m := mustNew(t, zoned(3, 8), Pool{Name: "c", K: 4, M: 2, Domain: LevelZone, PGs: 512})
	want := groups(t, m)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for pg := range 512 {
				g, _ := m.Group(pg)
				if fmt.Sprint(g) != fmt.Sprint(want[pg]) {
					t.Errorf("pg %d: %v vs %v", pg, g, want[pg])
				}
			}
		})
	}
	wg.Wait()
}
