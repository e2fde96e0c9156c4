package pack

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/klauspost/compress/s2"
)

var allCodecs = []Codec{CodecNone, CodecZstdFastest, CodecZstd, CodecZstdBetter, CodecS2}

// syntheticText returns n bytes of word soup: compressible like prose.
func syntheticText(seed uint64, n int) []byte {
	words := strings.Fields("the chunk pack shard stripe parity node read write object bucket key " +
		"func return error nil if for range context byte slice int64 store erasure meta")
	r := rand.New(rand.NewPCG(seed, seed))
	var b bytes.Buffer
	for b.Len() < n {
		b.WriteString(words[r.IntN(len(words))])
		if r.IntN(9) == 0 {
			b.WriteString(".\n")
		} else {
			b.WriteByte(' ')
		}
	}
	return b.Bytes()[:n]
}

func randomBytes(seed uint64, n int) []byte {
	var key [32]byte
	key[0], key[1] = byte(seed), byte(seed>>8)
	b := make([]byte, n)
	rand.NewChaCha8(key).Read(b)
	return b
}

// goSource returns up to n bytes of Go source from GOROOT, or synthetic
// text when GOROOT/src is not there.
func goSource(n int) []byte {
	var b bytes.Buffer
	root := filepath.Join(runtime.GOROOT(), "src", "net", "http")
	_ = filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil || b.Len() >= n {
			return filepath.SkipDir
		}
		if strings.HasSuffix(path, ".go") {
			data, err := os.ReadFile(path)
			if err == nil {
				b.Write(data)
			}
		}
		return nil
	})
	if b.Len() < n {
		return syntheticText(1, n)
	}
	return b.Bytes()[:n]
}

func TestParseCodec(t *testing.T) {
	for _, c := range allCodecs {
		got, err := ParseCodec(c.String())
		if err != nil || got != c {
			t.Errorf("ParseCodec(%q) = %v, %v", c.String(), got, err)
		}
		if err := c.Validate(); err != nil {
			t.Errorf("%v.Validate: %v", c, err)
		}
	}
	if c, err := ParseCodec(""); err != nil || c != CodecNone {
		t.Errorf(`ParseCodec("") = %v, %v`, c, err)
	}
	for _, s := range []string{"gzip", "ZSTD", "zstd-"} {
		if _, err := ParseCodec(s); !errors.Is(err, ErrBadCodec) {
			t.Errorf("ParseCodec(%q): %v", s, err)
		}
	}
	if err := Codec(99).Validate(); !errors.Is(err, ErrBadCodec) {
		t.Errorf("Codec(99).Validate: %v", err)
	}
}

func TestFrameRoundTrip(t *testing.T) {
	inputs := []struct {
		name    string
		data    []byte
		wantRaw bool // compression cannot pay
		large   bool // only with the fast codecs, to keep -race runs short
	}{
		{"empty", nil, true, false},
		{"one", []byte{7}, true, false},
		{"text64K", syntheticText(2, 64<<10), false, false},
		{"zeros256K", make([]byte, 256<<10), false, false},
		{"random64K", randomBytes(3, 64<<10), true, false},
		{"textMax", syntheticText(4, MaxPlainLen), false, true},
		{"randomMax", randomBytes(5, MaxPlainLen), true, true},
		{"text1M", syntheticText(6, 1<<20), false, false},
	}
	for _, in := range inputs {
		for _, c := range allCodecs {
			if in.large && c != CodecNone && c != CodecS2 && c != CodecZstdFastest {
				continue
			}
			t.Run(in.name+"/"+c.String(), func(t *testing.T) {
				prefix := []byte("prefix")
				frame := AppendFrame(bytes.Clone(prefix), in.data, c)
				if !bytes.HasPrefix(frame, prefix) {
					t.Fatal("prefix overwritten")
				}
				frame = frame[len(prefix):]
				raw := frame[0] == TagRaw
				if raw != (in.wantRaw || c == CodecNone) {
					t.Fatalf("tag %d for %s with %v", frame[0], in.name, c)
				}
				if !raw && !pays(len(frame)-1, len(in.data)) {
					t.Fatalf("kept a compressed frame of %d bytes for %d", len(frame)-1, len(in.data))
				}
				if len(frame) > frameBound(len(in.data)) {
					t.Fatalf("frame %d bytes > bound %d", len(frame), frameBound(len(in.data)))
				}
				got, err := DecodeFrame([]byte("x"), frame, len(in.data))
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got[1:], in.data) || got[0] != 'x' {
					t.Fatal("round trip changed the data")
				}
			})
		}
	}
}

func TestDecodeFrameErrors(t *testing.T) {
	text := syntheticText(6, 10000)
	frames := map[Codec][]byte{}
	for _, c := range allCodecs {
		frames[c] = AppendFrame(nil, text, c)
	}
	tests := []struct {
		name     string
		frame    []byte
		plainLen int
		want     error
	}{
		{"empty frame", nil, 0, ErrCorruptFrame},
		{"unknown tag", []byte{9, 1, 2}, 2, ErrCorruptFrame},
		{"raw short", frames[CodecNone], len(text) + 1, ErrCorruptFrame},
		{"raw long", frames[CodecNone], len(text) - 1, ErrCorruptFrame},
		{"zstd truncated", frames[CodecZstd][:len(frames[CodecZstd])/2], len(text), ErrCorruptFrame},
		{"zstd plainLen small", frames[CodecZstd], len(text) - 1, ErrCorruptFrame},
		{"zstd plainLen large", frames[CodecZstd], len(text) + 1, ErrCorruptFrame},
		{"s2 truncated", frames[CodecS2][:len(frames[CodecS2])/2], len(text), ErrCorruptFrame},
		{"s2 plainLen", frames[CodecS2], len(text) + 1, ErrCorruptFrame},
		{"tag swapped", append([]byte{TagS2}, frames[CodecZstd][1:]...), len(text), ErrCorruptFrame},
		{"too large", frames[CodecNone], MaxPlainLen + 1, ErrTooLarge},
		{"negative", frames[CodecNone], -1, ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst := []byte("keep")
			got, err := DecodeFrame(dst, tt.frame, tt.plainLen)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if string(got) != "keep" {
				t.Fatalf("dst changed to %d bytes on error", len(got))
			}
		})
	}
}

func TestFrameAllocs(t *testing.T) {
	text := syntheticText(7, 64<<10)
	rnd := randomBytes(8, 64<<10)
	for _, c := range allCodecs {
		for name, in := range map[string][]byte{"text": text, "random": rnd} {
			buf := make([]byte, 0, MaxFrameLen)
			out := make([]byte, 0, len(in))
			frame := AppendFrame(buf, in, c)
			// Warm up the shared encoder and decoder states.
			for range 3 {
				frame = AppendFrame(buf[:0], in, c)
				if _, err := DecodeFrame(out[:0], frame, len(in)); err != nil {
					t.Fatal(err)
				}
			}
			enc := testing.AllocsPerRun(20, func() { AppendFrame(buf[:0], in, c) })
			dec := testing.AllocsPerRun(20, func() {
				if _, err := DecodeFrame(out[:0], frame, len(in)); err != nil {
					t.Fatal(err)
				}
			})
			if !raceEnabled && (enc > 0 || dec > 0) {
				t.Errorf("%v/%s: %.1f allocs per AppendFrame, %.1f per DecodeFrame; want 0", c, name, enc, dec)
			}
		}
	}
}

func FuzzDecodeFrame(f *testing.F) {
	text := syntheticText(9, 3000)
	for _, c := range allCodecs {
		fr := AppendFrame(nil, text, c)
		f.Add(fr, uint32(len(text)))
		f.Add(fr[:len(fr)/3], uint32(len(text)))
	}
	f.Add([]byte{TagZstd, 0x28, 0xb5, 0x2f, 0xfd, 0, 0x58}, uint32(100))
	f.Add([]byte{TagS2, 0xff, 0xff, 0xff, 0xff, 0x0f}, uint32(1<<20))
	f.Fuzz(func(t *testing.T, frame []byte, plainLen uint32) {
		n := int(plainLen % (MaxPlainLen + 2))
		got, err := DecodeFrame(nil, frame, n)
		if err != nil {
			if !errors.Is(err, ErrCorruptFrame) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("untyped error %v", err)
			}
			if len(got) != 0 {
				t.Fatal("output on error")
			}
			return
		}
		if len(got) != n || cap(got) > max(n, 8)*2+64 {
			t.Fatalf("decoded %d bytes (cap %d), want %d", len(got), cap(got), n)
		}
	})
}

func FuzzFrameRoundTrip(f *testing.F) {
	f.Add([]byte("hello hello hello hello hello hello"), uint8(CodecZstd))
	f.Add(randomBytes(10, 500), uint8(CodecS2))
	f.Add([]byte{}, uint8(CodecZstdBetter))
	f.Fuzz(func(t *testing.T, data []byte, c uint8) {
		codec := Codec(c % uint8(len(allCodecs)+1)) // includes one unknown value
		frame := AppendFrame(nil, data, codec)
		if frame[0] != TagRaw && !pays(len(frame)-1, len(data)) {
			t.Fatalf("%v kept a frame that does not pay", codec)
		}
		got, err := DecodeFrame(nil, frame, len(data))
		if err != nil {
			t.Fatalf("%v: %v", codec, err)
		}
		if !bytes.Equal(got, data) {
			t.Fatalf("%v: round trip changed the data", codec)
		}
	})
}

func BenchmarkFrame(b *testing.B) {
	const chunk = 64 << 10
	inputs := []struct {
		name string
		data []byte
	}{
		{"gosrc", goSource(chunk)},
		{"random", randomBytes(11, chunk)},
	}
	for _, in := range inputs {
		for _, c := range allCodecs {
			buf := make([]byte, 0, MaxFrameLen)
			frame := AppendFrame(nil, in.data, c)
			ratio := float64(len(frame)) / float64(len(in.data))
			b.Run(fmt.Sprintf("encode/%s/%v", in.name, c), func(b *testing.B) {
				b.SetBytes(int64(len(in.data)))
				b.ReportAllocs()
				AppendFrame(buf[:0], in.data, c)
				cpu := startCPU()
				for b.Loop() {
					AppendFrame(buf[:0], in.data, c)
				}
				cpu.report(b)
				b.ReportMetric(ratio, "stored/plain")
			})
			out := make([]byte, 0, len(in.data))
			b.Run(fmt.Sprintf("decode/%s/%v", in.name, c), func(b *testing.B) {
				b.SetBytes(int64(len(in.data)))
				b.ReportAllocs()
				if _, err := DecodeFrame(out[:0], frame, len(in.data)); err != nil {
					b.Fatal(err)
				}
				cpu := startCPU()
				for b.Loop() {
					if _, err := DecodeFrame(out[:0], frame, len(in.data)); err != nil {
						b.Fatal(err)
					}
				}
				cpu.report(b)
			})
		}
	}
}

// BenchmarkSaving measures how much each codec saves per 64 KiB chunk over
// every file under GOROOT/src (the Go source tree, including its binary
// testdata), the corpus behind MinSavingDiv. Run with -benchtime=1x. It
// reports the corpus's stored/plain ratio with the threshold, the ratio if
// every chunk were stored compressed, and the share of chunks whose saving
// falls below 0, 1/16, 1/8 and 1/4.
func BenchmarkSaving(b *testing.B) {
	const chunk = 64 << 10
	var chunks [][]byte
	buf := make([]byte, 0, chunk)
	_ = filepath.WalkDir(filepath.Join(runtime.GOROOT(), "src"), func(path string, d os.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return nil
		}
		for len(data) > 0 {
			n := copy(buf[len(buf):chunk], data)
			buf, data = buf[:len(buf)+n], data[n:]
			if len(buf) == chunk {
				chunks = append(chunks, buf)
				buf = make([]byte, 0, chunk)
			}
		}
		return nil
	})
	if len(chunks) == 0 {
		chunks = [][]byte{goSource(chunk)}
	}
	for _, c := range allCodecs[1:] {
		b.Run(c.String(), func(b *testing.B) {
			b.SetBytes(int64(len(chunks) * chunk))
			var plain, stored, always float64
			var below [4]float64 // saving < 0, < 1/16, < 1/8, < 1/4
			frame := make([]byte, 0, MaxFrameLen)
			for b.Loop() {
				plain, stored, always = 0, 0, 0
				below = [4]float64{}
				for _, p := range chunks {
					frame = AppendFrame(frame[:0], p, c)
					var comp int
					if c == CodecS2 {
						comp = len(s2.Encode(frame[len(frame):cap(frame)], p))
					} else {
						comp = len(zstdEncoders[c]().EncodeAll(p, frame[len(frame):len(frame)]))
					}
					plain += float64(len(p))
					stored += float64(len(frame))
					always += float64(1 + comp)
					saving := 1 - float64(comp)/float64(len(p))
					for i, lim := range []float64{0, 1.0 / 16, 1.0 / 8, 1.0 / 4} {
						if saving < lim {
							below[i]++
						}
					}
				}
			}
			n := float64(len(chunks))
			b.ReportMetric(n, "chunks")
			b.ReportMetric(stored/plain, "stored/plain")
			b.ReportMetric(always/plain, "always/plain")
			b.ReportMetric(100*below[0]/n, "%<0")
			b.ReportMetric(100*below[1]/n, "%<1/16")
			b.ReportMetric(100*below[2]/n, "%<1/8")
			b.ReportMetric(100*below[3]/n, "%<1/4")
		})
	}
}

// TestFrameBound checks that frameBound covers what the compressors write
// for incompressible input, so AppendFrame never reallocates when given
// frameBound spare capacity.
func TestFrameBound(t *testing.T) {
	if MaxFrameLen != frameBound(MaxPlainLen) {
		t.Fatalf("MaxFrameLen %d != frameBound(MaxPlainLen) %d", MaxFrameLen, frameBound(MaxPlainLen))
	}
	for _, n := range []int{1, 100, 64 << 10, 128<<10 + 1, 1 << 20, MaxPlainLen} {
		p := randomBytes(uint64(n), n)
		if got := s2.MaxEncodedLen(n); 1+got > frameBound(n) {
			t.Errorf("n=%d: s2 bound %d > %d", n, 1+got, frameBound(n))
		}
		for _, c := range []Codec{CodecZstdFastest, CodecZstd, CodecZstdBetter} {
			if got := len(zstdEncoders[c]().EncodeAll(p, nil)); 1+got > frameBound(n) {
				t.Errorf("n=%d %v: zstd wrote %d > %d", n, c, 1+got, frameBound(n))
			}
		}
		buf := make([]byte, 0, frameBound(n))
		for _, c := range allCodecs {
			if out := AppendFrame(buf, p, c); &out[0] != &buf[:1][0] {
				t.Errorf("n=%d %v: AppendFrame reallocated", n, c)
			}
		}
	}
}

func TestIncompressibleProbe(t *testing.T) {
	random := make([]byte, 256<<10)
	rand.NewChaCha8([32]byte{1}).Read(random)
	if !incompressible(random) {
		t.Fatal("random bytes judged compressible")
	}
	text := bytes.Repeat([]byte("the quick brown fox jumps over the lazy dog. "), 6000)
	if incompressible(text) {
		t.Fatal("text judged incompressible")
	}
	// Random with a compressible middle: the middle sample catches it.
	mixed := bytes.Clone(random)
	copy(mixed[len(mixed)/2-8<<10:], text[:16<<10])
	if incompressible(mixed) {
		t.Fatal("mixed chunk judged incompressible")
	}
	// Small chunks are always tried.
	if incompressible(random[:8<<10]) {
		t.Fatal("small chunk skipped")
	}
	// Random frames are stored raw either way.
	f := AppendFrame(nil, random, CodecZstdFastest)
	if f[0] != TagRaw {
		t.Fatalf("random frame tag %d", f[0])
	}
}
