// Package erasure stripes a pack over k+m shards with Reed-Solomon coding
// (github.com/klauspost/reedsolomon, GF(2^8)) and reads byte ranges of a
// pack back from those shards, reconstructing only the bytes it needs when
// shards are missing, slow or corrupt.
//
// # Stripe layout
//
// A pack of L bytes is coded as ONE stripe. The shard size is
//
//	S = ceil(L/k) rounded up to a multiple of ShardAlign (64)
//
// Data shard i (0 <= i < k) holds pack bytes [i*S, (i+1)*S); bytes past L
// are zero padding that is not part of the pack. Parity shards k..k+m-1 hold
// the Reed-Solomon parity of the data shards. Every shard is exactly S bytes.
// S is a format parameter: it is recorded with the pack (meta.Pack.ShardSize)
// and ShardSize must never change for a given (L, k).
//
// Because Reed-Solomon works byte by byte (byte j of every parity shard is a
// function of byte j of the data shards only), any byte range [a, b) of a
// shard can be rebuilt from the same range [a, b) of any k other shards.
// ReadRange and Reconstruct rely on this: they never fetch whole shards.
//
// # Terms
//
// A Span is the part of a requested pack range that lives in one data shard.
// A ShardReader is the read path's view of the k+m shards of one stripe; the
// caller adapts its stores (one node per shard) to it.
//
// The package does no I/O of its own and does not log: failures come back as
// typed errors (*ShardError, *TooFewShardsError).
package erasure
