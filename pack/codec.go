package pack

import (
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"

	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/zstd"
)

// Errors. Functions wrap them with %w; match with errors.Is.
var (
	// ErrCorruptFrame: a frame that does not decode to exactly the expected
	// plaintext length (unknown tag, truncated or damaged payload).
	ErrCorruptFrame = errors.New("pack: corrupt frame")
	// ErrTooLarge: a plaintext longer than MaxPlainLen.
	ErrTooLarge = errors.New("pack: chunk too large")
	// ErrBadCodec: an unknown codec name or value.
	ErrBadCodec = errors.New("pack: unknown codec")
)

// Codec is the compression a writer asks for. It is not stored: the frame
// tag says how a frame was actually stored (see frame.go).
type Codec uint8

// Codecs.
const (
	CodecNone        Codec = iota // store raw
	CodecZstdFastest              // zstd, level "fastest" (~zstd -1)
	CodecZstd                     // zstd, level "default" (~zstd -3)
	CodecZstdBetter               // zstd, level "better" (~zstd -7)
	CodecS2                       // S2 block format
)

var codecNames = [...]string{
	CodecNone:        "none",
	CodecZstdFastest: "zstd-fastest",
	CodecZstd:        "zstd",
	CodecZstdBetter:  "zstd-better",
	CodecS2:          "s2",
}

// String returns the codec's name, as ParseCodec accepts it.
func (c Codec) String() string {
	if int(c) < len(codecNames) {
		return codecNames[c]
	}
	return fmt.Sprintf("codec(%d)", uint8(c))
}

// ParseCodec parses a codec name: "none", "zstd", "zstd-fastest",
// "zstd-better" or "s2" (meta.Pool.Codec). "" means CodecNone.
func ParseCodec(s string) (Codec, error) {
	if s == "" {
		return CodecNone, nil
	}
	for c, name := range codecNames {
		if s == name {
			return Codec(c), nil
		}
	}
	return CodecNone, fmt.Errorf("%w: %q", ErrBadCodec, s)
}

// Validate reports whether c is a known codec.
func (c Codec) Validate() error {
	if int(c) >= len(codecNames) {
		return fmt.Errorf("%w: %d", ErrBadCodec, uint8(c))
	}
	return nil
}

// MinSavingDiv sets when compression pays: a compressed payload is kept
// only if it is at most plain - plain/MinSavingDiv bytes, i.e. it saves at
// least 1/8 of the chunk; otherwise the frame is stored raw, which costs
// nothing to decode. Measured in docs/arch/erasure.md: Go source chunks
// save 70-80% and random chunks expand, so the exact value rarely decides;
// 1/8 keeps partially compressible chunks (media containers, already
// compressed archives with headers) raw where decoding would cost more CPU
// than the bytes save.
const MinSavingDiv = 8

func pays(compressed, plain int) bool {
	return compressed <= plain-plain/MinSavingDiv
}

// probeLen is the size of each sample incompressible tests.
const probeLen = 4 << 10

// incompressible guesses, from S2 encodings of two small samples (start and
// middle), that zstd would not make plain pay. zstd spends 4-50 µs per
// 64 KiB of random bytes finding that out (mostly copying into its
// history); S2 rejects a 4 KiB random sample in well under a microsecond.
// Chunks below 4 samples are always tried. A wrong guess only costs
// compression, never correctness: the frame is then stored raw.
func incompressible(plain []byte) bool {
	if len(plain) < 4*probeLen {
		return false
	}
	var buf [probeLen + probeLen/8 + 64]byte
	for _, off := range [2]int{0, len(plain)/2 - probeLen/2} {
		enc := s2.Encode(buf[:], plain[off:off+probeLen])
		// S2 finds less than zstd: demand that it save at least 1/32
		// before calling a sample compressible.
		if len(enc) < probeLen-probeLen/32 {
			return false
		}
	}
	return true
}

// frameBound bounds the bytes AppendFrame may write for plain bytes:
// tag, plus the largest zstd or S2 encoding of plain.
func frameBound(plain int) int {
	// zstd: frame header <= 18 bytes plus a few bytes per block; measured
	// +203 bytes for 4 MiB of random bytes at level fastest (TestFrameBound),
	// so allow 1/1024. S2's MaxEncodedLen is smaller than this.
	return 1 + plain + plain>>10 + 64
}

// Encoders and the decoder are built on first use and shared: EncodeAll and
// DecodeAll are safe for concurrent use and keep up to GOMAXPROCS internal
// states each, so steady-state frame coding reuses them without allocating.
var (
	zstdEncoders = [...]func() *zstd.Encoder{
		CodecZstdFastest: sync.OnceValue(func() *zstd.Encoder { return newZstdEncoder(zstd.SpeedFastest) }),
		CodecZstd:        sync.OnceValue(func() *zstd.Encoder { return newZstdEncoder(zstd.SpeedDefault) }),
		CodecZstdBetter:  sync.OnceValue(func() *zstd.Encoder { return newZstdEncoder(zstd.SpeedBetterCompression) }),
	}
	zstdDecoder = sync.OnceValue(func() *zstd.Decoder {
		d, err := zstd.NewReader(nil,
			zstd.WithDecoderConcurrency(runtime.GOMAXPROCS(0)),
			zstd.WithDecoderMaxMemory(MaxPlainLen),
			zstd.WithDecoderMaxWindow(MaxPlainLen),
			zstd.WithDecodeAllCapLimit(true),
			zstd.IgnoreChecksum(true))
		if err != nil {
			panic("pack: zstd decoder options: " + err.Error()) // constant options: programmer error
		}
		return d
	})
)

func newZstdEncoder(l zstd.EncoderLevel) *zstd.Encoder {
	e, err := zstd.NewWriter(nil,
		zstd.WithEncoderLevel(l),
		zstd.WithEncoderCRC(false), // the chunk's BLAKE3 is checked after decoding
		zstd.WithEncoderConcurrency(runtime.GOMAXPROCS(0)),
		zstd.WithWindowSize(1<<20))
	if err != nil {
		panic("pack: zstd encoder options: " + err.Error()) // constant options: programmer error
	}
	return e
}

// AppendFrame appends the stored frame of plain, compressed with c, to dst
// and returns the extended slice. The frame is raw (TagRaw) when c is
// CodecNone or unknown, or when compression saves less than 1/MinSavingDiv.
// DecodeFrame accepts only plaintexts up to MaxPlainLen bytes (Builder
// enforces it). When cap(dst)-len(dst) >= frameBound(len(plain)) (MaxFrameLen
// covers any valid chunk) AppendFrame does not allocate.
func AppendFrame(dst, plain []byte, c Codec) []byte {
	if len(plain) == 0 {
		return append(dst, TagRaw)
	}
	base := len(dst)
	switch c {
	case CodecZstdFastest, CodecZstd, CodecZstdBetter:
		if incompressible(plain) {
			break
		}
		dst = slices.Grow(dst, frameBound(len(plain)))
		dst = append(dst, TagZstd)
		dst = zstdEncoders[c]().EncodeAll(plain, dst)
		if pays(len(dst)-base-1, len(plain)) {
			return dst
		}
		dst = dst[:base]
	case CodecS2:
		bound := s2.MaxEncodedLen(len(plain))
		if bound < 0 {
			break // too large for S2: raw
		}
		dst = slices.Grow(dst, 1+bound)
		enc := s2.Encode(dst[base+1:base+1+bound], plain)
		if pays(len(enc), len(plain)) {
			dst = dst[:base+1+len(enc)]
			dst[base] = TagS2
			return dst
		}
	}
	dst = append(dst, TagRaw)
	return append(dst, plain...)
}

// DecodeFrame decodes a stored frame whose plaintext is plainLen bytes long
// and appends the plaintext to dst. plainLen comes from the chunk index and
// must be at most MaxPlainLen (else ErrTooLarge); DecodeFrame grows dst by
// at most plainLen bytes whatever the frame holds. A frame that does not
// decode to exactly plainLen bytes returns an error wrapping
// ErrCorruptFrame, and dst unchanged. Raw frames are not verified: the
// caller checks the chunk's BLAKE3.
//
// With dst nil, a raw frame's plaintext is returned in place: the result
// aliases frame (no copy; GET profiles showed the copy at 7% of CPU).
func DecodeFrame(dst, frame []byte, plainLen int) ([]byte, error) {
	if plainLen < 0 || plainLen > MaxPlainLen {
		return dst, fmt.Errorf("%w: plaintext length %d (max %d)", ErrTooLarge, plainLen, MaxPlainLen)
	}
	if len(frame) == 0 {
		return dst, fmt.Errorf("%w: empty frame", ErrCorruptFrame)
	}
	tag, payload := frame[0], frame[1:]
	base := len(dst)
	switch tag {
	case TagRaw:
		if len(payload) != plainLen {
			return dst, fmt.Errorf("%w: raw payload of %d bytes, want %d", ErrCorruptFrame, len(payload), plainLen)
		}
		if dst == nil {
			return payload, nil
		}
		return append(dst, payload...), nil
	case TagZstd:
		grown := slices.Grow(dst, plainLen)
		// The 3-index slice caps the decoder's output at plainLen bytes.
		out, err := zstdDecoder().DecodeAll(payload, grown[base:base:base+plainLen])
		if err != nil {
			return dst, fmt.Errorf("%w: zstd: %v", ErrCorruptFrame, err)
		}
		if len(out) != plainLen || cap(out) != plainLen {
			return dst, fmt.Errorf("%w: zstd payload decodes to %d bytes, want %d", ErrCorruptFrame, len(out), plainLen)
		}
		return grown[:base+plainLen], nil
	case TagS2:
		n, err := s2.DecodedLen(payload)
		if err != nil {
			return dst, fmt.Errorf("%w: s2: %v", ErrCorruptFrame, err)
		}
		if n != plainLen {
			return dst, fmt.Errorf("%w: s2 payload holds %d bytes, want %d", ErrCorruptFrame, n, plainLen)
		}
		grown := slices.Grow(dst, plainLen)
		if _, err := s2.Decode(grown[base:base+plainLen], payload); err != nil {
			return dst, fmt.Errorf("%w: s2: %v", ErrCorruptFrame, err)
		}
		return grown[:base+plainLen], nil
	}
	return dst, fmt.Errorf("%w: unknown tag %d", ErrCorruptFrame, tag)
}
