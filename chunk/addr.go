package chunk

import (
	"encoding/hex"
	"errors"
	"fmt"
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
