// Package server is the metadata state machine: a Pebble database that
// holds buckets, object manifests, the chunk index, packs, multipart
// uploads, nodes, pools, users, idempotency records and counters, and the
// meta.Service built on it.
//
// Writes are Commands (EncodeCommand) applied by State.Apply in log order.
// Apply is deterministic: it reads only the state and the command (times
// and IDs travel in the command), so every replica that applies the same
// log holds byte-identical contents. Each command is one Pebble batch that
// also records the applied index, so a command is applied entirely or not
// at all. A command that fails changes nothing but the applied index.
//
// Reads go straight to Pebble after Proposer.ReadBarrier. Snapshot and
// Restore stream the whole keyspace for Raft snapshots.
//
// Persisted formats (keys, records, commands, snapshots) are described in
// docs/arch/meta-state.md; every record starts with a version byte.
package server
