package chunk

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/zeebo/blake3"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

// split returns every chunk of r (with copied data) and the error that
// ended the stream (nil for io.EOF).
func split(r io.Reader, opt Options) ([]Chunk, error) {
	return splitWith(NewSplitter(r, opt), opt)
}

// splitWith is split on a prepared Splitter, which it closes.
func splitWith(s *Splitter, opt Options) ([]Chunk, error) {
	defer s.Close()
	buf := make([]byte, 0, max(opt.withDefaults().Max, 0))
	var out []Chunk
	for {
		c, err := s.Next(buf[:0])
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		c.Data = bytes.Clone(c.Data)
		out = append(out, c)
	}
}

// gearDigest is the BLAKE3 of the gear table as little-endian uint64s.
const gearDigest = "eaf20e0cb444b7d29ce5cda2660dcbd048b7d8965b450003a1481011c86fed2f"

func TestGearTable(t *testing.T) {
	var b []byte
	for _, g := range gear {
		b = binary.LittleEndian.AppendUint64(b, g)
	}
	if got := fmt.Sprintf("%x", blake3.Sum256(b)); got != gearDigest {
		t.Fatalf("gear table digest %s, pinned %s: the gear table is part of the storage format", got, gearDigest)
	}
}

// goldenCases pin cut points: changing them breaks dedup against stored data.
var goldenCases = []struct {
	file string
	opt  Options
}{
	{"golden-16k-64k-256k.txt", Options{Min: 16 << 10, Avg: 64 << 10, Max: 256 << 10}},
	{"golden-512-2k-8k.txt", Options{Min: 512, Avg: 2 << 10, Max: 8 << 10}},
	{"golden-keyed-16k-64k-256k.txt", Options{Min: 16 << 10, Avg: 64 << 10, Max: 256 << 10, Key: testKey()}},
}

func testKey() []byte {
	k := make([]byte, KeySize)
	for i := range k {
		k[i] = byte(i)
	}
	return k
}

func TestGolden(t *testing.T) {
	data := seeded(8<<20, 42)
	for _, tc := range goldenCases {
		t.Run(tc.file, func(t *testing.T) {
			chunks, err := split(bytes.NewReader(data), tc.opt)
			if err != nil {
				t.Fatal(err)
			}
			var got bytes.Buffer
			for _, c := range chunks {
				fmt.Fprintf(&got, "%d %d %s\n", c.Offset, len(c.Data), c.Addr)
			}
			path := filepath.Join("testdata", tc.file)
			if *update {
				if err := os.WriteFile(path, got.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Bytes(), want) {
				gl, wl := strings.Split(got.String(), "\n"), strings.Split(string(want), "\n")
				for i := range min(len(gl), len(wl)) {
					if gl[i] != wl[i] {
						t.Fatalf("line %d: got %q, want %q (cut points are part of the storage format)", i+1, gl[i], wl[i])
					}
				}
				t.Fatalf("got %d lines, want %d", len(gl), len(wl))
			}
		})
	}
}

func TestChunkInvariants(t *testing.T) {
	data := seeded(4<<20, 7)
	for _, opt := range []Options{
		{},
		{Min: 64, Avg: 64, Max: 64},
		{Min: 1 << 20, Avg: 1 << 20, Max: 1 << 20},
		{Min: 256, Avg: 1 << 10, Max: 1 << 10},
		{Avg: 8 << 10},
	} {
		t.Run(fmt.Sprintf("%d-%d-%d", opt.Min, opt.Avg, opt.Max), func(t *testing.T) {
			chunks, err := split(bytes.NewReader(data), opt)
			if err != nil {
				t.Fatal(err)
			}
			checkChunks(t, data, chunks, opt)
		})
	}
}

// checkChunks verifies that chunks tile data, respect the size bounds and
// carry the unkeyed BLAKE3 address (when opt has no key).
func checkChunks(t *testing.T, data []byte, chunks []Chunk, opt Options) {
	t.Helper()
	o := opt.withDefaults()
	var off int64
	for i, c := range chunks {
		if c.Offset != off {
			t.Fatalf("chunk %d at offset %d, want %d", i, c.Offset, off)
		}
		if len(c.Data) > o.Max || len(c.Data) == 0 || (len(c.Data) < o.Min && i != len(chunks)-1) {
			t.Fatalf("chunk %d of %d has %d bytes, outside [%d, %d]", i, len(chunks), len(c.Data), o.Min, o.Max)
		}
		if !bytes.Equal(c.Data, data[off:off+int64(len(c.Data))]) {
			t.Fatalf("chunk %d bytes differ from the input", i)
		}
		if o.Key == nil && c.Addr != Addr(blake3.Sum256(c.Data)) {
			t.Fatalf("chunk %d addr %v, want BLAKE3 %x", i, c.Addr, blake3.Sum256(c.Data))
		}
		off += int64(len(c.Data))
	}
	if off != int64(len(data)) {
		t.Fatalf("chunks cover %d bytes, input has %d", off, len(data))
	}
}

func TestKeyedAddr(t *testing.T) {
	data := seeded(1<<20, 3)
	plain, err := split(bytes.NewReader(data), Options{})
	if err != nil {
		t.Fatal(err)
	}
	keyed, err := split(bytes.NewReader(data), Options{Key: testKey()})
	if err != nil {
		t.Fatal(err)
	}
	if len(plain) != len(keyed) {
		t.Fatalf("keyed split gave %d chunks, unkeyed %d: the key must not move cut points", len(keyed), len(plain))
	}
	h, err := blake3.NewKeyed(testKey())
	if err != nil {
		t.Fatal(err)
	}
	for i := range plain {
		if plain[i].Addr != Addr(blake3.Sum256(plain[i].Data)) {
			t.Fatalf("chunk %d: unkeyed addr is not blake3.Sum256", i)
		}
		if plain[i].Addr == keyed[i].Addr {
			t.Fatalf("chunk %d: keyed and unkeyed addresses are equal", i)
		}
		h.Reset()
		_, _ = h.Write(keyed[i].Data)
		if got := h.Sum(nil); !bytes.Equal(got, keyed[i].Addr[:]) {
			t.Fatalf("chunk %d: keyed addr %v, want %x", i, keyed[i].Addr, got)
		}
	}
}

// xof returns n pseudo-random bytes from the BLAKE3 output stream of seed;
// it is much faster than ChaCha8 under -race (assembly is not instrumented).
func xof(n int, seed byte) []byte {
	h := blake3.New()
	_, _ = h.Write([]byte{seed})
	p := make([]byte, n)
	_, _ = h.Digest().Read(p)
	return p
}

func TestInsertionLocality(t *testing.T) {
	const size = 64 << 20
	data := xof(size, 9)
	s := NewSplitter(bytes.NewReader(data), Options{})
	buf := make([]byte, DefaultMax)
	seen := make(map[Addr]bool)
	for {
		c, err := s.Next(buf)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		seen[c.Addr] = true
	}
	const at = 1000
	edited := make([]byte, 0, size+1)
	edited = append(append(append(edited, data[:at]...), 0xa5), data[at:]...)
	s.Reset(bytes.NewReader(edited))
	var same int
	for {
		c, err := s.Next(buf)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if seen[c.Addr] {
			same += len(c.Data)
		}
	}
	if frac := float64(same) / float64(len(edited)); frac < 0.9 {
		t.Fatalf("after a 1-byte insertion only %.4f of the bytes are in unchanged chunks, want >= 0.9", frac)
	} else {
		t.Logf("unchanged after a 1-byte insertion at %d: %.4f of %d bytes", at, frac, len(edited))
	}
}

func TestIOTestReaders(t *testing.T) {
	data := seeded(1<<20+12345, 5)
	opt := Options{Min: 4 << 10, Avg: 16 << 10, Max: 64 << 10}
	want, err := split(bytes.NewReader(data), opt)
	if err != nil {
		t.Fatal(err)
	}
	for name, r := range map[string]io.Reader{
		"OneByteReader":  iotest.OneByteReader(bytes.NewReader(data)),
		"HalfReader":     iotest.HalfReader(bytes.NewReader(data)),
		"DataErrReader":  iotest.DataErrReader(bytes.NewReader(data)),
		"bufio-3":        bufio.NewReaderSize(iotest.HalfReader(bytes.NewReader(data)), 16),
		"TimeoutReader0": &emptyReads{r: bytes.NewReader(data)},
	} {
		t.Run(name, func(t *testing.T) {
			got, err := split(r, opt)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(want) {
				t.Fatalf("%d chunks, want %d", len(got), len(want))
			}
			for i := range got {
				if got[i].Offset != want[i].Offset || got[i].Addr != want[i].Addr {
					t.Fatalf("chunk %d: (%d, %v), want (%d, %v)", i, got[i].Offset, got[i].Addr, want[i].Offset, want[i].Addr)
				}
			}
		})
	}
}

// emptyReads returns (0, nil) on every other call, which io.Reader allows.
type emptyReads struct {
	r    io.Reader
	flip bool
}

func (e *emptyReads) Read(p []byte) (int, error) {
	if e.flip = !e.flip; e.flip {
		return 0, nil
	}
	return e.r.Read(p)
}

var errBoom = errors.New("boom")

// TestPipeline checks that hashing on the helper goroutine gives the same
// chunks and errors as hashing inline, whatever GOMAXPROCS the test runs
// with.
func TestPipeline(t *testing.T) {
	data := seeded(2<<20+77, 13)
	const failAt = 1 << 20
	for name, r := range map[string]func() io.Reader{
		"plain":    func() io.Reader { return bytes.NewReader(data) },
		"half":     func() io.Reader { return iotest.HalfReader(bytes.NewReader(data)) },
		"dataerr":  func() io.Reader { return iotest.DataErrReader(bytes.NewReader(data)) },
		"errmid":   func() io.Reader { return io.MultiReader(bytes.NewReader(data[:failAt]), iotest.ErrReader(errBoom)) },
		"errfirst": func() io.Reader { return iotest.ErrReader(errBoom) },
	} {
		for _, opt := range []Options{
			{Min: 4 << 10, Avg: 16 << 10, Max: 64 << 10},
			{Min: 1 << 10, Avg: 8 << 10, Max: 32 << 10, Key: testKey()},
		} {
			t.Run(fmt.Sprintf("%s/%d", name, opt.Avg), func(t *testing.T) {
				opt.Serial = true
				want, wantErr := split(r(), opt)
				opt.Serial = false
				s := NewSplitter(r(), opt)
				s.pipeline = true
				got, gotErr := splitWith(s, opt)
				if (gotErr == nil) != (wantErr == nil) || errors.Is(gotErr, errBoom) != errors.Is(wantErr, errBoom) {
					t.Fatalf("errors: pipelined %v, serial %v", gotErr, wantErr)
				}
				if len(got) != len(want) {
					t.Fatalf("pipelined %d chunks, serial %d", len(got), len(want))
				}
				for i := range got {
					if got[i].Offset != want[i].Offset || got[i].Addr != want[i].Addr || !bytes.Equal(got[i].Data, want[i].Data) {
						t.Fatalf("chunk %d differs", i)
					}
				}
			})
		}
	}
}

func TestCloseAndReuse(t *testing.T) {
	data := seeded(1<<20, 4)
	opt := Options{Avg: 16 << 10}
	want, err := split(bytes.NewReader(data), Options{Avg: 16 << 10, Serial: true})
	if err != nil {
		t.Fatal(err)
	}
	s := NewSplitter(bytes.NewReader(data), opt)
	s.pipeline = true
	for range 3 {
		got, err := splitWith(s, opt) // closes s after each stream
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) || got[len(got)-1].Addr != want[len(want)-1].Addr {
			t.Fatalf("reuse after Close: %d chunks, want %d", len(got), len(want))
		}
		s.Reset(bytes.NewReader(data))
	}
	if err := s.Close(); err != nil { // idempotent
		t.Fatal(err)
	}
}

func TestReadErrors(t *testing.T) {
	data := seeded(1<<20, 11)
	opt := Options{Min: 4 << 10, Avg: 16 << 10, Max: 64 << 10}
	all, err := split(bytes.NewReader(data), opt)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("ErrReader", func(t *testing.T) {
		s := NewSplitter(iotest.ErrReader(errBoom), opt)
		for range 2 { // the error is sticky
			if _, err := s.Next(nil); !errors.Is(err, errBoom) {
				t.Fatalf("got %v, want %v", err, errBoom)
			}
		}
	})

	t.Run("mid-stream", func(t *testing.T) {
		const failAt = 600 << 10
		for name, r := range map[string]func() io.Reader{
			"whole": func() io.Reader { return io.MultiReader(bytes.NewReader(data[:failAt]), iotest.ErrReader(errBoom)) },
			"onebyte": func() io.Reader {
				return iotest.OneByteReader(io.MultiReader(bytes.NewReader(data[:failAt]), iotest.ErrReader(errBoom)))
			},
		} {
			t.Run(name, func(t *testing.T) {
				got, err := split(r(), opt)
				if !errors.Is(err, errBoom) {
					t.Fatalf("got error %v, want %v", err, errBoom)
				}
				// Every chunk that ends before the failure, and only those,
				// comes out unchanged.
				var n int
				for _, c := range all {
					if c.Offset+int64(len(c.Data)) < failAt {
						n++
					}
				}
				if len(got) != n {
					t.Fatalf("%d chunks before the error, want %d", len(got), n)
				}
				for i := range got {
					if got[i].Addr != all[i].Addr {
						t.Fatalf("chunk %d differs", i)
					}
				}
			})
		}
	})

	t.Run("no-progress", func(t *testing.T) {
		s := NewSplitter(zeroReader{}, opt)
		if _, err := s.Next(nil); !errors.Is(err, io.ErrNoProgress) {
			t.Fatalf("got %v, want io.ErrNoProgress", err)
		}
	})
}

type zeroReader struct{}

func (zeroReader) Read([]byte) (int, error) { return 0, nil }

func TestEmptyAndReset(t *testing.T) {
	s := NewSplitter(bytes.NewReader(nil), Options{})
	if _, err := s.Next(nil); err != io.EOF {
		t.Fatalf("empty stream: got %v, want io.EOF", err)
	}
	data := seeded(300<<10, 1)
	want, err := split(bytes.NewReader(data), Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.Reset(bytes.NewReader(data))
	buf := make([]byte, DefaultMax)
	for i := 0; ; i++ {
		c, err := s.Next(buf)
		if err == io.EOF {
			if i != len(want) {
				t.Fatalf("after Reset: %d chunks, want %d", i, len(want))
			}
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if c.Offset != want[i].Offset || c.Addr != want[i].Addr {
			t.Fatalf("after Reset: chunk %d differs", i)
		}
		if &c.Data[0] != &buf[0] {
			t.Fatalf("chunk %d does not alias the caller's buffer", i)
		}
	}
	// A short buffer still works (it grows).
	s.Reset(bytes.NewReader(data))
	if c, err := s.Next(make([]byte, 10)); err != nil || c.Addr != want[0].Addr {
		t.Fatalf("short buffer: %v", err)
	}
}

func TestOptionsValidate(t *testing.T) {
	tests := []struct {
		opt Options
		ok  bool
	}{
		{Options{}, true},
		{Options{Avg: 1 << 20}, true},
		{Options{Min: 64, Avg: 64, Max: 64}, true},
		{Options{Min: 1 << 20, Avg: 1 << 20, Max: 1 << 20}, true},
		{Options{Min: 16 << 10, Avg: 64 << 10, Max: MaxLimit}, true},
		{Options{Key: make([]byte, 32)}, true},
		{Options{Avg: 3000}, false},
		{Options{Avg: 32}, false},
		{Options{Min: 63, Avg: 64, Max: 64}, false},
		{Options{Min: 128 << 10, Avg: 64 << 10, Max: 256 << 10}, false},
		{Options{Min: 16 << 10, Avg: 64 << 10, Max: 32 << 10}, false},
		{Options{Avg: 32 << 20}, false}, // max = 128 MiB
		{Options{Min: -1, Avg: 64 << 10}, false},
		{Options{Key: make([]byte, 16)}, false},
		{Options{Key: []byte{}}, false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d-%d-%d-%d", tt.opt.Min, tt.opt.Avg, tt.opt.Max, len(tt.opt.Key)), func(t *testing.T) {
			err := tt.opt.Validate()
			if (err == nil) != tt.ok || (err != nil && !errors.Is(err, ErrBadOptions)) {
				t.Fatalf("Validate() = %v, want ok=%v", err, tt.ok)
			}
			if !tt.ok {
				s := NewSplitter(bytes.NewReader([]byte("x")), tt.opt)
				if _, err := s.Next(nil); !errors.Is(err, ErrBadOptions) {
					t.Fatalf("Next with bad options: %v", err)
				}
			}
		})
	}
}

func TestZeroAllocs(t *testing.T) {
	data := seeded(4<<20, 2)
	opt := Options{Avg: 16 << 10}
	for _, pipeline := range []bool{false, true} {
		t.Run(fmt.Sprintf("pipeline=%v", pipeline), func(t *testing.T) {
			r := bytes.NewReader(data)
			s := NewSplitter(r, opt)
			defer s.Close()
			s.pipeline = pipeline
			buf := make([]byte, 64<<10)
			chunks := 0
			stream := func() {
				r.Reset(data)
				s.Reset(r)
				for {
					if _, err := s.Next(buf); err != nil {
						break
					}
					chunks++
				}
			}
			// AllocsPerRun warms up with one call, then reports the
			// exact total of one call: five streams.
			allocs := testing.AllocsPerRun(1, func() {
				for range 5 {
					stream()
				}
			})
			if allocs != 0 {
				t.Fatalf("%v allocations in 5 streams (%d chunks), want 0", allocs, chunks/2)
			}
		})
	}
}

func FuzzSplitter(f *testing.F) {
	f.Add([]byte("hello, world"), uint8(0))
	f.Add(seeded(5000, 1), uint8(1))
	f.Add(bytes.Repeat([]byte{0}, 3000), uint8(2))
	opts := []Options{
		{Min: 64, Avg: 256, Max: 1024},
		{Min: 64, Avg: 128, Max: 4096},
		{Min: 128, Avg: 128, Max: 128},
		{Min: 64, Avg: 64, Max: 256, Key: testKey()},
	}
	f.Fuzz(func(t *testing.T, data []byte, which uint8) {
		opt := opts[int(which)%len(opts)]
		chunks, err := split(iotest.HalfReader(bytes.NewReader(data)), opt)
		if err != nil {
			t.Fatal(err)
		}
		checkChunks(t, data, chunks, opt)
	})
}

// Repetitive input never matches the masks, so it is cut at Max; the equal
// chunks get equal addresses and would be stored once.
func ExampleSplitter() {
	s := NewSplitter(strings.NewReader(strings.Repeat("tessera ", 40000)), Options{Min: 4 << 10, Avg: 16 << 10, Max: 64 << 10})
	buf := make([]byte, 64<<10)
	for {
		c, err := s.Next(buf)
		if err == io.EOF {
			break
		}
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(c.Offset, len(c.Data), c.Addr.String()[:16])
	}
	// Output:
	// 0 65536 ac574fcb8bcb0465
	// 65536 65536 ac574fcb8bcb0465
	// 131072 65536 ac574fcb8bcb0465
	// 196608 65536 ac574fcb8bcb0465
	// 262144 57856 05c89ff74f08aadd
}

// Sum gives the addresses the Splitter gives, keyed and unkeyed.
func TestSumMatchesSplitter(t *testing.T) {
	data := make([]byte, 1<<20)
	for i := range data {
		data[i] = byte(i * 7 >> 3)
	}
	key := bytes.Repeat([]byte{9}, KeySize)
	for _, k := range [][]byte{nil, key} {
		sp := NewSplitter(bytes.NewReader(data), Options{Key: k})
		buf := make([]byte, DefaultMax)
		for {
			c, err := sp.Next(buf)
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			a, err := Sum(k, c.Data)
			if err != nil || a != c.Addr {
				t.Fatalf("Sum = %v, %v; splitter %v", a, err, c.Addr)
			}
		}
		sp.Close()
	}
	if _, err := Sum([]byte("short"), data); !errors.Is(err, ErrBadOptions) {
		t.Fatalf("bad key: %v", err)
	}
}
