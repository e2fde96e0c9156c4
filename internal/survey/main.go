// Command survey measures how chunk sizes trade deduplication against
// metadata on real datasets, to choose chunk.Options defaults.
//
// For every dataset folder under -data and every chunker configuration it
// chunks each file as one object, keeps each distinct chunk once, compresses
// it with zstd (fastest level, kept raw when that is smaller) and charges
// metadata per chunk. It prints a Markdown table:
//
//	go run ./internal/survey -data /tmp/tessera-data
//
// The net ratio is logical bytes / (stored bytes + metadata bytes), where
// metadata = IndexEntryBytes per unique chunk + RefBytes per chunk reference.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/tessera-store/tessera/chunk"
	"golang.org/x/sync/errgroup"
)

// Metadata charged per chunk: a chunk index entry (address, pack id, offset,
// lengths, refcount) per unique chunk, and one manifest reference (address
// plus length) per chunk of every object.
const (
	IndexEntryBytes = 80
	RefBytes        = 36
)

// config is one chunker setting under test.
type config struct {
	name string
	opt  chunk.Options
}

func configs() []config {
	var cs []config
	for avg := 32 << 10; avg <= 4<<20; avg *= 2 {
		cs = append(cs, config{fmt.Sprintf("fastcdc-%s", size(avg)), chunk.Options{Min: avg / 4, Avg: avg, Max: avg * 4}})
	}
	return append(cs, config{"fixed-1MiB", chunk.Options{Min: 1 << 20, Avg: 1 << 20, Max: 1 << 20}})
}

func size(n int) string {
	if n >= 1<<20 {
		return fmt.Sprintf("%dMiB", n>>20)
	}
	return fmt.Sprintf("%dKiB", n>>10)
}

// result is what one (dataset, config) run measured.
type result struct {
	dataset, config         string
	logical, unique, stored int64
	chunks, uniqueChunks    int64
	elapsed                 time.Duration
}

func (r result) meta() int64 { return r.uniqueChunks*IndexEntryBytes + r.chunks*RefBytes }
func (r result) net() float64 {
	return float64(r.logical) / float64(r.stored+r.meta())
}
func (r result) metaPct() float64 { return 100 * float64(r.meta()) / float64(r.stored) }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "survey:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("survey", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", "/tmp/tessera-data", "folder holding the dataset folders")
	sets := fs.String("datasets", "source-versions,debian-packages,random", "comma-separated dataset folders")
	jobs := fs.Int("j", 2, "parallel runs")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cs := configs()
	var tasks []func() (result, error)
	for _, ds := range strings.Split(*sets, ",") {
		files, err := listFiles(filepath.Join(*data, ds))
		if err != nil {
			return err
		}
		for _, c := range cs {
			tasks = append(tasks, func() (result, error) { return measure(ctx, ds, c, files) })
		}
	}
	results := make([]result, len(tasks))
	// mu serializes progress lines on stderr.
	var mu sync.Mutex
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(max(1, *jobs))
	for i, t := range tasks {
		g.Go(func() error {
			r, err := t()
			if err != nil {
				return err
			}
			results[i] = r
			mu.Lock()
			defer mu.Unlock()
			fmt.Fprintf(stderr, "%s %s: net %.2f (%s)\n", r.dataset, r.config, r.net(), r.elapsed.Round(time.Millisecond))
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "metadata: %d B per unique chunk + %d B per chunk reference; compression: zstd fastest per unique chunk\n\n", IndexEntryBytes, RefBytes)
	fmt.Fprintln(stdout, "| dataset | chunker | logical MB | chunks | unique | avg chunk B | dedup | stored MB | meta % of stored | net ratio |")
	fmt.Fprintln(stdout, "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
	for _, r := range results {
		fmt.Fprintf(stdout, "| %s | %s | %.1f | %d | %d | %d | %.2f | %.1f | %.3f | %.2f |\n",
			r.dataset, r.config, float64(r.logical)/1e6, r.chunks, r.uniqueChunks,
			r.logical/max(1, r.chunks), float64(r.logical)/float64(max(1, r.unique)),
			float64(r.stored)/1e6, r.metaPct(), r.net())
	}
	return nil
}

func listFiles(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var files []string
	for _, e := range ents {
		if e.Type().IsRegular() && !strings.HasSuffix(e.Name(), ".tmp") {
			files = append(files, filepath.Join(dir, e.Name()))
		}
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no files in %s", dir)
	}
	sort.Strings(files)
	return files, nil
}

// measure chunks every file of one dataset with one configuration.
func measure(ctx context.Context, dataset string, c config, files []string) (result, error) {
	start := time.Now()
	r := result{dataset: dataset, config: c.name}
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1))
	if err != nil {
		return r, err
	}
	defer enc.Close()
	seen := make(map[chunk.Addr]struct{})
	s := chunk.NewSplitter(nil, c.opt)
	buf := make([]byte, c.opt.Max)
	var zbuf []byte
	for _, name := range files {
		if err := ctx.Err(); err != nil {
			return r, err
		}
		f, err := os.Open(name)
		if err != nil {
			return r, err
		}
		s.Reset(f)
		for {
			ch, err := s.Next(buf)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				f.Close()
				return r, fmt.Errorf("%s: %w", name, err)
			}
			r.logical += int64(len(ch.Data))
			r.chunks++
			if _, ok := seen[ch.Addr]; ok {
				continue
			}
			seen[ch.Addr] = struct{}{}
			r.uniqueChunks++
			r.unique += int64(len(ch.Data))
			zbuf = enc.EncodeAll(ch.Data, zbuf[:0])
			r.stored += int64(min(len(zbuf), len(ch.Data)))
		}
		f.Close()
	}
	r.elapsed = time.Since(start)
	return r, nil
}
