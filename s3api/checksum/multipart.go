package checksum

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
)

// Part is one part's raw checksum and size, in part-number order.
type Part struct {
	Sum  []byte
	Size int64
}

// CompositeSum returns the COMPOSITE checksum of parts: the algorithm's
// digest of the concatenated raw part checksums.
func (a Algorithm) CompositeSum(parts []Part) ([]byte, error) {
	h := a.New()
	if h == nil || !a.Supports(Composite) {
		return nil, fmt.Errorf("%w: %s has no composite form", ErrInvalidChecksum, a)
	}
	for i, p := range parts {
		if len(p.Sum) != a.Size() {
			return nil, fmt.Errorf("%w: part %d: %s checksum of %d bytes", ErrInvalidChecksum, i+1, a, len(p.Sum))
		}
		h.Write(p.Sum)
	}
	return h.Sum(nil), nil
}

// CompositeValue returns the COMPOSITE value as S3 shows it: base64 of
// CompositeSum, "-", the number of parts.
func (a Algorithm) CompositeValue(parts []Part) (string, error) {
	sum, err := a.CompositeSum(parts)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s-%d", Encode(sum), len(parts)), nil
}

// FullObjectSum returns the FULL_OBJECT checksum of parts: the CRC of the
// concatenated part data, computed from the part CRCs and sizes.
func (a Algorithm) FullObjectSum(parts []Part) ([]byte, error) {
	if !a.IsCRC() {
		return nil, fmt.Errorf("%w: %s has no full-object form", ErrInvalidChecksum, a)
	}
	acc := a.Sum(nil) // CRC of the empty string
	for i, p := range parts {
		if len(p.Sum) != a.Size() || p.Size < 0 {
			return nil, fmt.Errorf("%w: part %d: %s checksum of %d bytes, size %d", ErrInvalidChecksum, i+1, a, len(p.Sum), p.Size)
		}
		var err error
		if acc, err = a.Combine(acc, p.Sum, p.Size); err != nil {
			return nil, err
		}
	}
	return acc, nil
}

// Combine returns the CRC of A||B from crc(A) (sum1), crc(B) (sum2) and
// len(B), for CRC32, CRC32C and CRC64NVME. Raw sums are big-endian.
func (a Algorithm) Combine(sum1, sum2 []byte, len2 int64) ([]byte, error) {
	if len(sum1) != a.Size() || len(sum2) != a.Size() || len2 < 0 {
		return nil, fmt.Errorf("%w: combine %s: sums of %d and %d bytes, length %d", ErrInvalidChecksum, a, len(sum1), len(sum2), len2)
	}
	switch a {
	case CRC32, CRC32C:
		poly := uint32(crc32.IEEE)
		if a == CRC32C {
			poly = crc32.Castagnoli
		}
		c := CRC32Combine(poly, binary.BigEndian.Uint32(sum1), binary.BigEndian.Uint32(sum2), len2)
		return binary.BigEndian.AppendUint32(nil, c), nil
	case CRC64NVME:
		c := CRC64Combine(crc64NVMEReversed, binary.BigEndian.Uint64(sum1), binary.BigEndian.Uint64(sum2), len2)
		return binary.BigEndian.AppendUint64(nil, c), nil
	}
	return nil, fmt.Errorf("%w: %s cannot be combined", ErrInvalidChecksum, a)
}

// CRC32Combine returns crc(A||B) from crc1 = crc(A), crc2 = crc(B) and
// len2 = len(B), for a reflected CRC-32 with polynomial poly (crc32.IEEE,
// crc32.Castagnoli) and the usual all-ones init and final xor. It follows
// zlib's crc32_combine: append len2 zero bytes to crc1 by multiplying with
// x^(8*len2) mod P, computed by repeated squaring in GF(2) (O(log len2)).
func CRC32Combine(poly uint32, crc1, crc2 uint32, len2 int64) uint32 {
	if len2 <= 0 {
		return crc1
	}
	// xpow = x^(8*len2) mod P, by squaring x^1 ... in the reflected domain.
	p := uint64(poly)
	mul := func(a, b uint64) uint64 { return gf2MulMod(a, b, p, 32) }
	xpow := xPow8n(uint64(len2), mul, 32)
	return uint32(mul(uint64(crc1), xpow)) ^ crc2
}

// CRC64Combine is CRC32Combine for a reflected CRC-64 with polynomial poly
// in hash/crc64's (reversed) form.
func CRC64Combine(poly uint64, crc1, crc2 uint64, len2 int64) uint64 {
	if len2 <= 0 {
		return crc1
	}
	mul := func(a, b uint64) uint64 { return gf2MulMod(a, b, poly, 64) }
	xpow := xPow8n(uint64(len2), mul, 64)
	return mul(crc1, xpow) ^ crc2
}

// gf2MulMod multiplies a and b modulo the reflected polynomial poly of
// degree width, in the bit-reflected representation (bit width-1 is x^0).
func gf2MulMod(a, b, poly uint64, width uint) uint64 {
	top := uint64(1) << (width - 1)
	var prod uint64
	for i := uint(0); i < width; i++ {
		if a&top != 0 {
			prod ^= b
		}
		a <<= 1
		// b *= x: a right shift in the reflected domain.
		if b&1 != 0 {
			b = b>>1 ^ poly
		} else {
			b >>= 1
		}
	}
	if width < 64 {
		prod &= 1<<width - 1
	}
	return prod
}

// xPow8n returns x^(8n) mod P in the reflected domain.
func xPow8n(n uint64, mul func(a, b uint64) uint64, width uint) uint64 {
	// In the reflected domain, x^0 is the top bit and x^1 the next one.
	one := uint64(1) << (width - 1)
	result := one
	// base = x^8.
	base := one >> 8
	for n > 0 {
		if n&1 != 0 {
			result = mul(result, base)
		}
		base = mul(base, base)
		n >>= 1
	}
	return result
}
