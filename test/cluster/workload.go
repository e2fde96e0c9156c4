// Package cluster drives a whole Tessera cluster (metad voters, storage
// nodes, gateways) as separate processes from a test. The test in this
// package starts the processes on 127.0.0.1; test/compose reuses the
// workload (objects written and checked byte for byte through S3) against
// the same cluster in containers.
package cluster

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sort"

	"github.com/minio/minio-go/v7"
	"golang.org/x/sync/errgroup"
)

// ErrMismatch reports an object read back with other bytes than written.
var ErrMismatch = errors.New("cluster: object content mismatch")

// Object is one object of a workload: its key, size and the SHA-256 of
// its content. The content itself is regenerated from Seed on demand, so
// a workload of tens of MiB is not held in memory.
type Object struct {
	Key  string
	Size int64
	Seed uint64
	Sum  [sha256.Size]byte
}

// Open returns the object's content.
func (o Object) Open() io.Reader {
	return io.LimitReader(newSeeded(o.Seed), o.Size)
}

// seeded is an endless pseudo-random byte stream (incompressible, so the
// erasure path carries the real size).
type seeded struct {
	r   *rand.ChaCha8
	buf [4096]byte
	n   int // unread bytes at the end of buf
}

func newSeeded(seed uint64) *seeded {
	var s [32]byte
	for i := range 8 {
		s[i] = byte(seed >> (8 * i))
	}
	return &seeded{r: rand.NewChaCha8(s)}
}

func (s *seeded) Read(p []byte) (int, error) {
	if s.n == 0 {
		s.r.Read(s.buf[:])
		s.n = len(s.buf)
	}
	n := copy(p, s.buf[len(s.buf)-s.n:])
	s.n -= n
	return n, nil
}

// NewObjects returns count objects named prefix/NNN with sizes cycling
// from 1 KiB to 20 MiB; every seventh object repeats the content of an
// earlier one, so the cluster deduplicates it.
func NewObjects(prefix string, count int, seed uint64) []Object {
	sizes := []int64{1 << 10, 3<<10 + 17, 64 << 10, 300<<10 + 5, 1 << 20, 5<<19 + 3}
	objs := make([]Object, count)
	for i := range objs {
		o := Object{Key: fmt.Sprintf("%s/%03d", prefix, i), Size: sizes[i%len(sizes)], Seed: seed*1000 + uint64(i)}
		switch {
		case i == 3:
			o.Size = 20 << 20
		case i == 10:
			o.Size = 8<<20 + 123
		case i%7 == 6:
			o.Size, o.Seed = objs[i-5].Size, objs[i-5].Seed // a duplicate
		}
		h := sha256.New()
		io.Copy(h, o.Open())
		copy(o.Sum[:], h.Sum(nil))
		objs[i] = o
	}
	return objs
}

// TotalBytes is the sum of the objects' sizes.
func TotalBytes(objs []Object) int64 {
	var n int64
	for _, o := range objs {
		n += o.Size
	}
	return n
}

// Put writes the objects into bucket through c, par at a time.
func Put(ctx context.Context, c *minio.Client, bucket string, objs []Object, par int) error {
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(par)
	for _, o := range objs {
		g.Go(func() error {
			_, err := c.PutObject(ctx, bucket, o.Key, o.Open(), o.Size, minio.PutObjectOptions{
				ContentType: "application/octet-stream", PartSize: 64 << 20,
			})
			if err != nil {
				return fmt.Errorf("cluster: put %s (%d bytes): %w", o.Key, o.Size, err)
			}
			return nil
		})
	}
	return g.Wait()
}

// Verify reads every object back through the clients (object i through
// clients[i%len(clients)]) and compares sizes and SHA-256 sums.
func Verify(ctx context.Context, clients []*minio.Client, bucket string, objs []Object, par int) error {
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(par)
	for i, o := range objs {
		c := clients[i%len(clients)]
		g.Go(func() error { return verifyOne(ctx, c, bucket, o) })
	}
	return g.Wait()
}

func verifyOne(ctx context.Context, c *minio.Client, bucket string, o Object) error {
	r, err := c.GetObject(ctx, bucket, o.Key, minio.GetObjectOptions{})
	if err != nil {
		return fmt.Errorf("cluster: get %s via %s: %w", o.Key, c.EndpointURL().Host, err)
	}
	defer r.Close()
	h := sha256.New()
	n, err := io.Copy(h, r)
	if err != nil {
		return fmt.Errorf("cluster: get %s via %s after %d bytes: %w", o.Key, c.EndpointURL().Host, n, err)
	}
	if n != o.Size || !bytes.Equal(h.Sum(nil), o.Sum[:]) {
		return fmt.Errorf("%w: %s via %s: %d bytes, want %d", ErrMismatch, o.Key, c.EndpointURL().Host, n, o.Size)
	}
	return nil
}

// List returns the keys under prefix in bucket, sorted.
func List(ctx context.Context, c *minio.Client, bucket, prefix string) ([]string, error) {
	var keys []string
	for oi := range c.ListObjects(ctx, bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
		if oi.Err != nil {
			return nil, fmt.Errorf("cluster: list %s/%s: %w", bucket, prefix, oi.Err)
		}
		keys = append(keys, oi.Key)
	}
	sort.Strings(keys)
	return keys, nil
}

// Keys returns the objects' keys, sorted.
func Keys(objs []Object) []string {
	keys := make([]string, len(objs))
	for i, o := range objs {
		keys[i] = o.Key
	}
	sort.Strings(keys)
	return keys
}
