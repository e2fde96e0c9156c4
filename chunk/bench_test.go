package chunk

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	cdc "github.com/PlakarKorp/go-cdc-chunkers"
	_ "github.com/PlakarKorp/go-cdc-chunkers/chunkers/fastcdc"
	_ "github.com/PlakarKorp/go-cdc-chunkers/chunkers/ultracdc"
	jotfs "github.com/jotfs/fastcdc-go"
	restic "github.com/restic/chunker"
	"github.com/zeebo/blake3"
)

// benchOpt is the configuration every chunker is compared at.
var benchOpt = Options{Min: 16 << 10, Avg: 64 << 10, Max: 256 << 10}

var (
	randomOnce sync.Once
	randomData []byte

	gosrcOnce sync.Once
	gosrcData []byte
	gosrcErr  error
)

// benchRandom returns 256 MiB of seeded pseudo-random bytes.
func benchRandom(b *testing.B) []byte {
	randomOnce.Do(func() { randomData = seeded(256<<20, 1) })
	return randomData
}

// benchGoSrc returns a tar of $GOROOT/src, built once and cached under
// os.TempDir().
func benchGoSrc(b *testing.B) []byte {
	gosrcOnce.Do(func() { gosrcData, gosrcErr = loadGoSrcTar() })
	if gosrcErr != nil {
		b.Fatal(gosrcErr)
	}
	return gosrcData
}

func loadGoSrcTar() ([]byte, error) {
	path := filepath.Join(os.TempDir(), "tessera-chunk-gosrc-"+runtime.Version()+".tar")
	if data, err := os.ReadFile(path); err == nil && len(data) > 0 {
		return data, nil
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	root := filepath.Join(runtime.GOROOT(), "src")
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		hdr, err := tar.FileInfoHeader(info, "")
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		hdr.Name = filepath.ToSlash(rel)
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.Copy(tw, f)
		return err
	})
	if err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, buf.Bytes(), 0o644); err != nil {
		return nil, err
	}
	if err := os.Rename(tmp, path); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// seeded returns n bytes from ChaCha8 with a seed derived from seed.
func seeded(n int, seed byte) []byte {
	var key [32]byte
	key[0] = seed
	p := make([]byte, n)
	_, _ = rand.NewChaCha8(key).Read(p)
	return p
}

type corpus struct {
	name string
	data func(*testing.B) []byte
}

var corpora = []corpus{{"random", benchRandom}, {"gosrc", benchGoSrc}}

// BenchmarkChunkers compares cutting speed at the same min/avg/max; each
// reports the average chunk size it produced. "tessera" cuts (and copies
// into the caller's buffer) without hashing; "tessera+blake3" adds the
// BLAKE3 address, on a helper goroutine when GOMAXPROCS > 1, and
// "-serial" on the calling goroutine; "blake3-alone" hashes the same bytes
// in 64 KiB pieces.
func BenchmarkChunkers(b *testing.B) {
	for _, c := range corpora {
		b.Run(c.name, func(b *testing.B) {
			data := c.data(b)
			b.Run("tessera", func(b *testing.B) {
				s := NewSplitter(nil, benchOpt)
				s.noHash = true
				rd := bytes.NewReader(nil)
				buf := make([]byte, benchOpt.Max)
				run(b, data, func() (int, error) {
					rd.Reset(data)
					s.Reset(rd)
					return countChunks(func() (int, error) {
						c, err := s.Next(buf)
						return len(c.Data), err
					})
				})
			})
			for _, serial := range []bool{false, true} {
				name := "tessera+blake3"
				if serial {
					name += "-serial"
				}
				b.Run(name, func(b *testing.B) {
					opt := benchOpt
					opt.Serial = serial
					s := NewSplitter(nil, opt)
					defer s.Close()
					rd := bytes.NewReader(nil)
					buf := make([]byte, benchOpt.Max)
					run(b, data, func() (int, error) {
						rd.Reset(data)
						s.Reset(rd)
						return countChunks(func() (int, error) {
							c, err := s.Next(buf)
							return len(c.Data), err
						})
					})
				})
			}
			b.Run("blake3-alone", func(b *testing.B) {
				// The same bytes in 64 KiB pieces, the average chunk size.
				h := blake3.New()
				var sum [32]byte
				run(b, data, func() (int, error) {
					n := 0
					for p := data; len(p) > 0; n++ {
						k := min(len(p), benchOpt.Avg)
						h.Reset()
						_, _ = h.Write(p[:k])
						h.Sum(sum[:0])
						p = p[k:]
					}
					return n, nil
				})
			})
			b.Run("jotfs-fastcdc", func(b *testing.B) {
				run(b, data, func() (int, error) {
					ch, err := jotfs.NewChunker(bytes.NewReader(data), jotfs.Options{
						MinSize: benchOpt.Min, AverageSize: benchOpt.Avg, MaxSize: benchOpt.Max,
					})
					if err != nil {
						return 0, err
					}
					return countChunks(func() (int, error) {
						c, err := ch.Next()
						return c.Length, err
					})
				})
			})
			b.Run("restic-rabin", func(b *testing.B) {
				ch := restic.NewWithBoundaries(nil, restic.Pol(0x3DA3358B4DC173), uint(benchOpt.Min), uint(benchOpt.Max))
				ch.SetAverageBits(16)
				buf := make([]byte, benchOpt.Max)
				run(b, data, func() (int, error) {
					ch.ResetWithBoundaries(bytes.NewReader(data), restic.Pol(0x3DA3358B4DC173), uint(benchOpt.Min), uint(benchOpt.Max))
					ch.SetAverageBits(16)
					return countChunks(func() (int, error) {
						c, err := ch.Next(buf)
						return int(c.Length), err
					})
				})
			})
			// plakar's "fastcdc" keeps fixed masks made for 8 KiB (its legacy
			// format) whatever the sizes; "fastcdc-v1.0.0" derives them from
			// NormalSize like ours.
			for _, v := range []struct {
				algo, name string
				normal     int
			}{
				{"fastcdc-v1.0.0", "fastcdc-v1.0.0", benchOpt.Avg},
				{"fastcdc", "fastcdc-legacy", benchOpt.Avg},
				{"ultracdc", "ultracdc", benchOpt.Avg},
			} {
				algo := v.algo
				b.Run("plakar-"+v.name, func(b *testing.B) {
					run(b, data, func() (int, error) {
						ch, err := cdc.NewChunker(algo, bytes.NewReader(data), &cdc.ChunkerOpts{
							MinSize: benchOpt.Min, NormalSize: v.normal, MaxSize: benchOpt.Max,
						})
						if err != nil {
							return 0, err
						}
						return countChunks(func() (int, error) {
							c, err := ch.Next()
							if err == io.EOF && len(c) > 0 {
								return len(c), nil // plakar returns the last chunk with io.EOF
							}
							return len(c), err
						})
					})
				})
			}
		})
	}
}

// countChunks calls next until io.EOF and returns the number of chunks.
func countChunks(next func() (int, error)) (int, error) {
	n := 0
	for {
		k, err := next()
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		if k > 0 {
			n++
		}
	}
}

// run times pass (one full pass over data, returning the chunk count) and
// reports the average chunk size.
func run(b *testing.B, data []byte, pass func() (int, error)) {
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	// One warm-up pass starts helper goroutines and fills caches; b.Loop
	// resets the timer and the allocation counters.
	if _, err := pass(); err != nil {
		b.Fatal(err)
	}
	chunks, passes := 0, 0
	var cpu time.Duration
	for b.Loop() {
		start := processCPU()
		n, err := pass()
		if err != nil {
			b.Fatal(err)
		}
		cpu += processCPU() - start
		chunks = n
		passes++
	}
	if chunks > 0 {
		b.ReportMetric(float64(len(data))/float64(chunks), "avg-chunk-bytes")
	}
	if cpu > 0 {
		// Throughput per CPU second: steadier than MB/s when other
		// processes share the cores. With a helper goroutine it counts
		// both goroutines' work.
		b.ReportMetric(float64(len(data))*float64(passes)/cpu.Seconds()/1e6, "cpu-MB/s")
	}
}
