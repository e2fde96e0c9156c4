package shard

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/tessera-store/tessera/store"
)

// readBatch is the target number of framed bytes one underlying ReadAt
// fetches; a larger range is read in several contiguous batches.
const readBatch = 1 << 20

// Reader reads a framed shard's data through an io.ReaderAt, verifying the
// checksum of every block a read touches. Safe for concurrent use if the
// underlying ReaderAt is.
type Reader struct {
	ra  io.ReaderAt
	h   Header
	bs  int64
	per int64 // framed bytes per full block
}

// NewReader reads and checks the header of the framed shard in ra. If size
// is not negative it is the framed shard's total size and must match the
// header. Errors match store.ErrCorrupt when the bytes are malformed; I/O
// errors of ra are returned wrapped.
func NewReader(ra io.ReaderAt, size int64) (*Reader, error) {
	var hb [HeaderSize]byte
	n, err := ra.ReadAt(hb[:], 0)
	if n < HeaderSize {
		if err == nil || errors.Is(err, io.EOF) {
			return nil, badHeader("short file: %d bytes", n)
		}
		return nil, fmt.Errorf("shard: read header: %w", err)
	}
	h, err := ParseHeader(hb[:])
	if err != nil {
		return nil, err
	}
	if size >= 0 && size != h.FramedSize() {
		return nil, badBlock("file is %d bytes, header implies %d", size, h.FramedSize())
	}
	bs := int64(h.BlockSize)
	return &Reader{ra: ra, h: h, bs: bs, per: bs + ChecksumSize}, nil
}

// Header returns the shard's header.
func (r *Reader) Header() Header { return r.h }

// Size returns the data length.
func (r *Reader) Size() int64 { return r.h.Length }

// ReadAt reads data bytes [off, off+len(p)) with io.ReaderAt semantics: a
// read reaching past the end returns the bytes before it and io.EOF. A block
// that fails its checksum, or is cut short, yields an error matching
// ErrBadBlock and store.ErrCorrupt naming the block; bytes of blocks that
// were not verified are never returned (p may hold them, n excludes them).
func (r *Reader) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("shard: negative offset %d", off)
	}
	if off >= r.h.Length {
		if len(p) == 0 {
			return 0, nil
		}
		return 0, io.EOF
	}
	want := p
	if rest := r.h.Length - off; int64(len(p)) > rest {
		want = p[:rest]
	}
	blocksPerBatch := max(1, readBatch/r.per)
	first, last := off/r.bs, (off+int64(len(want))-1)/r.bs
	need := min(last-first+1, blocksPerBatch) * r.per
	bp := getBuf(int(need))
	defer putBuf(bp)
	n := 0
	for n < len(want) {
		pos := off + int64(n)
		first := pos / r.bs
		last := (off + int64(len(want)) - 1) / r.bs
		last = min(last, first+blocksPerBatch-1)
		start := HeaderSize + first*r.per
		end := HeaderSize + last*r.per + r.blockLen(last) + ChecksumSize
		buf := (*bp)[:end-start] // end-start <= need
		m, err := r.ra.ReadAt(buf, start)
		if m < len(buf) {
			if err == nil || errors.Is(err, io.EOF) {
				return n, badBlock("block %d: truncated at framed offset %d", first+int64(m)/r.per, start+int64(m))
			}
			return n, fmt.Errorf("shard: read blocks %d-%d: %w", first, last, err)
		}
		for b := first; b <= last; b++ {
			fb := buf[(b-first)*r.per:]
			bl := r.blockLen(b)
			data := fb[:bl]
			if got, want := blockSum(data, b), binary.LittleEndian.Uint32(fb[bl:]); got != want {
				return n, badBlock("block %d of %v/%d: checksum %08x, want %08x", b, r.h.Pack, r.h.Index, got, want)
			}
			// Copy the verified part of block b that the caller asked for.
			bstart := b * r.bs
			lo := max(pos, bstart) - bstart
			c := copy(want[n:], data[lo:])
			n += c
			pos += int64(c)
		}
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// blockLen is the data length of block b.
func (r *Reader) blockLen(b int64) int64 {
	return min(r.bs, r.h.Length-b*r.bs)
}

func badBlock(format string, args ...any) error {
	return fmt.Errorf("%w: %s: %w", ErrBadBlock, fmt.Sprintf(format, args...), store.ErrCorrupt)
}

// bufPools holds one sync.Pool of *[]byte per power-of-two size class
// from 4 KiB up; a read borrows the smallest class that fits.
var bufPools [32]sync.Pool

func sizeClass(n int) int {
	c := 12
	for 1<<c < n {
		c++
	}
	return c
}

func getBuf(n int) *[]byte {
	c := sizeClass(n)
	if b, ok := bufPools[c].Get().(*[]byte); ok {
		return b
	}
	b := make([]byte, 1<<c)
	return &b
}

func putBuf(b *[]byte) {
	bufPools[sizeClass(cap(*b))].Put(b)
}

// ReadRange reads exactly data bytes [off, off+len(p)) as store.Store.ReadAt
// specifies: a range not inside the data fails with store.ErrOutOfRange,
// a bad block with store.ErrCorrupt.
func (r *Reader) ReadRange(p []byte, off int64) error {
	if off < 0 || off > r.h.Length || int64(len(p)) > r.h.Length-off {
		return fmt.Errorf("shard: range [%d, +%d) of %d: %w", off, len(p), r.h.Length, store.ErrOutOfRange)
	}
	_, err := r.ReadAt(p, off)
	return err
}
