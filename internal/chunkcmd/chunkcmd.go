// Package chunkcmd implements `objd chunk`: it cuts files into chunks the way
// the write path does and reports what deduplication and compression would
// store.
package chunkcmd

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/klauspost/compress/zstd"
	"github.com/tessera-store/tessera/chunk"
)

// ErrUsage reports bad flags or arguments.
var ErrUsage = errors.New("chunkcmd: usage")

const usage = `usage: objd chunk [--min N] [--avg N] [--max N] FILE...

Cuts each FILE into content-defined chunks (FastCDC, BLAKE3-256 addresses) and
prints one line per chunk, "offset length blake3-hex" (offset within its file),
then a summary line:

  chunks=N unique=N logical=BYTES unique_bytes=BYTES compressed=BYTES dedup_ratio=X

compressed sums min(zstd fastest, raw) over the unique chunks; dedup_ratio is
logical/compressed. Sizes take a byte count or a K, KiB, M, MiB, G or GiB
suffix (all powers of 1024). Omitted sizes take the chunk package defaults
(--avg alone sets min = avg/4 and max = 4*avg).
`

// Run executes the command with args (the arguments after "chunk").
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("chunk", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usage) }
	var opt chunk.Options
	fs.Func("min", "minimum chunk size", sizeFlag(&opt.Min))
	fs.Func("avg", "average chunk size (a power of two)", sizeFlag(&opt.Avg))
	fs.Func("max", "maximum chunk size", sizeFlag(&opt.Max))
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %v", ErrUsage, err)
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return fmt.Errorf("%w: no files", ErrUsage)
	}
	if err := opt.Validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrUsage, err)
	}
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1))
	if err != nil {
		return fmt.Errorf("chunkcmd: %w", err)
	}
	defer enc.Close()

	out := bufio.NewWriter(stdout)
	st := stats{enc: enc, seen: make(map[chunk.Addr]struct{})}
	s := chunk.NewSplitter(nil, opt)
	for _, name := range fs.Args() {
		if err := st.file(ctx, s, name, out); err != nil {
			out.Flush()
			return err
		}
	}
	fmt.Fprintf(out, "chunks=%d unique=%d logical=%d unique_bytes=%d compressed=%d dedup_ratio=%s\n",
		st.chunks, len(st.seen), st.logical, st.unique, st.compressed, ratio(st.logical, st.compressed))
	if err := out.Flush(); err != nil {
		return fmt.Errorf("chunkcmd: write: %w", err)
	}
	return nil
}

// stats accumulates the summary over all files.
type stats struct {
	enc                         *zstd.Encoder
	seen                        map[chunk.Addr]struct{}
	chunks                      int
	logical, unique, compressed int64
	buf, zbuf                   []byte
}

func (st *stats) file(ctx context.Context, s *chunk.Splitter, name string, out io.Writer) error {
	f, err := os.Open(name)
	if err != nil {
		return fmt.Errorf("chunkcmd: %w", err)
	}
	defer f.Close()
	s.Reset(f)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		c, err := s.Next(st.buf)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("chunkcmd: %s: %w", name, err)
		}
		st.buf = c.Data[:0] // keep a buffer grown to the largest chunk
		if _, err := fmt.Fprintf(out, "%d %d %s\n", c.Offset, len(c.Data), c.Addr); err != nil {
			return fmt.Errorf("chunkcmd: write: %w", err)
		}
		st.chunks++
		st.logical += int64(len(c.Data))
		if _, dup := st.seen[c.Addr]; dup {
			continue
		}
		st.seen[c.Addr] = struct{}{}
		st.unique += int64(len(c.Data))
		st.zbuf = st.enc.EncodeAll(c.Data, st.zbuf[:0])
		st.compressed += int64(min(len(st.zbuf), len(c.Data)))
	}
}

// ratio formats logical/stored with two decimals ("0.00" when nothing is
// stored).
func ratio(logical, stored int64) string {
	if stored == 0 {
		return "0.00"
	}
	return strconv.FormatFloat(float64(logical)/float64(stored), 'f', 2, 64)
}

// sizeFlag parses a size into *dst.
func sizeFlag(dst *int) func(string) error {
	return func(s string) error {
		n, err := ParseSize(s)
		if err != nil {
			return err
		}
		*dst = n
		return nil
	}
}

// ErrBadSize reports a size ParseSize cannot read.
var ErrBadSize = errors.New("chunkcmd: bad size")

// ParseSize reads a byte count with an optional K, KiB, M, MiB, G or GiB
// suffix (case-insensitive, all powers of 1024): "65536", "64K", "64KiB",
// "1M".
func ParseSize(s string) (int, error) {
	num := strings.TrimSpace(s)
	shift := 0
	lower := strings.ToLower(num)
	for _, u := range []struct {
		suffix string
		shift  int
	}{{"kib", 10}, {"mib", 20}, {"gib", 30}, {"k", 10}, {"m", 20}, {"g", 30}} {
		if strings.HasSuffix(lower, u.suffix) {
			num, shift = num[:len(num)-len(u.suffix)], u.shift
			break
		}
	}
	n, err := strconv.ParseUint(num, 10, 63-shift)
	if err != nil || num == "" || num[0] == '+' {
		return 0, fmt.Errorf("%w: %q", ErrBadSize, s)
	}
	v := n << shift
	if v > uint64(int(^uint(0)>>1)) {
		return 0, fmt.Errorf("%w: %q", ErrBadSize, s)
	}
	return int(v), nil
}
