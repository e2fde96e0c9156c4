// Package benchcmd is `objd bench`: a load generator that drives an S3
// endpoint through the S3 API (minio-go), as users do, and reports
// throughput and latency for PUT and GET of objects of given sizes.
package benchcmd

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

const usage = `usage: objd bench [flags]
Drives an S3 endpoint with concurrent PUTs, then GETs, of objects of one size,
and prints throughput and latency percentiles. Credentials from
TESSERA_ACCESS_KEY / TESSERA_SECRET_KEY (or --access/--secret).`

// Result is one benchmark phase.
type Result struct {
	Op       string
	Size     int64
	Clients  int
	Ops      int
	Bytes    int64
	Elapsed  time.Duration
	P50, P99 time.Duration
	Errors   int
	FirstErr string // the first error seen, if any
}

func (r Result) String() string {
	mbs := float64(r.Bytes) / r.Elapsed.Seconds() / 1e6
	return fmt.Sprintf("%-4s size=%-9s clients=%-3d ops=%-6d %9.1f MB/s %9.1f ops/s  p50=%-8s p99=%-8s errors=%d",
		r.Op, sizeString(r.Size), r.Clients, r.Ops, mbs, float64(r.Ops)/r.Elapsed.Seconds(),
		r.P50.Round(10*time.Microsecond), r.P99.Round(10*time.Microsecond), r.Errors) + firstErr(r.FirstErr)
}

func firstErr(s string) string {
	if s == "" {
		return ""
	}
	return " first-error=" + s
}

func sizeString(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%dMiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%dKiB", n>>10)
	}
	return fmt.Sprint(n)
}

// Config is one benchmark run.
type Config struct {
	Endpoint       string
	Access, Secret string
	Bucket         string
	Size           int64
	Clients        int
	Duration       time.Duration // per phase
	MaxOps         int           // per phase, 0 = unbounded
	Data           string        // "random", "dup" (every object the same bytes) or "text"
	GetOnly        bool
}

// Run parses flags and runs the benchmark.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("objd bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintln(stderr, usage); fs.PrintDefaults() }
	var c Config
	var size string
	fs.StringVar(&c.Endpoint, "endpoint", "http://127.0.0.1:9000", "S3 endpoint")
	fs.StringVar(&c.Access, "access", getenv("TESSERA_ACCESS_KEY"), "access key")
	fs.StringVar(&c.Secret, "secret", getenv("TESSERA_SECRET_KEY"), "secret key")
	fs.StringVar(&c.Bucket, "bucket", "bench", "bucket (created if missing)")
	fs.StringVar(&size, "size", "16MiB", "object size (4KiB, 1MiB, 16MiB, 256MiB, ...)")
	fs.IntVar(&c.Clients, "clients", 16, "concurrent clients")
	fs.DurationVar(&c.Duration, "duration", 10*time.Second, "length of each phase")
	fs.IntVar(&c.MaxOps, "ops", 0, "stop each phase after this many operations (0 = by duration)")
	fs.StringVar(&c.Data, "data", "random", "object contents: random (unique, incompressible), dup (all objects identical), text (compressible source text)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	n, err := ParseSize(size)
	if err != nil {
		return err
	}
	c.Size = n
	res, err := Bench(ctx, c)
	for _, r := range res {
		fmt.Fprintln(stdout, r)
	}
	return err
}

// ParseSize parses 4096, 4K, 4KiB, 16M, 1G.
func ParseSize(s string) (int64, error) {
	t := strings.TrimSuffix(strings.TrimSuffix(strings.ToUpper(strings.TrimSpace(s)), "B"), "I")
	mult := int64(1)
	switch {
	case strings.HasSuffix(t, "K"):
		mult, t = 1<<10, t[:len(t)-1]
	case strings.HasSuffix(t, "M"):
		mult, t = 1<<20, t[:len(t)-1]
	case strings.HasSuffix(t, "G"):
		mult, t = 1<<30, t[:len(t)-1]
	}
	var n int64
	if _, err := fmt.Sscan(t, &n); err != nil || n < 0 {
		return 0, fmt.Errorf("bad size %q", s)
	}
	return n * mult, nil
}

// Bench runs a PUT phase then a GET phase over the objects written.
func Bench(ctx context.Context, c Config) ([]Result, error) {
	u, err := url.Parse(c.Endpoint)
	if err != nil {
		return nil, err
	}
	tr := &http.Transport{MaxIdleConnsPerHost: 1024, MaxIdleConns: 1024, DisableCompression: true}
	cl, err := minio.New(u.Host, &minio.Options{
		Creds:     credentials.NewStaticV4(c.Access, c.Secret, ""),
		Secure:    u.Scheme == "https",
		Transport: tr,
	})
	if err != nil {
		return nil, err
	}
	if err := cl.MakeBucket(ctx, c.Bucket, minio.MakeBucketOptions{}); err != nil {
		var er minio.ErrorResponse
		if !errors.As(err, &er) || er.Code != "BucketAlreadyOwnedByYou" {
			return nil, fmt.Errorf("make bucket: %w", err)
		}
	}
	pool, err := dataPool(c.Data)
	if err != nil {
		return nil, err
	}
	run := time.Now().UnixNano()
	var mu sync.Mutex
	var keys []string // objects whose PUT succeeded (phase ends cut some off)
	put := phase(ctx, c, "PUT", func(ctx context.Context, i int) (int64, error) {
		key := fmt.Sprintf("obj-%d-%d", run, i)
		r := &genReader{pool: pool, size: c.Size, seed: uint64(run) + uint64(i), dup: c.Data == "dup"}
		_, err := cl.PutObject(ctx, c.Bucket, key, r, c.Size, minio.PutObjectOptions{
			ContentType: "application/octet-stream", DisableContentSha256: true, PartSize: 64 << 20,
		})
		if err == nil {
			mu.Lock()
			keys = append(keys, key)
			mu.Unlock()
		}
		return c.Size, err
	})
	if len(keys) == 0 {
		return []Result{put}, errors.New("no object was written")
	}
	get := phase(ctx, c, "GET", func(ctx context.Context, i int) (int64, error) {
		key := keys[i%len(keys)]
		o, err := cl.GetObject(ctx, c.Bucket, key, minio.GetObjectOptions{})
		if err != nil {
			return 0, err
		}
		defer o.Close()
		return io.Copy(io.Discard, o)
	})
	return []Result{put, get}, nil
}

// phase runs op from c.Clients goroutines until Duration or MaxOps.
func phase(ctx context.Context, c Config, name string, op func(context.Context, int) (int64, error)) Result {
	ctx, cancel := context.WithTimeout(ctx, c.Duration)
	defer cancel()
	var next atomic.Int64
	var mu sync.Mutex
	var lat []time.Duration
	var total int64
	errs := 0
	first := ""
	start := time.Now()
	var wg sync.WaitGroup
	for range c.Clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if c.MaxOps > 0 && i >= c.MaxOps {
					return
				}
				t0 := time.Now()
				n, err := op(ctx, i)
				d := time.Since(t0)
				mu.Lock()
				if err != nil {
					if ctx.Err() == nil {
						errs++
						if first == "" {
							first = err.Error()
						}
					}
				} else {
					lat = append(lat, d)
					total += n
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	el := time.Since(start)
	slices.Sort(lat)
	r := Result{Op: name, Size: c.Size, Clients: c.Clients, Ops: len(lat), Bytes: total, Elapsed: el, Errors: errs, FirstErr: first}
	if len(lat) > 0 {
		r.P50 = lat[len(lat)/2]
		r.P99 = lat[len(lat)*99/100]
	}
	return r
}

// dataPool returns 32 MiB of source material.
func dataPool(kind string) ([]byte, error) {
	const n = 32 << 20
	switch kind {
	case "random", "dup":
		b := make([]byte, n)
		r := rand.NewChaCha8([32]byte{1})
		r.Read(b)
		return b, nil
	case "text":
		var buf bytes.Buffer
		root := filepath.Join(goroot(), "src")
		filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if err != nil || buf.Len() >= n {
				return filepath.SkipAll
			}
			if !d.IsDir() && strings.HasSuffix(p, ".go") {
				if b, err := os.ReadFile(p); err == nil {
					buf.Write(b)
				}
			}
			return nil
		})
		if buf.Len() < 1<<20 {
			return nil, errors.New("text data: Go source tree not found (set GOROOT)")
		}
		return buf.Bytes(), nil
	}
	return nil, fmt.Errorf("unknown --data %q", kind)
}

func goroot() string {
	if r := os.Getenv("GOROOT"); r != "" {
		return r
	}
	return "/usr/local/go"
}

// genReader yields size bytes drawn from pool. Unless dup, every 4 KiB
// block is stamped with the object's seed and block number, so no two
// objects (and no two blocks) share a chunk.
type genReader struct {
	pool []byte
	size int64
	seed uint64
	dup  bool
	off  int64
}

func (g *genReader) Read(p []byte) (int, error) {
	if g.off >= g.size {
		return 0, io.EOF
	}
	if int64(len(p)) > g.size-g.off {
		p = p[:g.size-g.off]
	}
	n := 0
	for n < len(p) {
		po := int((g.off + int64(n)) % int64(len(g.pool)))
		m := copy(p[n:], g.pool[po:])
		n += m
	}
	if !g.dup {
		// Stamp each 4 KiB block that starts inside p.
		for b := (g.off + 4095) / 4096 * 4096; b+16 <= g.off+int64(n); b += 4096 {
			i := b - g.off
			binary.LittleEndian.PutUint64(p[i:], g.seed*0x9E3779B97F4A7C15)
			binary.LittleEndian.PutUint64(p[i+8:], uint64(b))
		}
	}
	g.off += int64(n)
	return n, nil
}
