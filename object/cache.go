package object

import (
	"github.com/maypok86/otter/v2"

	"github.com/tessera-store/tessera/chunk"
)

// chunkCache holds decoded, verified chunks. Entries are immutable: a chunk
// address names its content forever, so nothing is ever invalidated.
type chunkCache struct {
	c *otter.Cache[chunk.Addr, []byte]
}

func newChunkCache(maxBytes int64) *chunkCache {
	return &chunkCache{c: otter.Must(&otter.Options[chunk.Addr, []byte]{
		MaximumWeight: uint64(maxBytes),
		Weigher:       func(_ chunk.Addr, v []byte) uint32 { return uint32(len(v)) + 64 },
	})}
}

// get returns a cached chunk; the caller must not modify it.
func (c *chunkCache) get(a chunk.Addr) ([]byte, bool) {
	if c == nil {
		return nil, false
	}
	return c.c.GetIfPresent(a)
}

// put caches data, which the caller must not modify afterwards.
func (c *chunkCache) put(a chunk.Addr, data []byte) {
	if c == nil {
		return
	}
	c.c.Set(a, data)
}
