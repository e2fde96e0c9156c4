package placement_test

import (
	"fmt"

	"github.com/tessera-store/tessera/placement"
)

func Example() {
	var nodes []placement.Node
	for i := range 9 {
		nodes = append(nodes, placement.Node{
			ID:     fmt.Sprintf("node%d", i),
			Region: "eu", Zone: fmt.Sprintf("zone%d", i%3), Host: fmt.Sprintf("host%d", i),
			Class: "hdd", Weight: 16, // TB
		})
	}
	pool := placement.Pool{Name: "cold", K: 4, M: 2, Class: "hdd", Domain: placement.LevelZone, PGs: 256}
	m, err := placement.New(nodes, pool)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("shards per zone at most:", m.Cap(), "survives a zone loss:", m.SurvivesDomainLoss())
	g, _ := m.Group(placement.PGOf([16]byte{1}, pool.PGs))
	fmt.Println("nodes:", len(g))

	// Four nodes cannot hold six shards.
	_, err = placement.New(nodes[:4], pool)
	fmt.Println(err)
	// Output:
	// shards per zone at most: 2 survives a zone loss: true
	// nodes: 6
	// placement: cannot place pool "cold": too few usable nodes (need 6, have 4)
}
