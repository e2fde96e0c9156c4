package shard

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"testing"
	"testing/iotest"

	"github.com/tessera-store/tessera/pack"
	"github.com/tessera-store/tessera/store"
)

func frame(t testing.TB, h Header, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := NewWriter(&buf, h)
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if int64(buf.Len()) != h.FramedSize() {
		t.Fatalf("framed %d bytes, FramedSize %d", buf.Len(), h.FramedSize())
	}
	return buf.Bytes()
}

func randBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func TestHeaderRoundTrip(t *testing.T) {
	h := Header{Pack: pack.NewID(), Index: 5, K: 8, M: 4, Length: 123456789, BlockSize: 4096}
	b := h.Marshal()
	got, err := ParseHeader(b[:])
	if err != nil {
		t.Fatal(err)
	}
	if got != h {
		t.Fatalf("got %+v, want %+v", got, h)
	}
	h.BlockSize = 0
	b = h.Marshal()
	if got, _ := ParseHeader(b[:]); got.BlockSize != DefaultBlockSize {
		t.Fatalf("block size %d, want default", got.BlockSize)
	}
}

func TestParseHeaderErrors(t *testing.T) {
	good := Header{Pack: pack.NewID(), Index: 1, K: 2, M: 1, Length: 10}.Marshal()
	resum := func(b [HeaderSize]byte) []byte {
		c := b
		sum := crc32.Checksum(c[:60], castagnoli)
		c[60], c[61], c[62], c[63] = byte(sum), byte(sum>>8), byte(sum>>16), byte(sum>>24)
		return c[:]
	}
	mod := func(i int, v byte) []byte {
		b := good
		b[i] = v
		return resum(b)
	}
	tests := []struct {
		name string
		b    []byte
	}{
		{"short", good[:63]},
		{"empty", nil},
		{"magic", mod(0, 'X')},
		{"crc", func() []byte { b := good; b[10] ^= 1; return b[:] }()},
		{"version", mod(4, 2)},
		{"reserved", mod(50, 1)},
		{"k0", mod(26, 0)},
		{"index", mod(24, 3)},
		{"blocksize0", func() []byte { b := good; b[40], b[41], b[42], b[43] = 0, 0, 0, 0; return resum(b) }()},
		{"blocksizeHuge", mod(43, 0xff)},
		{"length", mod(39, 0xff)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseHeader(tt.b)
			if !errors.Is(err, ErrBadHeader) || !errors.Is(err, store.ErrCorrupt) {
				t.Fatalf("err = %v, want ErrBadHeader and store.ErrCorrupt", err)
			}
		})
	}
}

func TestWriterLength(t *testing.T) {
	h := Header{Pack: pack.NewID(), K: 1, Length: 100, BlockSize: 32}
	var buf bytes.Buffer
	w := NewWriter(&buf, h)
	if _, err := w.Write(make([]byte, 99)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); !errors.Is(err, ErrLength) {
		t.Fatalf("short close: %v", err)
	}
	w = NewWriter(&buf, h)
	if _, err := w.Write(make([]byte, 101)); !errors.Is(err, ErrLength) {
		t.Fatalf("long write: %v", err)
	}
	w = NewWriter(&buf, Header{K: 0, Length: 1})
	if _, err := w.Write([]byte{1}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("invalid header write: %v", err)
	}
	if err := w.Close(); !errors.Is(err, ErrInvalid) {
		t.Fatalf("invalid header close: %v", err)
	}
	w = NewWriter(iotestErrWriter{}, Header{K: 1, Length: 1 << 20})
	if _, err := w.Write(make([]byte, 1<<20)); err == nil {
		t.Fatal("write to failing writer succeeded")
	}
}

type iotestErrWriter struct{}

func (iotestErrWriter) Write([]byte) (int, error) { return 0, errors.New("boom") }

func TestReadAtRanges(t *testing.T) {
	for _, bs := range []int{16, 100, 4096} {
		for _, n := range []int{0, 1, 15, 16, 17, 99, 100, 101, 1000, 10000} {
			t.Run(fmt.Sprintf("bs%d/n%d", bs, n), func(t *testing.T) {
				data := randBytes(uint64(n), n)
				h := Header{Pack: pack.NewID(), Index: 0, K: 3, M: 2, Length: int64(n), BlockSize: bs}
				f := frame(t, h, data)
				r, err := NewReader(bytes.NewReader(f), int64(len(f)))
				if err != nil {
					t.Fatal(err)
				}
				if r.Header() != h {
					t.Fatalf("header %+v", r.Header())
				}
				offs := []int{0, 1, bs - 1, bs, bs + 1, n / 2, n - 1, n}
				for _, off := range offs {
					for _, l := range []int{0, 1, bs - 1, bs, bs + 1, 2*bs + 3, n} {
						if off < 0 || l < 0 || off+l > n {
							continue
						}
						p := make([]byte, l)
						m, err := r.ReadAt(p, int64(off))
						if err != nil || m != l {
							t.Fatalf("ReadAt(%d, %d) = %d, %v", l, off, m, err)
						}
						if !bytes.Equal(p, data[off:off+l]) {
							t.Fatalf("ReadAt(%d, %d): wrong bytes", l, off)
						}
					}
				}
				if n >= 3 {
					p := make([]byte, 10)
					m, err := r.ReadAt(p, int64(n-3))
					if m != 3 || err != io.EOF || !bytes.Equal(p[:3], data[n-3:]) {
						t.Fatalf("read past end: %d, %v", m, err)
					}
				}
				if err := iotest.TestReader(io.NewSectionReader(r, 0, int64(n)), data); err != nil {
					t.Fatal(err)
				}
			})
		}
	}
}

func TestReadAtCorrupt(t *testing.T) {
	const bs, n = 64, 1000
	data := randBytes(1, n)
	h := Header{Pack: pack.NewID(), K: 1, Length: n, BlockSize: bs}
	f := frame(t, h, data)
	blk := int64(5)
	pos := HeaderSize + blk*(bs+ChecksumSize) + 3
	bad := bytes.Clone(f)
	bad[pos] ^= 0x40
	r, err := NewReader(bytes.NewReader(bad), int64(len(bad)))
	if err != nil {
		t.Fatal(err)
	}
	// Blocks before and after read fine.
	p := make([]byte, bs)
	if _, err := r.ReadAt(p, 4*bs); err != nil {
		t.Fatal(err)
	}
	if _, err := r.ReadAt(p, 6*bs); err != nil {
		t.Fatal(err)
	}
	big := make([]byte, n)
	m, err := r.ReadAt(big, 0)
	if !errors.Is(err, ErrBadBlock) || !errors.Is(err, store.ErrCorrupt) {
		t.Fatalf("err = %v", err)
	}
	if m > int(blk*bs) {
		t.Fatalf("returned %d bytes, beyond the bad block", m)
	}
	// Swapped blocks fail (the block number is in the checksum).
	sw := bytes.Clone(f)
	b1 := sw[HeaderSize : HeaderSize+bs+ChecksumSize]
	b2 := sw[HeaderSize+bs+ChecksumSize : HeaderSize+2*(bs+ChecksumSize)]
	tmp := bytes.Clone(b1)
	copy(b1, b2)
	copy(b2, tmp)
	r, _ = NewReader(bytes.NewReader(sw), -1)
	if _, err := r.ReadAt(p, 0); !errors.Is(err, store.ErrCorrupt) {
		t.Fatalf("swapped blocks: %v", err)
	}
	// Truncation.
	if _, err := NewReader(bytes.NewReader(f[:len(f)-1]), int64(len(f)-1)); !errors.Is(err, store.ErrCorrupt) {
		t.Fatalf("truncated with size: %v", err)
	}
	r, _ = NewReader(bytes.NewReader(f[:len(f)-1]), -1)
	if _, err := r.ReadAt(big, 0); !errors.Is(err, store.ErrCorrupt) {
		t.Fatalf("truncated read: %v", err)
	}
	if _, err := NewReader(bytes.NewReader(f[:10]), -1); !errors.Is(err, store.ErrCorrupt) {
		t.Fatalf("short header: %v", err)
	}
	if _, err := NewReader(errReaderAt{}, -1); err == nil {
		t.Fatal("read error ignored")
	}
}

type errReaderAt struct{}

func (errReaderAt) ReadAt([]byte, int64) (int, error) { return 0, errors.New("eio") }

func FuzzParseHeader(f *testing.F) {
	h := Header{Pack: pack.NewID(), Index: 1, K: 4, M: 2, Length: 1 << 20}.Marshal()
	f.Add(h[:])
	f.Add(make([]byte, HeaderSize))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := ParseHeader(b)
		if err != nil {
			if !errors.Is(err, store.ErrCorrupt) {
				t.Fatalf("error %v does not match ErrCorrupt", err)
			}
			return
		}
		m := h.Marshal()
		if !bytes.Equal(m[:], b[:HeaderSize]) {
			t.Fatalf("round trip differs")
		}
	})
}

// FuzzReadAt frames known data, applies fuzzed corruption, and checks that
// every byte ReadAt returns equals the original: corruption may cause
// errors, never wrong bytes.
func FuzzReadAt(f *testing.F) {
	f.Add(uint16(100), uint8(16), uint16(10), byte(1), uint16(0), uint16(50), uint16(0))
	f.Add(uint16(1000), uint8(64), uint16(70), byte(0x80), uint16(60), uint16(300), uint16(3))
	f.Add(uint16(0), uint8(16), uint16(0), byte(0), uint16(0), uint16(1), uint16(0))
	f.Fuzz(func(t *testing.T, n uint16, bs uint8, flipAt uint16, flip byte, off, l uint16, cut uint16) {
		blockSize := max(MinBlockSize, int(bs))
		data := randBytes(uint64(n), int(n))
		h := Header{Pack: pack.ID{1, 2, 3}, K: 2, M: 1, Length: int64(n), BlockSize: blockSize}
		fr := frame(t, h, data)
		if len(fr) > 0 {
			fr[int(flipAt)%len(fr)] ^= flip
		}
		fr = fr[:len(fr)-min(len(fr), int(cut))]
		r, err := NewReader(bytes.NewReader(fr), -1)
		if err != nil {
			if !errors.Is(err, store.ErrCorrupt) {
				t.Fatalf("NewReader: %v", err)
			}
			return
		}
		if r.Header() != h {
			t.Fatalf("header changed without error: %+v", r.Header())
		}
		p := make([]byte, l)
		m, err := r.ReadAt(p, int64(off))
		if m > len(p) || (m < len(p) && err == nil) {
			t.Fatalf("ReadAt = %d, %v", m, err)
		}
		if int(off) < len(data) {
			if !bytes.Equal(p[:m], data[off:int(off)+m]) {
				t.Fatalf("unverified bytes returned at %d+%d (err %v)", off, m, err)
			}
		} else if m != 0 {
			t.Fatalf("bytes past end")
		}
	})
}

func TestFrame(t *testing.T) {
	data := randBytes(7, 300000)
	h := Header{Pack: pack.NewID(), K: 1, Length: int64(len(data)), BlockSize: 1000}
	want := frame(t, h, data)
	var got bytes.Buffer
	if err := Frame(t.Context(), &got, h, iotest.OneByteReader(bytes.NewReader(data))); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), want) {
		t.Fatal("Frame differs from Writer")
	}
	got.Reset()
	if err := Frame(t.Context(), &got, h, iotest.HalfReader(bytes.NewReader(append(data, 1, 2, 3)))); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), want) {
		t.Fatal("Frame with longer reader differs")
	}
	err := Frame(t.Context(), io.Discard, h, bytes.NewReader(data[:1000]))
	if !errors.Is(err, ErrLength) || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("short: %v", err)
	}
	err = Frame(t.Context(), io.Discard, h, iotest.TimeoutReader(bytes.NewReader(data)))
	if !errors.Is(err, iotest.ErrTimeout) {
		t.Fatalf("reader error: %v", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := Frame(ctx, io.Discard, h, bytes.NewReader(data)); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
}
