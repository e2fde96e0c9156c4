// Package placement decides which storage nodes hold the shards of a pack.
//
// A Pool names an erasure code k+m (k=1 with m=n-1 is n-way replication), a
// compression codec, a device class, a failure-domain level (node, host,
// rack, zone, region) and a number of placement groups (PGs). A pack maps to
// a PG with PGOf (jump consistent hash of its ID); a PG maps to k+m distinct
// nodes with Map.Group.
//
// # Choosing the nodes of a PG
//
// Every eligible node (state up, matching class, weight > 0) draws a key for
// the PG: u = mix64(hash(pool, pg) XOR hash(node ID)) read as a uniform number
// in (0, 1), key = -ln(u) / weight. The nodes are taken in ascending key
// order; this is weighted rendezvous hashing (highest random weight, score
// -weight/ln(u)) and gives each node the first pick with probability
// weight/Σweight. -ln(u) comes from an integer fixed-point log2 (a 1025-entry
// table with linear interpolation, error below 1e-6), so a draw does not
// depend on the platform's math library. A PG costs one pass over the
// eligible nodes: the k+m+12 best draws are kept in a small sorted array,
// and most nodes are rejected by a two-operation lower bound of -log2(u)
// before the log is computed.
//
// Walking that order, a node is accepted unless its failure domain already
// holds Cap shards of the PG. Cap is a property of the topology, computed
// once in New: the smallest c ≥ ceil(n/D) (D domains at the pool's level)
// such that Σ_domains min(c, nodes in domain) ≥ n. It is the most even
// spread the topology allows. A pool must survive the loss of one whole
// domain, so New refuses (ErrCannotPlace, ReasonTooFewDomains) a topology
// whose Cap exceeds m, unless Pool.BestEffort is set; then the map places
// with Cap as it is and SurvivesDomainLoss reports false.
//
// A node that goes down, fails or is added changes only the PGs whose chosen
// set it enters or leaves (rendezvous hashing), about n/N of them, as long as
// Cap stays the same.
//
// The nodes a writer picks are recorded in the pack's metadata
// (meta.Pack.Nodes), so reads never recompute placement; a changed map only
// steers new packs, repair targets and rebalancing.
//
// # Repair
//
// Map.PlanRepair orders damaged packs by surviving redundancy (fewest first)
// and picks, for each missing shard, a target with the same draw and the same
// domain rule, counting the domains of the surviving shards and excluding the
// nodes that hold them.
package placement
