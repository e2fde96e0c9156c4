package meta

import (
	"context"
	"errors"
)

// Error codes carry errors across the metad RPC. The table is append only:
// a code, once given, keeps its meaning forever. Do not reorder.
const (
	CodeOK      uint32 = 0 // nil error
	CodeUnknown uint32 = 1 // an error matching no sentinel
)

// codes maps code-2 to its sentinel. Append only; do not reorder.
var codes = [...]error{
	ErrNoSuchBucket,          // 2
	ErrBucketExists,          // 3
	ErrBucketOwnedByYou,      // 4
	ErrBucketNotEmpty,        // 5
	ErrInvalidBucketName,     // 6
	ErrInvalidKey,            // 7
	ErrNoSuchKey,             // 8
	ErrNoSuchUpload,          // 9
	ErrInvalidPart,           // 10
	ErrInvalidPartOrder,      // 11
	ErrEntityTooSmall,        // 12
	ErrPrecondition,          // 13
	ErrMissingChunks,         // 14 (*MissingChunksError; its Addrs travel separately)
	ErrNoSuchUser,            // 15
	ErrUserExists,            // 16
	ErrNoSuchPool,            // 17
	ErrNoSuchNode,            // 18
	ErrInvalidArgument,       // 19
	ErrNotLeader,             // 20
	ErrUnavailable,           // 21
	context.Canceled,         // 22
	context.DeadlineExceeded, // 23
	ErrNoSuchConfig,          // 24
	ErrNoSuchVersion,         // 25
}

// Code returns err's stable code: CodeOK for nil, the code of the first
// sentinel err matches, or CodeUnknown.
func Code(err error) uint32 {
	if err == nil {
		return CodeOK
	}
	for i, s := range codes {
		if errors.Is(err, s) {
			return uint32(i) + 2
		}
	}
	return CodeUnknown
}

// FromCode rebuilds an error from a code and its message: nil for CodeOK,
// an error that matches the code's sentinel (errors.Is) and prints msg
// otherwise. For ErrMissingChunks the caller that also carries the
// addresses should build a *MissingChunksError itself.
func FromCode(code uint32, msg string) error {
	if code == CodeOK {
		return nil
	}
	if code >= 2 && int(code-2) < len(codes) {
		s := codes[code-2]
		if msg == "" {
			return s
		}
		return &codedError{sentinel: s, msg: msg}
	}
	if msg == "" {
		msg = "meta: unknown error"
	}
	return errors.New(msg)
}

// codedError is an error that came back over the wire.
type codedError struct {
	sentinel error
	msg      string
}

func (e *codedError) Error() string { return e.msg }
func (e *codedError) Unwrap() error { return e.sentinel }
