// Package store defines shard storage: where the erasure-coded shards of
// packs live on a storage node's drives. Implementations: store/disk (files on
// a drive folder), store/mem (tests, benchmarks), store/remote (a storage node
// over the network). store/storetest holds the conformance suite all of them
// pass.
package store

import (
	"context"
	"errors"
	"io"

	"github.com/tessera-store/tessera/pack"
)

// Errors. Implementations wrap them with %w; callers match with errors.Is.
var (
	// ErrNotFound: no such shard.
	ErrNotFound = errors.New("store: shard not found")
	// ErrExists: Put of a shard that is already stored.
	ErrExists = errors.New("store: shard exists")
	// ErrCorrupt: a block failed its checksum, or a shard file is malformed.
	ErrCorrupt = errors.New("store: shard corrupt")
	// ErrNoSpace: the drive is full; nothing was left half-written.
	ErrNoSpace = errors.New("store: no space left")
	// ErrDriveFailed: the drive returned I/O errors and takes no more writes.
	ErrDriveFailed = errors.New("store: drive failed")
	// ErrUnavailable: the node cannot be reached (network, down, timeout).
	ErrUnavailable = errors.New("store: node unavailable")
	// ErrOutOfRange: a read past the end of the shard's data.
	ErrOutOfRange = errors.New("store: range out of bounds")
)

// ShardID names one shard: pack and index in the stripe (0..k-1 data,
// k..k+m-1 parity).
type ShardID struct {
	Pack  pack.ID
	Index int
}

// ShardInfo describes a stored shard.
type ShardInfo struct {
	ID ShardID
	// Size is the shard's data length in bytes (without header or checksums).
	Size int64
	// K, M are the stripe's scheme, recorded in the shard header.
	K, M int
}

// Store keeps shards. All methods are safe for concurrent use.
//
// A shard's data is opaque bytes to the store; the store frames it on disk
// with the erasure shard format (header and per-block checksums) and
// verifies the checksums of every block a read touches.
type Store interface {
	// Put stores shard id with exactly size bytes read from r, described by
	// info (K, M). The shard becomes visible only after all bytes are durable;
	// if r fails, ctx is cancelled or size bytes cannot be read, nothing is
	// left behind. Putting an existing shard returns ErrExists.
	Put(ctx context.Context, info ShardInfo, r io.Reader) error
	// ReadAt reads len(p) bytes of the shard's data at off, verifying the
	// checksum of every block it touches. It returns ErrCorrupt if any fails,
	// ErrOutOfRange if [off, off+len(p)) is not inside the data.
	ReadAt(ctx context.Context, id ShardID, p []byte, off int64) error
	// Stat returns the shard's info or ErrNotFound.
	Stat(ctx context.Context, id ShardID) (ShardInfo, error)
	// Delete removes the shard; deleting a missing shard returns ErrNotFound.
	Delete(ctx context.Context, id ShardID) error
	// Walk calls fn for every stored shard, in no particular order, until fn
	// returns an error (which Walk returns) or ctx is done.
	Walk(ctx context.Context, fn func(ShardInfo) error) error
}

// Usage reports a store's capacity. Optional: a Store that also implements
// Usager reports it; others are treated as unknown capacity.
type Usage struct {
	TotalBytes, FreeBytes, UsedBytes int64
	Shards                           int64
	Failed                           bool // a drive is marked failed
}

// Usager is implemented by stores that know their capacity.
type Usager interface {
	Usage(ctx context.Context) (Usage, error)
}
