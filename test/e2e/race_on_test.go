//go:build race

package e2e

// raceEnabled: the race detector slows hashing and coding ~10x, so the
// large-volume tests scale their sizes down (documented in docs/arch/e2e.md).
const raceEnabled = true
