package erasure

import "fmt"

// Span is the part of a pack range that one data shard holds.
type Span struct {
	Shard int   // data shard index, 0..k-1
	Off   int64 // offset of the span's first byte inside the shard
	Len   int64 // bytes, > 0
	Pos   int64 // offset of the span's first byte from the start of the range
}

// Plan returns the spans that hold pack bytes [off, off+n) of a pack of
// packLen bytes, in pack order; the spans' lengths sum to n and an empty
// range gives no spans. A range outside the pack, or a packLen above
// MaxPackLen, returns ErrRange.
func (c *Code) Plan(packLen, off, n int64) ([]Span, error) {
	return c.AppendPlan(nil, packLen, off, n)
}

// AppendPlan is Plan appending to dst, so that callers can plan without
// allocating.
func (c *Code) AppendPlan(dst []Span, packLen, off, n int64) ([]Span, error) {
	if packLen < 0 || packLen > MaxPackLen || off < 0 || n < 0 || off > packLen || n > packLen-off {
		return dst, fmt.Errorf("%w: [%d, +%d) of a %d-byte pack", ErrRange, off, n, packLen)
	}
	s := c.ShardSize(packLen)
	for pos, end := off, off+n; pos < end; {
		i := pos / s
		so := pos - i*s
		l := min(s-so, end-pos)
		dst = append(dst, Span{Shard: int(i), Off: so, Len: l, Pos: pos - off})
		pos += l
	}
	return dst, nil
}
