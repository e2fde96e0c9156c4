package pack

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
)

// ID names a pack. The gateway that builds a pack draws it at random, so
// IDs never need coordination; metadata commits carry it in the log entry.
type ID [16]byte

// ErrBadID reports a pack ID that is not 32 hex digits.
var ErrBadID = errors.New("pack: malformed id")

// NewID returns a fresh random pack ID.
func NewID() ID {
	var id ID
	rand.Read(id[:]) // crypto/rand.Read never fails on supported platforms
	return id
}

// String returns the ID as 32 lowercase hex digits.
func (id ID) String() string { return hex.EncodeToString(id[:]) }

// ParseID parses the form String returns.
func ParseID(s string) (ID, error) {
	var id ID
	if len(s) != 2*len(id) {
		return id, fmt.Errorf("%w: %q", ErrBadID, s)
	}
	if _, err := hex.Decode(id[:], []byte(s)); err != nil {
		return id, fmt.Errorf("%w: %q", ErrBadID, s)
	}
	return id, nil
}
