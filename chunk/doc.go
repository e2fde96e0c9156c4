// Package chunk cuts byte streams into content-defined chunks and names each
// chunk by its content.
//
// # Cutting
//
// A Splitter implements FastCDC with normalized chunking (Xia et al., "FastCDC:
// a Fast and Efficient Content-Defined Chunking Approach for Data
// Deduplication", USENIX ATC 2016, and the 2020 TPDS version). A 64-bit gear
// hash h = h<<1 + gear[b] rolls over the bytes of the current chunk, starting
// from zero at offset Min. Before offset Avg a cut needs the top log2(Avg)+2
// bits of h to be zero (MaskS, harder); from Avg to Max it needs the top
// log2(Avg)-2 bits (MaskL, easier). This "normalization level 2" pulls chunk
// sizes towards Avg. A chunk never exceeds Max; only the last chunk of a
// stream may be shorter than Min. The cut is placed after the byte that
// satisfied the mask. Because each bit k of h depends on the last k+1 bytes
// only, the masks use the top bits, whose window is 47..64 bytes.
//
// Cut points are part of the storage format: the gear table (gear.go), the
// mask rule and Options decide them, and golden tests under testdata pin them.
// Changing any of these breaks deduplication against stored data.
//
// With Min == Avg == Max the Splitter yields fixed-size blocks, which the
// dataset survey uses as a baseline.
//
// # Identity
//
// A chunk's Addr is the BLAKE3-256 of its plaintext: unkeyed in the
// cluster-wide dedup domain, keyed with a 32-byte domain key (Options.Key) in
// a private domain, so that no other tenant can probe for its content. The
// key never changes cut points, only addresses.
//
// Hashing costs about as much as cutting. When GOMAXPROCS > 1 the Splitter
// overlaps them: Next copies chunk i into the caller's buffer, hands it to a
// helper goroutine for BLAKE3, scans for the cut of chunk i+1 meanwhile, and
// returns chunk i with its address. Options.Serial hashes on the calling
// goroutine instead. Both give identical results.
//
// # Buffers and streaming
//
// The Splitter reads its input through one internal window allocated at
// construction (Max plus max(Max, 1 MiB)) and never holds more than that.
// Next copies each chunk into the caller's buffer; a buffer with capacity of
// at least Max makes steady-state chunking allocation-free. Read errors
// surface only after every chunk whose cut point precedes the failure, so
// the chunks a failing stream yields do not depend on how the reader split
// its reads.
package chunk
