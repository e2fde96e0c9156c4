package e2e

import (
	"bufio"
	"fmt"
	"os"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"golang.org/x/sync/errgroup"
)

// vmRSS reads this process's resident set size from /proc/self/status.
func vmRSS() (int64, error) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("VmRSS %q: %w", rest, err)
			}
			return kb << 10, nil
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/self/status: %v", sc.Err())
}

// TestMemoryConcurrentUploads runs 16 concurrent uploads through minio-go
// and samples the process RSS (client and server share the process, so the
// figure is an upper bound for the server). With TESSERA_MEMTEST=1 each
// upload is 1 GiB (16 GiB in all, needs ~25 GiB of free disk and minutes);
// by default each is 16 MiB (4 MiB under -race), a smoke run of the same
// code. The target is a peak below 512 MiB, asserted in the full run; the
// default run asserts < 768 MiB without -race (the race detector's shadow
// memory inflates RSS, so -race runs only log the figure).
func TestMemoryConcurrentUploads(t *testing.T) {
	const uploads = 16
	size := int64(16 << 20)
	full := os.Getenv("TESSERA_MEMTEST") == "1"
	switch {
	case full:
		size = 1 << 30
		// TESSERA_MEMTEST_MIB overrides the per-upload size of the full run.
		if v := os.Getenv("TESSERA_MEMTEST_MIB"); v != "" {
			mib, err := strconv.ParseInt(v, 10, 64)
			if err != nil || mib <= 0 {
				t.Fatalf("TESSERA_MEMTEST_MIB=%q: want a positive number", v)
			}
			size = mib << 20
		}
	case raceEnabled:
		size = 4 << 20
	}
	s := newServer(t, serverOpts{})
	ctx := ctxFor(t, 60*time.Minute)
	mc := s.rootMinio(t)
	if err := mc.MakeBucket(ctx, "mem", minio.MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}
	debug.FreeOSMemory()
	base, err := vmRSS()
	if err != nil {
		t.Fatal(err)
	}
	// TESSERA_MEMTEST_PROFILE=file writes the heap profile taken at the
	// RSS peak (inspect with go tool pprof -sample_index=inuse_space).
	prof := os.Getenv("TESSERA_MEMTEST_PROFILE")
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var peak int64
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			if r, err := vmRSS(); err == nil && r > peak {
				peak = r
				if prof != "" {
					writeHeapProfile(t, prof)
				}
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	start := time.Now()
	var g errgroup.Group
	for i := range uploads {
		g.Go(func() error {
			// Distinct content per upload: nothing dedups, every pack is
			// written. DisableMultipart: one streaming PUT, so the client
			// side buffers no parts.
			_, err := mc.PutObject(ctx, "mem", fmt.Sprintf("u%02d", i), newSeeded(uint64(1000+i), size, -1), size,
				minio.PutObjectOptions{DisableMultipart: true})
			return err
		})
	}
	err = g.Wait()
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	el := time.Since(start)
	t.Logf("%d x %d MiB uploads in %v (%.1f MiB/s): RSS %d MiB before, peak %d MiB",
		uploads, size>>20, el.Round(time.Millisecond), float64(uploads*size>>20)/el.Seconds(), base>>20, peak>>20)
	// The default run's bound catches regressions; the target itself is
	// asserted by the full run (the 16 MiB run measured 505-544 MiB on a
	// loaded 2-core machine: docs/arch/e2e.md).
	limit := int64(768 << 20)
	if full {
		limit = 512 << 20
	}
	if (full || !raceEnabled) && peak >= limit {
		t.Errorf("peak RSS %d MiB, want < %d MiB", peak>>20, limit>>20)
	}
	st := s.stats(t)
	if st.Objects != uploads || st.LogicalBytes != uploads*size {
		t.Errorf("stats: %d objects, %d logical bytes; want %d, %d", st.Objects, st.LogicalBytes, uploads, uploads*size)
	}
}

func writeHeapProfile(t *testing.T, path string) {
	f, err := os.Create(path)
	if err != nil {
		t.Errorf("heap profile: %v", err)
		return
	}
	defer f.Close()
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		t.Errorf("heap profile: %v", err)
	}
}
