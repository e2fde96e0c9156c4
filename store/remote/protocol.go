// Package remote is a store.Store that talks to a storage node (package node)
// over plain HTTP/1.1, and the definition of that protocol.
//
// Protocol (all paths under the node's address):
//
//	PUT    /shard/<pack>/<index>?k=K&m=M&size=N  body: exactly N data bytes -> 201
//	GET    /shard/<pack>/<index>?off=O&len=L     -> 200, body: L verified bytes
//	HEAD   /shard/<pack>/<index>                 -> 200, X-Tessera-Size/-K/-M
//	DELETE /shard/<pack>/<index>                 -> 204
//	GET    /shards                               -> 200, JSON lines (WalkLine)
//	GET    /usage                                -> 200, JSON store.Usage
//	GET    /healthz                              -> 200
//
// <pack> is the pack ID in hex, <index> a decimal shard index. A failed
// request carries the header X-Tessera-Error with a code from the
// append-only table below; the client maps it back to the store sentinel.
// A GET of more than MaxRead bytes is refused; the client splits larger
// reads.
package remote

import (
	"errors"
	"net/http"

	"github.com/tessera-store/tessera/store"
)

// Wire names.
const (
	ErrorHeader = "X-Tessera-Error"
	SizeHeader  = "X-Tessera-Size"
	KHeader     = "X-Tessera-K"
	MHeader     = "X-Tessera-M"
	// MaxRead is the largest range one GET may ask for.
	MaxRead = 16 << 20
)

// ErrBadRequest: the node refused a malformed request (bad pack ID, index,
// sizes or shard header fields).
var ErrBadRequest = errors.New("remote: bad request")

// codes is the wire table. Append only: never reorder or reuse a code.
var codes = []struct {
	code   string
	err    error
	status int
}{
	{"notfound", store.ErrNotFound, http.StatusNotFound},
	{"exists", store.ErrExists, http.StatusConflict},
	{"corrupt", store.ErrCorrupt, http.StatusUnprocessableEntity},
	{"nospace", store.ErrNoSpace, http.StatusInsufficientStorage},
	{"drivefailed", store.ErrDriveFailed, http.StatusServiceUnavailable},
	{"unavailable", store.ErrUnavailable, http.StatusServiceUnavailable},
	{"outofrange", store.ErrOutOfRange, http.StatusRequestedRangeNotSatisfiable},
	{"badrequest", ErrBadRequest, http.StatusBadRequest},
}

// ErrorCode returns the wire code and HTTP status for err: the first
// sentinel of the table err matches, else "internal" and 500.
func ErrorCode(err error) (code string, status int) {
	for _, c := range codes {
		if errors.Is(err, c.err) {
			return c.code, c.status
		}
	}
	return "internal", http.StatusInternalServerError
}

// codeError returns the sentinel for a wire code, or nil if unknown.
func codeError(code string) error {
	for _, c := range codes {
		if c.code == code {
			return c.err
		}
	}
	return nil
}

// WalkLine is one line of GET /shards: a shard, or the final line with End
// set (a listing without it was cut short), or an error.
type WalkLine struct {
	Pack  string `json:"pack,omitempty"`
	Index int    `json:"index,omitempty"`
	Size  int64  `json:"size,omitempty"`
	K     int    `json:"k,omitempty"`
	M     int    `json:"m,omitempty"`
	End   bool   `json:"end,omitempty"`
	Error string `json:"error,omitempty"`
	Code  string `json:"code,omitempty"`
}
