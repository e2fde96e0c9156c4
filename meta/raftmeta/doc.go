// Package raftmeta replicates the metadata state machine (meta/server.State)
// with hashicorp/raft.
//
// A Node owns three stores under Config.Dir:
//
//	raft/       Pebble: the Raft log and stable store (Store), fsynced writes
//	snapshots/  raft.FileSnapshotStore: FSM snapshots (header + State stream)
//	state/      the State's own Pebble (not synced: the log is the record)
//
// Writes: server.Service encodes a command and calls Node.Propose, which is
// raft.Apply on the leader; the FSM calls State.Apply(log.Index, log.Data)
// and the ApplyFuture returns its server.Result. Concurrent proposals are
// batched by Raft (MaxAppendEntries per append, one fsync per batch). On a
// follower Propose fails with meta.ErrNotLeader; meta/remote carries the
// leader's API address back to the client, which follows it.
//
// Reads: ReadBarrier verifies leadership (a heartbeat round to a quorum) and
// makes sure a Barrier of the current term has been applied, so every entry
// committed by an earlier leader is applied locally; entries committed by
// this leader were applied before their proposer saw the result. Reads that
// follow are linearizable.
//
// Restart: State persists its applied index in the same Pebble batch as each
// command, so entries Raft replays after the last snapshot are skipped, and
// a snapshot older than the local state is not restored (Restore compares
// the snapshot's State index with State.AppliedIndex).
//
// The member directory (server ID -> API address) is replicated through the
// log as entries whose Extensions are dirExt, and travels in snapshots, so
// any member can tell a client where the leader's API is.
package raftmeta
