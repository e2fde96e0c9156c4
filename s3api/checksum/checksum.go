// Package checksum implements the S3 additional checksums: the algorithms
// (CRC32, CRC32C, CRC64NVME, SHA1, SHA256, and the MD5, SHA512, XXHASH64,
// XXHASH3, XXHASH128 names that newer S3 APIs and minio-go send), the
// x-amz-checksum-* headers, and the multipart forms: COMPOSITE (a checksum
// of the concatenated raw part checksums, written "<base64>-<parts>") and
// FULL_OBJECT (the CRC of the whole object, computed from the part CRCs and
// sizes by CRC combination, without reading the data again).
//
// Values travel as standard base64 of the big-endian raw digest, as AWS
// sends them.
package checksum

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"hash/crc64"
	"net/http"
	"strings"

	"github.com/cespare/xxhash/v2"
	"github.com/zeebo/xxh3"
)

// Sentinel errors.
var (
	// ErrInvalidChecksum: a malformed checksum header (bad base64, wrong
	// length, unknown algorithm, conflicting headers); S3 answers 400
	// InvalidRequest.
	ErrInvalidChecksum = errors.New("checksum: invalid checksum")
	// ErrBadDigest: the value does not match the data; S3 answers 400
	// BadDigest.
	ErrBadDigest = errors.New("checksum: value does not match the data")
)

// Algorithm is an S3 checksum algorithm. The zero value None means no
// checksum.
type Algorithm int

// The algorithms. The numbering is internal; persist String().
const (
	None Algorithm = iota
	CRC32
	CRC32C
	CRC64NVME
	SHA1
	SHA256
	MD5
	SHA512
	XXHASH64
	XXHASH3
	XXHASH128
	numAlgorithms
)

// Algorithms lists every algorithm (None excluded).
func Algorithms() []Algorithm {
	out := make([]Algorithm, 0, numAlgorithms-1)
	for a := CRC32; a < numAlgorithms; a++ {
		out = append(out, a)
	}
	return out
}

var names = [numAlgorithms]string{"", "CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256", "MD5", "SHA512", "XXHASH64", "XXHASH3", "XXHASH128"}

var sizes = [numAlgorithms]int{0, 4, 4, 8, sha1.Size, sha256.Size, md5.Size, sha512.Size, 8, 8, 16}

// crc64NVMEReversed is the CRC-64/NVME polynomial 0xad93d23594c93659 in the
// bit-reversed form hash/crc64 wants (the AWS SDK's crc64NVME).
const crc64NVMEReversed = 0x9a6c9329ac4bc9b5

var (
	castagnoli = crc32.MakeTable(crc32.Castagnoli)
	nvme       = crc64.MakeTable(crc64NVMEReversed)
)

// Parse returns the algorithm named name, case-insensitively ("crc32c").
func Parse(name string) (Algorithm, error) {
	u := strings.ToUpper(strings.TrimSpace(name))
	for a := CRC32; a < numAlgorithms; a++ {
		if names[a] == u {
			return a, nil
		}
	}
	if len(name) > 32 {
		name = name[:32] + "..."
	}
	return None, fmt.Errorf("%w: unknown algorithm %q", ErrInvalidChecksum, name)
}

// String returns the S3 name ("CRC32C"); "" for None.
func (a Algorithm) String() string {
	if a < 0 || a >= numAlgorithms {
		return fmt.Sprintf("Algorithm(%d)", int(a))
	}
	return names[a]
}

// Header returns the header carrying the value: "x-amz-checksum-crc32c".
func (a Algorithm) Header() string {
	if a <= None || a >= numAlgorithms {
		return ""
	}
	return "x-amz-checksum-" + strings.ToLower(names[a])
}

// Size returns the raw digest length in bytes (0 for None).
func (a Algorithm) Size() int {
	if a < 0 || a >= numAlgorithms {
		return 0
	}
	return sizes[a]
}

// New returns a hash computing the algorithm; its Sum is the raw big-endian
// digest. New returns nil for None or an unknown value.
func (a Algorithm) New() hash.Hash {
	switch a {
	case CRC32:
		return crc32.NewIEEE()
	case CRC32C:
		return crc32.New(castagnoli)
	case CRC64NVME:
		return crc64.New(nvme)
	case SHA1:
		return sha1.New()
	case SHA256:
		return sha256.New()
	case MD5:
		return md5.New()
	case SHA512:
		return sha512.New()
	case XXHASH64:
		return xxhash.New()
	case XXHASH3:
		return xxh3.New()
	case XXHASH128:
		return xxh3.New128()
	}
	return nil
}

// IsCRC reports whether the algorithm is a CRC (FULL_OBJECT capable).
func (a Algorithm) IsCRC() bool { return a == CRC32 || a == CRC32C || a == CRC64NVME }

// Sum returns the raw digest of b.
func (a Algorithm) Sum(b []byte) []byte {
	h := a.New()
	if h == nil {
		return nil
	}
	h.Write(b)
	return h.Sum(nil)
}

// Encode returns the base64 form of a raw digest.
func Encode(raw []byte) string { return base64.StdEncoding.EncodeToString(raw) }

// Decode parses a base64 value of the algorithm (ErrInvalidChecksum when it
// is not base64 of Size bytes).
func (a Algorithm) Decode(value string) ([]byte, error) {
	if a.Size() == 0 {
		return nil, fmt.Errorf("%w: no algorithm", ErrInvalidChecksum)
	}
	if base64.StdEncoding.EncodedLen(a.Size()) != len(value) {
		return nil, fmt.Errorf("%w: %s value %q has the wrong length", ErrInvalidChecksum, a, trunc(value))
	}
	raw, err := base64.StdEncoding.Strict().DecodeString(value)
	if err != nil || len(raw) != a.Size() {
		return nil, fmt.Errorf("%w: %s value %q is not base64 of %d bytes", ErrInvalidChecksum, a, trunc(value), a.Size())
	}
	return raw, nil
}

// Verify checks that value (base64) is the digest raw: ErrInvalidChecksum
// when value is malformed, ErrBadDigest when it differs.
func (a Algorithm) Verify(value string, raw []byte) error {
	want, err := a.Decode(value)
	if err != nil {
		return err
	}
	if string(want) != string(raw) {
		return fmt.Errorf("%w: %s declared %s, computed %s", ErrBadDigest, a, value, Encode(raw))
	}
	return nil
}

func trunc(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}

// FromHeaders finds the checksum a request declares:
//
//   - an x-amz-checksum-<alg> header: (alg, value, false); the value is
//     validated (base64 of the right length) but not checked against data;
//   - an x-amz-trailer naming an x-amz-checksum-<alg> trailer: (alg, "", true);
//   - only x-amz-sdk-checksum-algorithm: (alg, "", false): the client asked
//     for the algorithm without sending a value;
//   - nothing: (None, "", false, nil).
//
// More than one checksum header, an x-amz-sdk-checksum-algorithm that names
// another algorithm than the value or trailer, an unknown algorithm or a
// malformed value are ErrInvalidChecksum.
func FromHeaders(h http.Header) (alg Algorithm, value string, trailer bool, err error) {
	for a := CRC32; a < numAlgorithms; a++ {
		vs := h.Values(a.Header())
		if len(vs) == 0 {
			continue
		}
		if alg != None || len(vs) > 1 {
			return None, "", false, fmt.Errorf("%w: expecting a single x-amz-checksum- header", ErrInvalidChecksum)
		}
		if _, err := a.Decode(vs[0]); err != nil {
			return None, "", false, err
		}
		alg, value = a, vs[0]
	}
	// Unknown x-amz-checksum-* value headers are errors too, so that a
	// checksum the client relies on is never silently ignored.
	for k := range h {
		lk := strings.ToLower(k)
		if rest, ok := strings.CutPrefix(lk, "x-amz-checksum-"); ok && rest != "algorithm" && rest != "type" && rest != "mode" {
			if _, err := Parse(rest); err != nil {
				return None, "", false, err
			}
		}
	}
	if t := strings.TrimSpace(h.Get("X-Amz-Trailer")); t != "" {
		rest, ok := strings.CutPrefix(strings.ToLower(t), "x-amz-checksum-")
		if !ok {
			return None, "", false, fmt.Errorf("%w: unsupported x-amz-trailer %q", ErrInvalidChecksum, trunc(t))
		}
		a, err := Parse(rest)
		if err != nil {
			return None, "", false, err
		}
		if alg != None {
			return None, "", false, fmt.Errorf("%w: both x-amz-checksum- header and x-amz-trailer", ErrInvalidChecksum)
		}
		alg, trailer = a, true
	}
	if s := h.Get("X-Amz-Sdk-Checksum-Algorithm"); s != "" {
		a, err := Parse(s)
		if err != nil {
			return None, "", false, err
		}
		if alg != None && a != alg {
			return None, "", false, fmt.Errorf("%w: x-amz-sdk-checksum-algorithm %s does not match %s", ErrInvalidChecksum, a, alg)
		}
		alg = a
	}
	return alg, value, trailer, nil
}

// Type is a multipart checksum type (x-amz-checksum-type).
type Type int

// The multipart checksum types.
const (
	Composite  Type = iota + 1 // checksum of the part checksums, "-N" suffix
	FullObject                 // CRC of the whole object
)

// String returns "COMPOSITE" or "FULL_OBJECT".
func (t Type) String() string {
	switch t {
	case Composite:
		return "COMPOSITE"
	case FullObject:
		return "FULL_OBJECT"
	}
	return ""
}

// ParseType parses an x-amz-checksum-type value.
func ParseType(s string) (Type, error) {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "COMPOSITE":
		return Composite, nil
	case "FULL_OBJECT":
		return FullObject, nil
	}
	return 0, fmt.Errorf("%w: checksum type %q", ErrInvalidChecksum, trunc(s))
}

// DefaultType returns the multipart type AWS uses when the client names
// none: FULL_OBJECT for CRC64NVME, COMPOSITE otherwise.
func (a Algorithm) DefaultType() Type {
	if a == CRC64NVME {
		return FullObject
	}
	return Composite
}

// Supports reports whether the algorithm can be used with the multipart type
// (AWS: COMPOSITE for all but CRC64NVME, FULL_OBJECT for the CRCs).
func (a Algorithm) Supports(t Type) bool {
	switch t {
	case Composite:
		return a > None && a < numAlgorithms && a != CRC64NVME
	case FullObject:
		return a.IsCRC()
	}
	return false
}
