package placement

import (
	"fmt"
	"testing"
)

// BenchmarkPlace places every group of a pool; one op is the whole pool.
// The target: 100,000 PGs over 1,000 nodes in under a second.
func BenchmarkPlace(b *testing.B) {
	for _, bc := range []struct {
		nodes, zones, pgs, k, m int
		level                   Level
	}{
		{1000, 10, 100000, 4, 2, LevelZone},
		{1000, 10, 100000, 10, 4, LevelHost},
		{24, 3, 100000, 4, 2, LevelZone},
	} {
		name := fmt.Sprintf("%dnodes/%dPGs/%d+%d/%v", bc.nodes, bc.pgs, bc.k, bc.m, bc.level)
		b.Run(name, func(b *testing.B) {
			m := mustNew(b, zoned(bc.zones, bc.nodes/bc.zones), Pool{Name: "bench", K: bc.k, M: bc.m, Domain: bc.level, PGs: bc.pgs})
			b.ReportAllocs()
			cpu0 := cpuTime()
			for b.Loop() {
				for pg := range bc.pgs {
					if _, err := m.Group(pg); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(bc.pgs), "ns/PG")
			if cpu := cpuTime() - cpu0; cpu > 0 {
				b.ReportMetric(float64(cpu)/float64(b.N)/1e6, "cpu-ms/op")
			}
		})
	}
}

func BenchmarkPlanRepair(b *testing.B) {
	m := mustNew(b, zoned(10, 100), Pool{Name: "bench", K: 4, M: 2, Domain: LevelZone, PGs: 4096})
	var in []Damaged
	for i := range 1000 {
		id := [16]byte{byte(i), byte(i >> 8)}
		g, _ := m.Group(PGOf(id, 4096))
		in = append(in, Damaged{Pack: id, K: 4, M: 2, Nodes: g, Missing: []int{i % 6}})
	}
	b.ReportAllocs()
	for b.Loop() {
		m.PlanRepair(in)
	}
}
