package placement

import (
	"time"

	"github.com/tessera-store/tessera/meta"
)

// FromMetaPool converts a persisted pool. An unknown domain level fails with
// ErrInvalidPool; the other fields are checked by New.
func FromMetaPool(p meta.Pool) (Pool, error) {
	l, err := ParseLevel(p.Domain)
	if err != nil {
		return Pool{}, err
	}
	return Pool{Name: p.Name, K: p.K, M: p.M, Codec: p.Codec, Class: p.Class, Domain: l, PGs: p.PGs}, nil
}

// FromMetaNode converts a registered node. Its weight is its capacity in
// bytes (a node reporting no capacity gets no new shards); a node with a failed drive is StateFailed; a node whose last
// heartbeat is older than timeout at now is StateDown (timeout <= 0 disables
// that check).
func FromMetaNode(n meta.Node, now time.Time, timeout time.Duration) Node {
	st := StateUp
	switch {
	case n.Failed:
		st = StateFailed
	case timeout > 0 && now.UnixNano()-n.LastSeen > int64(timeout):
		st = StateDown
	}
	w := float64(n.Capacity)
	if w < 0 {
		w = 0
	}
	return Node{
		ID: n.ID, Region: n.Region, Zone: n.Zone, Rack: n.Rack, Host: n.Host,
		Class: n.Class, Weight: w, State: st,
	}
}
