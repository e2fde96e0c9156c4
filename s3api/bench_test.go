package s3api

import (
	"bytes"
	"crypto/md5"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"

	"github.com/zeebo/blake3"
)

func TestMD5Pipe(t *testing.T) {
	for _, n := range []int{0, 1, pipeBufSize - 1, pipeBufSize, 5*pipeBufSize + 17} {
		data := randBytes(uint64(n), n)
		p := newMD5Pipe()
		// Uneven writes, as a network body gives them.
		for off, step := 0, 1; off < n; step = step*3 + 1 {
			end := min(off+step, n)
			p.Write(data[off:end])
			off = end
		}
		want := md5.Sum(data)
		if got := p.Sum(); !bytes.Equal(got, want[:]) {
			t.Errorf("%d bytes: %x, want %x", n, got, want)
		}
		p.Close()
		if _, err := p.Write([]byte("x")); err == nil {
			t.Errorf("write after close accepted")
		}
	}
	// Abort without Sum: the goroutine stops.
	p := newMD5Pipe()
	p.Write(make([]byte, 3*pipeBufSize))
	p.Close()
}

// consumer stands in for the write path behind the body: it BLAKE3-hashes
// what it reads in 64 KiB chunks, as chunk IDs are computed.
func consume(r io.Reader) error {
	buf := make([]byte, 64<<10)
	h := blake3.New()
	for {
		n, err := r.Read(buf)
		h.Write(buf[:n])
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// BenchmarkDigestReader compares hashing the ETag inline with the pipelined
// MD5 goroutine, with a consumer doing BLAKE3 work on the same bytes.
func BenchmarkDigestReader(b *testing.B) {
	const size = 8 << 20
	data := randBytes(9, size)
	for _, mode := range []string{"inline", "pipelined"} {
		b.Run(fmt.Sprintf("%s/8MiB", mode), func(b *testing.B) {
			b.SetBytes(size)
			b.ReportAllocs()
			for b.Loop() {
				pipeAt := int64(pipeMinSize)
				if mode == "inline" {
					pipeAt = -1
				}
				d, err := newDigest(bytes.NewReader(data), http.Header{}, size, noTrailer, pipeAt)
				if err != nil {
					b.Fatal(err)
				}
				if err := consume(d); err != nil {
					b.Fatal(err)
				}
				d.close()
			}
		})
	}
}

// BenchmarkMD5Concurrent hashes 16 concurrent 8 MiB bodies, read in 32 KiB
// pieces as an HTTP body gives them, with the ETag MD5 inline (crypto/md5),
// piped to a goroutine running crypto/md5, or piped into md5-simd's shared
// SIMD lanes. ns/op and MB/s are for all 16 bodies: CPU per byte when both
// cores are busy, as on a loaded gateway.
func BenchmarkMD5Concurrent(b *testing.B) {
	const size, streams = 8 << 20, 16
	data := randBytes(10, size)
	for _, mode := range []string{"inline", "pipe-stdlib", "pipe-simd"} {
		b.Run(mode, func(b *testing.B) {
			b.SetBytes(size * streams)
			b.ReportAllocs()
			for b.Loop() {
				var wg sync.WaitGroup
				for range streams {
					wg.Add(1)
					go func() {
						defer wg.Done()
						var w io.Writer
						var sum func() []byte
						switch mode {
						case "inline":
							h := md5.New()
							w, sum = h, func() []byte { return h.Sum(nil) }
						case "pipe-stdlib":
							p := newMD5PipeOf(md5.New(), func() {})
							w, sum = p, p.Sum
						default:
							p := newMD5Pipe()
							w, sum = p, p.Sum
						}
						for off := 0; off < size; off += 32 << 10 {
							w.Write(data[off : off+32<<10])
						}
						if got, want := sum(), md5.Sum(data); !bytes.Equal(got, want[:]) {
							b.Error("wrong MD5")
						}
					}()
				}
				wg.Wait()
			}
		})
	}
}

func noTrailer() (string, string, bool) { return "", "", false }

// BenchmarkPutGet measures the S3 surface end to end over HTTP on the
// in-memory fake backend: signing, auth, digests, XML, routing.
func BenchmarkPutGet(b *testing.B) {
	for _, size := range []int{4 << 10, 1 << 20, 16 << 20} {
		e := newEnv(b)
		if r, _ := e.do(b, "PUT", "/bench", nil, nil); r.StatusCode != 200 {
			b.Fatalf("create bucket: %s", r.Status)
		}
		data := randBytes(uint64(size), size)
		b.Run(fmt.Sprintf("put/%dKiB", size>>10), func(b *testing.B) {
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				if r, _ := e.do(b, "PUT", "/bench/obj", data, nil); r.StatusCode != 200 {
					b.Fatalf("PUT: %s", r.Status)
				}
			}
		})
		b.Run(fmt.Sprintf("get/%dKiB", size>>10), func(b *testing.B) {
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				if r, body := e.do(b, "GET", "/bench/obj", nil, nil); r.StatusCode != 200 || len(body) != size {
					b.Fatalf("GET: %s", r.Status)
				}
			}
		})
	}
}

func TestDigestReaderFailures(t *testing.T) {
	const crcOfHello = "NhCmhg==" // CRC32 of "hello"
	trailer := func(alg, v string, ok bool) func() (string, string, bool) {
		return func() (string, string, bool) { return alg, v, ok }
	}
	for _, tc := range []struct {
		name    string
		body    string
		size    int64
		hdr     map[string]string
		trailer func() (string, string, bool)
		want    error
	}{
		{"ok", "hello", 5, nil, noTrailer, nil},
		{"ok unknown length", "hello", -1, nil, noTrailer, nil},
		{"short", "hell", 5, nil, noTrailer, ErrIncompleteBody},
		{"long", "hello!", 5, nil, noTrailer, ErrIncompleteBody},
		{"header checksum", "hello", 5, map[string]string{"x-amz-checksum-crc32": crcOfHello}, noTrailer, nil},
		{"trailer ok", "hello", 5, map[string]string{"x-amz-trailer": "x-amz-checksum-crc32"}, trailer("CRC32", crcOfHello, true), nil},
		{"trailer missing", "hello", 5, map[string]string{"x-amz-trailer": "x-amz-checksum-crc32"}, noTrailer, ErrIncompleteBody},
		{"trailer other alg", "hello", 5, map[string]string{"x-amz-trailer": "x-amz-checksum-crc32"}, trailer("SHA1", crcOfHello, true), ErrInvalidRequest},
		{"trailer wrong", "hello", 5, map[string]string{"x-amz-trailer": "x-amz-checksum-crc32"}, trailer("CRC32", "AAAAAA==", true), ErrChecksumMismatch},
		{"algorithm only", "hello", 5, map[string]string{"x-amz-sdk-checksum-algorithm": "CRC32"}, noTrailer, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			for k, v := range tc.hdr {
				h.Set(k, v)
			}
			d, err := newDigest(bytes.NewReader([]byte(tc.body)), h, tc.size, tc.trailer, pipeMinSize)
			if err != nil {
				t.Fatal(err)
			}
			defer d.close()
			_, err = io.Copy(io.Discard, d)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if err == nil && tc.hdr != nil && d.sums["CRC32"] != crcOfHello {
				t.Errorf("sums = %v", d.sums)
			}
			if err == nil && d.etag != "5d41402abc4b2a76b9719d911017c592" {
				t.Errorf("etag = %s", d.etag)
			}
		})
	}
	// A large body takes the pipelined MD5 path.
	big := randBytes(7, pipeMinSize+12345)
	d, err := newDigest(bytes.NewReader(big), http.Header{}, int64(len(big)), noTrailer, pipeMinSize)
	if err != nil || d.pipe == nil {
		t.Fatalf("pipe not used: %v", err)
	}
	if _, err := io.Copy(io.Discard, d); err != nil {
		t.Fatal(err)
	}
	d.close()
	if want := md5.Sum(big); d.etag != fmt.Sprintf("%x", want) {
		t.Errorf("pipelined etag = %s", d.etag)
	}
}
