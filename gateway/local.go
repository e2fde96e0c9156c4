package gateway

import (
	"context"
	"encoding/binary"
	"fmt"
	"sync"

	"github.com/tessera-store/tessera/pack"
	"github.com/tessera-store/tessera/store"
)

// storeMap resolves node IDs to stores: the drives of an all-in-one server,
// or remote node clients in cluster mode (filled lazily by dial).
type storeMap struct {
	mu     sync.Mutex
	stores map[string]store.Store
	dial   func(node string) (store.Store, error) // nil: only fixed stores
}

func (s *storeMap) Store(node string) (store.Store, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st, ok := s.stores[node]; ok {
		return st, nil
	}
	if s.dial == nil {
		return nil, fmt.Errorf("gateway: unknown node %q: %w", node, store.ErrUnavailable)
	}
	st, err := s.dial(node)
	if err != nil {
		return nil, err
	}
	s.stores[node] = st
	return st, nil
}

// driveRing places every pack on all drives of one server, rotating which
// drive holds which shard index so that data and parity spread evenly.
type driveRing struct {
	k, m   int
	drives []string // len k+m
}

func (r *driveRing) Place(_ context.Context, id pack.ID) (int, int, []string, error) {
	n := len(r.drives)
	start := int(binary.BigEndian.Uint64(id[:8]) % uint64(n))
	nodes := make([]string, n)
	for i := range nodes {
		nodes[i] = r.drives[(start+i)%n]
	}
	return r.k, r.m, nodes, nil
}

func newReqID() string { return randomString(24, keyAlphabet) }
