// Package pack groups stored chunk frames into packs, the unit that is
// erasure coded and placed on storage nodes.
//
// A stored frame is one chunk's plaintext, compressed when that pays, behind
// a one-byte tag (format in frame.go): AppendFrame writes one, DecodeFrame
// reads one back with a hard bound on the memory it may use. A Builder
// appends frames into a pack buffer until the pack reaches its target size
// and reports where each frame landed (offset and stored length, as the
// chunk index records them). The pack is then coded by package erasure,
// in place in the Builder's buffer.
//
// A pack's ID (ID, NewID) is drawn at random by the gateway that builds it.
package pack
