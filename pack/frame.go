package pack

// Stored frame format, version 1.
//
// A pack is the concatenation of stored chunk frames. A frame is
//
//	tag (1 byte) | payload
//
// with no length or checksum of its own: the chunk index records each
// frame's offset and length in the pack and the chunk's plaintext length,
// shard blocks carry checksums, and the reader verifies the chunk's BLAKE3
// after decoding. The payload by tag:
//
//	TagRaw  the plaintext itself
//	TagZstd one zstd frame (RFC 8878) holding the plaintext, without checksum
//	TagS2   one S2 block (github.com/klauspost/compress/s2) holding the plaintext
//
// Tags form an append-only list: never reorder or reuse a value.
const (
	TagRaw  byte = 0
	TagZstd byte = 1
	TagS2   byte = 2
)

// MaxPlainLen is the largest plaintext a frame may hold, and the hard bound
// DecodeFrame enforces on the plaintext length so that no frame, corrupt or
// not, makes it allocate more. It must be at least the chunker's maximum
// chunk size (chunk.DefaultMax, 1 MiB; chunk.Options allow up to 64 MiB,
// which Builder.Add rejects with ErrTooLarge).
const MaxPlainLen = 4 << 20

// MaxFrameLen is an upper bound on the stored length of a frame whose
// plaintext is MaxPlainLen bytes, including the space a compression
// attempt may use before AppendFrame falls back to raw.
const MaxFrameLen = 1 + MaxPlainLen + MaxPlainLen>>10 + 64 // frameBound(MaxPlainLen)
