package pack

import (
	"errors"
	"fmt"
)

// Pack target sizes. See docs/arch/erasure.md for the measurement behind
// the default.
const (
	DefaultTargetSize = 8 << 20
	MinTargetSize     = 64 << 10
	MaxTargetSize     = 64 << 20
)

// padSlack is the most bytes a k+m erasure code pads a pack with: shards
// are rounded up to 64 bytes and k <= 256, so k*S - L < 64*256. Builder
// buffers keep this much spare capacity so that erasure.Code.Encode codes
// the pack in place, without copying it.
const padSlack = 64 * 256

// ErrPackFull: Add on a Builder whose pack reached its target size.
var ErrPackFull = errors.New("pack: pack full")

// Options configure a Builder. The zero value gives the defaults.
type Options struct {
	// TargetSize is the pack size to aim for: a pack is full once it holds
	// at least TargetSize bytes, so a pack is at most TargetSize-1 +
	// MaxFrameLen bytes. 0 means DefaultTargetSize; otherwise it must be in
	// [MinTargetSize, MaxTargetSize].
	TargetSize int
	// Codec compresses each frame (CodecNone, the zero value, stores raw).
	Codec Codec
}

// ErrBadOptions: Options.Validate failed.
var ErrBadOptions = errors.New("pack: invalid options")

// Validate checks o.
func (o Options) Validate() error {
	if o.TargetSize != 0 && (o.TargetSize < MinTargetSize || o.TargetSize > MaxTargetSize) {
		return fmt.Errorf("%w: target size %d not in [%d, %d]", ErrBadOptions, o.TargetSize, MinTargetSize, MaxTargetSize)
	}
	if err := o.Codec.Validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrBadOptions, err)
	}
	return nil
}

func (o Options) targetSize() int {
	if o.TargetSize == 0 {
		return DefaultTargetSize
	}
	return o.TargetSize
}

// Frame locates a stored frame in its pack (meta.ChunkInfo Offset, Length).
type Frame struct {
	Offset int64 // byte offset of the frame in the pack
	Length int32 // stored length: tag + payload
}

// Builder fills one pack at a time with chunk frames. It is not safe for
// concurrent use: one Builder per upload stream.
//
// Its buffer is allocated once, with capacity TargetSize + MaxFrameLen +
// padSlack, and reused after Reset: adding a frame never allocates.
type Builder struct {
	target int
	codec  Codec
	buf    []byte // the pack so far; cap fixed at construction
	frames int
}

// NewBuilder returns an empty Builder.
func NewBuilder(o Options) (*Builder, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	t := o.targetSize()
	return &Builder{
		target: t,
		codec:  o.Codec,
		buf:    make([]byte, 0, t+MaxFrameLen+padSlack),
	}, nil
}

// Add appends the frame of one chunk's plaintext (compressed with the
// Builder's codec when that pays) and returns where it landed. It returns
// ErrTooLarge for a chunk over MaxPlainLen and ErrPackFull once Full.
func (b *Builder) Add(plain []byte) (Frame, error) {
	if len(plain) > MaxPlainLen {
		return Frame{}, fmt.Errorf("%w: %d bytes (max %d)", ErrTooLarge, len(plain), MaxPlainLen)
	}
	if b.Full() {
		return Frame{}, ErrPackFull
	}
	off := len(b.buf)
	b.buf = AppendFrame(b.buf, plain, b.codec)
	b.frames++
	return Frame{Offset: int64(off), Length: int32(len(b.buf) - off)}, nil
}

// Full reports whether the pack reached its target size; seal it (code and
// write it), then Reset.
func (b *Builder) Full() bool { return len(b.buf) >= b.target }

// Len returns the pack's length so far.
func (b *Builder) Len() int { return len(b.buf) }

// Frames returns the number of frames added since the last Reset.
func (b *Builder) Frames() int { return b.frames }

// TargetSize returns the target in effect.
func (b *Builder) TargetSize() int { return b.target }

// Bytes returns the pack. It aliases the Builder's buffer until the next Add
// or Reset, and its spare capacity lets erasure.Code.Encode use it in place
// (which overwrites bytes past len with zero padding): keep the Builder
// untouched until the shards are written.
func (b *Builder) Bytes() []byte { return b.buf }

// Reset empties the Builder for the next pack, keeping its buffer.
func (b *Builder) Reset() {
	b.buf = b.buf[:0]
	b.frames = 0
}
