package chunkcmd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/tessera-store/tessera/chunk"
)

func randomBytes(n int, seed byte) []byte {
	var key [32]byte
	key[0] = seed
	p := make([]byte, n)
	_, _ = rand.NewChaCha8(key).Read(p)
	return p
}

func TestRun(t *testing.T) {
	dir := t.TempDir()
	block := randomBytes(300<<10, 1)
	a := filepath.Join(dir, "a")
	b := filepath.Join(dir, "b")
	// b holds a's bytes twice: every chunk of b after the first copy's
	// resynchronization is a duplicate.
	if err := os.WriteFile(a, block, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(b, append(bytes.Clone(block), block...), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if err := Run(context.Background(), []string{"--avg", "16K", a, b}, &stdout, &stderr); err != nil {
		t.Fatalf("Run: %v (stderr %q)", err, stderr.String())
	}
	lines := strings.Split(strings.TrimSuffix(stdout.String(), "\n"), "\n")

	// The chunk lines match the chunk package, file by file.
	var want []string
	seen := map[chunk.Addr]bool{}
	var logical, unique int64
	for _, name := range []string{a, b} {
		f, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		s := chunk.NewSplitter(f, chunk.Options{Avg: 16 << 10})
		for {
			c, err := s.Next(nil)
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			want = append(want, fmt.Sprintf("%d %d %s", c.Offset, len(c.Data), c.Addr))
			logical += int64(len(c.Data))
			if !seen[c.Addr] {
				seen[c.Addr] = true
				unique += int64(len(c.Data))
			}
		}
		f.Close()
	}
	if len(lines) != len(want)+1 {
		t.Fatalf("%d lines, want %d chunk lines and a summary", len(lines), len(want))
	}
	for i := range want {
		if lines[i] != want[i] {
			t.Fatalf("line %d: %q, want %q", i+1, lines[i], want[i])
		}
	}
	sum := parseSummary(t, lines[len(lines)-1])
	if sum["chunks"] != strconv.Itoa(len(want)) || sum["unique"] != strconv.Itoa(len(seen)) ||
		sum["logical"] != strconv.FormatInt(logical, 10) || sum["unique_bytes"] != strconv.FormatInt(unique, 10) {
		t.Fatalf("summary %q: want chunks=%d unique=%d logical=%d unique_bytes=%d", lines[len(lines)-1], len(want), len(seen), logical, unique)
	}
	if logical != 3*int64(len(block)) || unique >= 2*int64(len(block)) {
		t.Fatalf("logical %d, unique %d: the repeated file did not deduplicate", logical, unique)
	}
	comp, _ := strconv.ParseInt(sum["compressed"], 10, 64)
	if comp <= 0 || comp > unique { // random bytes: zstd does not pay, raw is kept
		t.Fatalf("compressed %d, unique bytes %d", comp, unique)
	}
	if want := fmt.Sprintf("%.2f", float64(logical)/float64(comp)); sum["dedup_ratio"] != want {
		t.Fatalf("dedup_ratio %s, want %s", sum["dedup_ratio"], want)
	}
}

func parseSummary(t *testing.T, line string) map[string]string {
	t.Helper()
	m := map[string]string{}
	for _, f := range strings.Fields(line) {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			t.Fatalf("summary field %q in %q", f, line)
		}
		m[k] = v
	}
	for _, k := range []string{"chunks", "unique", "logical", "unique_bytes", "compressed", "dedup_ratio"} {
		if _, ok := m[k]; !ok {
			t.Fatalf("summary %q lacks %s", line, k)
		}
	}
	return m
}

func TestRunCompressible(t *testing.T) {
	name := filepath.Join(t.TempDir(), "text")
	if err := os.WriteFile(name, bytes.Repeat([]byte("tessera stores objects. "), 50000), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout bytes.Buffer
	if err := Run(context.Background(), []string{"-min", "1KiB", "-avg", "4k", "-max", "16K", name}, &stdout, io.Discard); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	sum := parseSummary(t, lines[len(lines)-1])
	if r, _ := strconv.ParseFloat(sum["dedup_ratio"], 64); r < 50 {
		t.Fatalf("dedup_ratio %v on repetitive text, want >= 50", sum["dedup_ratio"])
	}
}

func TestRunEmpty(t *testing.T) {
	name := filepath.Join(t.TempDir(), "empty")
	if err := os.WriteFile(name, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout bytes.Buffer
	if err := Run(context.Background(), []string{name}, &stdout, io.Discard); err != nil {
		t.Fatal(err)
	}
	if got := stdout.String(); got != "chunks=0 unique=0 logical=0 unique_bytes=0 compressed=0 dedup_ratio=0.00\n" {
		t.Fatalf("got %q", got)
	}
}

func TestRunErrors(t *testing.T) {
	dir := t.TempDir()
	ok := filepath.Join(dir, "f")
	if err := os.WriteFile(ok, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name string
		ctx  context.Context
		args []string
		want error
	}{
		{"no files", context.Background(), nil, ErrUsage},
		{"bad flag", context.Background(), []string{"--bogus", ok}, ErrUsage},
		{"bad size", context.Background(), []string{"--avg", "12Q", ok}, ErrUsage},
		{"not a power of two", context.Background(), []string{"--avg", "3000", ok}, chunk.ErrBadOptions},
		{"min above avg", context.Background(), []string{"--min", "1M", "--avg", "64K", ok}, chunk.ErrBadOptions},
		{"missing file", context.Background(), []string{filepath.Join(dir, "nope")}, fs.ErrNotExist},
		{"cancelled", cancelled, []string{ok}, context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Run(tt.ctx, tt.args, io.Discard, io.Discard)
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}
}

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want int
		ok   bool
	}{
		{"65536", 65536, true},
		{"16K", 16 << 10, true},
		{"16k", 16 << 10, true},
		{"64KiB", 64 << 10, true},
		{"1M", 1 << 20, true},
		{"4MiB", 4 << 20, true},
		{"2G", 2 << 30, true},
		{"0", 0, true},
		{"", 0, false},
		{"K", 0, false},
		{"-1", 0, false},
		{"+5", 0, false},
		{"1.5M", 0, false},
		{"12Q", 0, false},
		{"99999999999999999999", 0, false},
		{"9999999999999G", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseSize(tt.in)
			if (err == nil) != tt.ok || got != tt.want || (err != nil && !errors.Is(err, ErrBadSize)) {
				t.Fatalf("ParseSize(%q) = %d, %v; want %d, ok=%v", tt.in, got, err, tt.want, tt.ok)
			}
		})
	}
}

func FuzzParseSize(f *testing.F) {
	for _, s := range []string{"64K", "1MiB", "123", "", "9G", "-3k"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseSize(s)
		if err != nil {
			if !errors.Is(err, ErrBadSize) {
				t.Fatalf("error %v does not match ErrBadSize", err)
			}
			return
		}
		if n < 0 {
			t.Fatalf("ParseSize(%q) = %d", s, n)
		}
	})
}
