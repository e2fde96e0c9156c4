package server

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/tessera-store/tessera/chunk"
	"github.com/tessera-store/tessera/pack"
)

// ErrCorrupt reports a record or command whose bytes do not decode: wrong
// version, truncated, an out-of-range length or trailing garbage.
var ErrCorrupt = errors.New("server: malformed record")

// enc appends the primitive fields of every record and command. All integers
// are varints; strings and byte slices are a uvarint length then the bytes;
// maps are a count then key/value pairs in sorted key order, so that equal
// values always encode to equal bytes (Apply is compared byte for byte
// across replicas).
type enc struct{ b []byte }

func (e *enc) byte1(v byte)     { e.b = append(e.b, v) }
func (e *enc) uvarint(v uint64) { e.b = binary.AppendUvarint(e.b, v) }
func (e *enc) varint(v int64)   { e.b = binary.AppendVarint(e.b, v) }
func (e *enc) str(s string)     { e.uvarint(uint64(len(s))); e.b = append(e.b, s...) }
func (e *enc) bytes(p []byte)   { e.uvarint(uint64(len(p))); e.b = append(e.b, p...) }
func (e *enc) raw(p []byte)     { e.b = append(e.b, p...) }
func (e *enc) bool1(v bool) {
	if v {
		e.b = append(e.b, 1)
	} else {
		e.b = append(e.b, 0)
	}
}

func (e *enc) strMap(m map[string]string) {
	e.uvarint(uint64(len(m)))
	if len(m) == 0 {
		return
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		e.str(k)
		e.str(m[k])
	}
}

func (e *enc) strs(v []string) {
	e.uvarint(uint64(len(v)))
	for _, s := range v {
		e.str(s)
	}
}

func (e *enc) ints(v []int) {
	e.uvarint(uint64(len(v)))
	for _, x := range v {
		e.varint(int64(x))
	}
}

func (e *enc) int64s(v []int64) {
	e.uvarint(uint64(len(v)))
	for _, x := range v {
		e.varint(x)
	}
}

func (e *enc) refs(v []metaChunkRef) {
	e.uvarint(uint64(len(v)))
	for i := range v {
		e.b = append(e.b, v[i].Addr[:]...)
		e.uvarint(uint64(v[i].Size))
	}
}

// dec reads what enc wrote. Every length is checked against the bytes left
// before anything is allocated, so a hostile input cannot make it allocate
// more than a small multiple of its own size. The first error sticks; later
// reads return zero values.
type dec struct {
	b   []byte
	err error
}

func (d *dec) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s", ErrCorrupt, what)
	}
	d.b = nil
}

func (d *dec) byte1() byte {
	if len(d.b) < 1 {
		d.fail("truncated")
		return 0
	}
	v := d.b[0]
	d.b = d.b[1:]
	return v
}

func (d *dec) bool1() bool {
	switch d.byte1() {
	case 0:
		return false
	case 1:
		return true
	}
	d.fail("bad bool")
	return false
}

// uvarint reads a minimally encoded uvarint: a record has exactly one
// encoding, so that decode then encode gives back the same bytes.
func (d *dec) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 || n != uvarintLen(v) {
		d.fail("bad uvarint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *dec) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 || n != uvarintLen(uint64(v)<<1^uint64(v>>63)) {
		d.fail("bad varint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

// int reads a non-negative varint that must fit an int32-sized field.
func (d *dec) intn(max int64) int64 {
	v := d.varint()
	if v < 0 || v > max {
		d.fail("integer out of range")
		return 0
	}
	return v
}

// count reads a collection length; each element takes at least minSize bytes.
func (d *dec) count(minSize int) int {
	n := d.uvarint()
	if d.err != nil {
		return 0
	}
	if n > uint64(len(d.b)/minSize) {
		d.fail("count exceeds input")
		return 0
	}
	return int(n)
}

func (d *dec) rawN(n int) []byte {
	if n < 0 || len(d.b) < n {
		d.fail("truncated")
		return nil
	}
	v := d.b[:n:n]
	d.b = d.b[n:]
	return v
}

func (d *dec) str() string {
	n := d.count(1)
	return string(d.rawN(n))
}

func (d *dec) bytes() []byte {
	n := d.count(1)
	if n == 0 {
		return nil
	}
	return slices.Clone(d.rawN(n))
}

func (d *dec) strMap() map[string]string {
	n := d.count(2)
	if n == 0 {
		return nil
	}
	m := make(map[string]string, n)
	prev := ""
	for i := 0; i < n && d.err == nil; i++ {
		k := d.str()
		v := d.str()
		if i > 0 && k <= prev {
			d.fail("map keys not sorted")
			return nil
		}
		prev = k
		m[k] = v
	}
	return m
}

func (d *dec) strs() []string {
	n := d.count(1)
	if n == 0 {
		return nil
	}
	v := make([]string, n)
	for i := range v {
		v[i] = d.str()
	}
	return v
}

func (d *dec) ints() []int {
	n := d.count(1)
	if n == 0 {
		return nil
	}
	v := make([]int, n)
	for i := range v {
		v[i] = int(d.intn(math.MaxInt32))
	}
	return v
}

func (d *dec) int64s() []int64 {
	n := d.count(1)
	if n == 0 {
		return nil
	}
	v := make([]int64, n)
	for i := range v {
		v[i] = d.varint()
	}
	return v
}

func (d *dec) addr() (a chunk.Addr) {
	copy(a[:], d.rawN(len(a)))
	return a
}

func (d *dec) packID() (id pack.ID) {
	copy(id[:], d.rawN(len(id)))
	return id
}

func (d *dec) refs() []metaChunkRef {
	n := d.count(len(chunk.Addr{}) + 1)
	if n == 0 {
		return nil
	}
	v := make([]metaChunkRef, n)
	for i := range v {
		v[i].Addr = d.addr()
		s := d.uvarint()
		if s > math.MaxUint32 {
			d.fail("chunk size out of range")
		}
		v[i].Size = uint32(s)
	}
	return v
}

// done fails if bytes are left over.
func (d *dec) done() error {
	if d.err == nil && len(d.b) != 0 {
		d.fail("trailing bytes")
	}
	return d.err
}
