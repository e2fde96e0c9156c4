package chunk

import (
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/zeebo/blake3"
)

// Addr is a chunk's identity: the BLAKE3-256 of its plaintext, unkeyed in the
// cluster-wide dedup domain and keyed with the domain key in a private one.
type Addr [32]byte

// ErrBadAddr reports a chunk address that is not 64 hex digits.
var ErrBadAddr = errors.New("chunk: malformed address")

// String returns the address as 64 lowercase hex digits.
func (a Addr) String() string { return hex.EncodeToString(a[:]) }

// ParseAddr parses the form String returns.
func ParseAddr(s string) (Addr, error) {
	var a Addr
	if len(s) != 2*len(a) {
		return a, fmt.Errorf("%w: %q", ErrBadAddr, s)
	}
	if _, err := hex.Decode(a[:], []byte(s)); err != nil {
		return a, fmt.Errorf("%w: %q", ErrBadAddr, s)
	}
	return a, nil
}

// Sum returns the address of data: BLAKE3-256, keyed with key in a private
// dedup domain (key must be KeySize bytes) and unkeyed when key is nil. It
// is the address the Splitter gives a chunk; readers use it to verify.
func Sum(key, data []byte) (Addr, error) {
	if key == nil {
		return blake3.Sum256(data), nil
	}
	h, err := blake3.NewKeyed(key)
	if err != nil {
		return Addr{}, fmt.Errorf("%w: %v", ErrBadOptions, err)
	}
	h.Write(data)
	var a Addr
	h.Sum(a[:0])
	return a, nil
}
