// Package shard is the versioned on-disk format of one erasure-coded shard.
//
// A framed shard is a fixed 64-byte header followed by the data cut into
// blocks of BlockSize bytes (the last block may be shorter), each block
// immediately followed by its 4-byte CRC32C (Castagnoli):
//
//	header (64) | block 0 | crc 0 | block 1 | crc 1 | ... | block n-1 | crc n-1
//
// Header layout, all integers little endian:
//
//	 0  4  magic "TSHD"
//	 4  2  format version (1)
//	 6  2  reserved, zero
//	 8 16  pack id
//	24  2  shard index
//	26  2  k (data shards)
//	28  2  m (parity shards)
//	30  2  reserved, zero
//	32  8  data length in bytes
//	40  4  block size in bytes
//	44 16  reserved, zero
//	60  4  CRC32C of bytes [0, 60)
//
// A block's checksum is CRC32C over the block's bytes followed by the block
// number as 8 little-endian bytes, so a block copied to another position of
// the shard fails verification. A range read touches blocks
// [off/BlockSize, (off+n-1)/BlockSize], which are contiguous in the file and
// read with one ReadAt; only those blocks are verified.
package shard

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"

	"github.com/tessera-store/tessera/pack"
	"github.com/tessera-store/tessera/store"
)

// Format constants.
const (
	// HeaderSize is the size of the fixed header.
	HeaderSize = 64
	// Version is the format version this package writes and reads.
	Version = 1
	// DefaultBlockSize is the block size used when Header.BlockSize is 0.
	DefaultBlockSize = 64 << 10
	// MinBlockSize and MaxBlockSize bound the block size a header may carry.
	MinBlockSize = 16
	MaxBlockSize = 16 << 20
	// MaxShards bounds k+m.
	MaxShards = 256
	// MaxLength bounds a shard's data length (1 TiB): far above any pack,
	// low enough that offsets never overflow.
	MaxLength = 1 << 40
	// ChecksumSize is the size of one block checksum.
	ChecksumSize = 4
)

var magic = [4]byte{'T', 'S', 'H', 'D'}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Errors. ErrBadHeader and ErrBadBlock also match store.ErrCorrupt.
var (
	// ErrBadHeader: the header is malformed or fails its checksum.
	ErrBadHeader = errors.New("shard: bad header")
	// ErrBadBlock: a data block fails its checksum or is truncated.
	ErrBadBlock = errors.New("shard: bad block")
	// ErrInvalid: a Header given to the writer has out-of-range fields.
	ErrInvalid = errors.New("shard: invalid header fields")
	// ErrLength: more or fewer bytes than Header.Length were written.
	ErrLength = errors.New("shard: data length mismatch")
)

// Header describes a shard. It is stored in front of the data.
type Header struct {
	Pack      pack.ID
	Index     int   // shard index in the stripe, 0 <= Index < K+M
	K, M      int   // the stripe's scheme
	Length    int64 // data bytes, without header and checksums
	BlockSize int   // 0 means DefaultBlockSize
}

// Validate checks the header's fields; the error matches ErrInvalid.
func (h Header) Validate() error {
	bs := h.blockSize()
	switch {
	case h.K < 1 || h.M < 0 || h.K+h.M > MaxShards:
		return fmt.Errorf("%w: k=%d m=%d", ErrInvalid, h.K, h.M)
	case h.Index < 0 || h.Index >= h.K+h.M:
		return fmt.Errorf("%w: index %d with k=%d m=%d", ErrInvalid, h.Index, h.K, h.M)
	case h.Length < 0 || h.Length > MaxLength:
		return fmt.Errorf("%w: length %d", ErrInvalid, h.Length)
	case bs < MinBlockSize || bs > MaxBlockSize:
		return fmt.Errorf("%w: block size %d", ErrInvalid, bs)
	}
	return nil
}

func (h Header) blockSize() int {
	if h.BlockSize == 0 {
		return DefaultBlockSize
	}
	return h.BlockSize
}

// Blocks returns the number of data blocks.
func (h Header) Blocks() int64 {
	bs := int64(h.blockSize())
	return (h.Length + bs - 1) / bs
}

// FramedSize returns the size of the whole framed shard: header, data and
// checksums.
func (h Header) FramedSize() int64 {
	return HeaderSize + h.Length + h.Blocks()*ChecksumSize
}

// Marshal returns the 64-byte encoded header. BlockSize 0 is written as
// DefaultBlockSize. It does not validate; the writer does.
func (h Header) Marshal() [HeaderSize]byte {
	var b [HeaderSize]byte
	copy(b[0:4], magic[:])
	binary.LittleEndian.PutUint16(b[4:], Version)
	copy(b[8:24], h.Pack[:])
	binary.LittleEndian.PutUint16(b[24:], uint16(h.Index))
	binary.LittleEndian.PutUint16(b[26:], uint16(h.K))
	binary.LittleEndian.PutUint16(b[28:], uint16(h.M))
	binary.LittleEndian.PutUint64(b[32:], uint64(h.Length))
	binary.LittleEndian.PutUint32(b[40:], uint32(h.blockSize()))
	binary.LittleEndian.PutUint32(b[60:], crc32.Checksum(b[:60], castagnoli))
	return b
}

// ParseHeader decodes and validates a header from the first HeaderSize bytes
// of b. Errors match ErrBadHeader and store.ErrCorrupt.
func ParseHeader(b []byte) (Header, error) {
	if len(b) < HeaderSize {
		return Header{}, badHeader("short header: %d bytes", len(b))
	}
	b = b[:HeaderSize]
	if [4]byte(b[0:4]) != magic {
		return Header{}, badHeader("bad magic %q", b[0:4])
	}
	if want, got := binary.LittleEndian.Uint32(b[60:]), crc32.Checksum(b[:60], castagnoli); want != got {
		return Header{}, badHeader("checksum %08x, want %08x", got, want)
	}
	if v := binary.LittleEndian.Uint16(b[4:]); v != Version {
		return Header{}, badHeader("unknown version %d", v)
	}
	if !allZero(b[6:8]) || !allZero(b[30:32]) || !allZero(b[44:60]) {
		return Header{}, badHeader("reserved bytes set")
	}
	length := binary.LittleEndian.Uint64(b[32:])
	if length > MaxLength {
		return Header{}, badHeader("length %d", length)
	}
	h := Header{
		Pack:      pack.ID(b[8:24]),
		Index:     int(binary.LittleEndian.Uint16(b[24:])),
		K:         int(binary.LittleEndian.Uint16(b[26:])),
		M:         int(binary.LittleEndian.Uint16(b[28:])),
		Length:    int64(length),
		BlockSize: int(binary.LittleEndian.Uint32(b[40:])),
	}
	if h.BlockSize == 0 {
		return Header{}, badHeader("zero block size")
	}
	if err := h.Validate(); err != nil {
		return Header{}, badHeader("%v", err)
	}
	return h, nil
}

func badHeader(format string, args ...any) error {
	return fmt.Errorf("%w: %s: %w", ErrBadHeader, fmt.Sprintf(format, args...), store.ErrCorrupt)
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// blockSum is the checksum of block number n holding data.
func blockSum(data []byte, n int64) uint32 {
	var nb [8]byte
	binary.LittleEndian.PutUint64(nb[:], uint64(n))
	return crc32.Update(crc32.Update(0, castagnoli, data), castagnoli, nb[:])
}
