package gateway

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tessera-store/tessera/meta"
	"github.com/tessera-store/tessera/meta/local"
	"github.com/tessera-store/tessera/meta/server"
)

func openMeta(t *testing.T, dir string) (meta.Service, func() error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ms, closeMeta, err := openEmbeddedMeta(ctx, dir, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return ms, closeMeta
}

func createBuckets(ctx context.Context, t *testing.T, ms meta.Service, names ...string) {
	t.Helper()
	for _, name := range names {
		if err := ms.CreateBucket(ctx, "req-"+name, 1, meta.Bucket{Name: name, Owner: "u"}); err != nil {
			t.Fatalf("CreateBucket(%s): %v", name, err)
		}
	}
}

func wantBuckets(ctx context.Context, t *testing.T, ms meta.Service, names ...string) {
	t.Helper()
	bs, err := ms.ListBuckets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, b := range bs {
		got = append(got, b.Name)
	}
	if strings.Join(got, ",") != strings.Join(names, ",") {
		t.Fatalf("buckets %v, want %v", got, names)
	}
}

func TestEmbeddedMetaReopen(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	dir := filepath.Join(t.TempDir(), "meta")
	ms, closeMeta := openMeta(t, dir)
	createBuckets(ctx, t, ms, "aaa")
	if err := closeMeta(); err != nil {
		t.Fatal(err)
	}
	ms, closeMeta = openMeta(t, dir)
	defer closeMeta()
	wantBuckets(ctx, t, ms, "aaa")
	createBuckets(ctx, t, ms, "bbb")
	wantBuckets(ctx, t, ms, "aaa", "bbb")
}

// writeLegacy writes dir in the layout of meta/local, which objd server used
// before the embedded Raft member, with buckets b00..b(n-1).
func writeLegacy(ctx context.Context, t *testing.T, dir string, n int) []string {
	t.Helper()
	ls, err := local.Open(dir, server.Options{Logger: slog.New(slog.DiscardHandler), Sync: true})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for i := range n {
		names = append(names, fmt.Sprintf("b%02d", i))
	}
	createBuckets(ctx, t, ls, names...)
	if err := ls.Close(); err != nil {
		t.Fatal(err)
	}
	return names
}

func TestEmbeddedMetaLegacyLayout(t *testing.T) {
	tests := []struct {
		name string
		// setup turns the legacy dir into the case's starting point.
		setup   func(t *testing.T, dir string)
		wantErr string // "" means the migration must succeed
	}{
		{"legacy", func(*testing.T, string) {}, ""},
		{"interrupted migration", func(t *testing.T, dir string) {
			// A crash after STATE moved to the staging folder, before state-1.
			if err := os.Mkdir(filepath.Join(dir, migrateDir), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(filepath.Join(dir, "STATE"), filepath.Join(dir, migrateDir, "STATE")); err != nil {
				t.Fatal(err)
			}
		}, ""},
		{"no STATE", func(t *testing.T, dir string) {
			if err := os.Remove(filepath.Join(dir, "STATE")); err != nil {
				t.Fatal(err)
			}
		}, "no STATE file"},
		{"both layouts", func(t *testing.T, dir string) {
			if err := os.Mkdir(filepath.Join(dir, "raft"), 0o755); err != nil {
				t.Fatal(err)
			}
		}, "both the old single-process layout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			dir := filepath.Join(t.TempDir(), "meta")
			old := writeLegacy(ctx, t, dir, 5)
			tt.setup(t, dir)
			if tt.wantErr != "" {
				_, _, err := openEmbeddedMeta(ctx, dir, slog.New(slog.DiscardHandler))
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("openEmbeddedMeta = %v, want an error with %q", err, tt.wantErr)
				}
				if _, err := os.Stat(filepath.Join(dir, "state-1")); err != nil {
					t.Fatalf("the old state was touched: %v", err)
				}
				return
			}

			ms, closeMeta := openMeta(t, dir)
			wantBuckets(ctx, t, ms, old...)
			// Writes after the migration apply: Raft's log continues above
			// the old State's applied index instead of replaying below it.
			createBuckets(ctx, t, ms, "new")
			wantBuckets(ctx, t, ms, append(old, "new")...)
			if err := closeMeta(); err != nil {
				t.Fatal(err)
			}
			for _, name := range []string{"STATE", "state-1", migrateDir} {
				if _, err := os.Stat(filepath.Join(dir, name)); !os.IsNotExist(err) {
					t.Errorf("%s still at the top of the meta folder (%v)", name, err)
				}
			}

			ms, closeMeta = openMeta(t, dir)
			defer closeMeta()
			wantBuckets(ctx, t, ms, append(old, "new")...)
		})
	}
}

// An older objd started over a migrated folder writes a fresh, empty
// State at the top: opening must refuse rather than pick either.
func TestEmbeddedMetaDowngradedOver(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	dir := filepath.Join(t.TempDir(), "meta")
	ms, closeMeta := openMeta(t, dir)
	createBuckets(ctx, t, ms, "aaa")
	if err := closeMeta(); err != nil {
		t.Fatal(err)
	}
	writeLegacy(ctx, t, dir, 1)
	_, _, err := openEmbeddedMeta(ctx, dir, slog.New(slog.DiscardHandler))
	if err == nil || !strings.Contains(err.Error(), "both the old single-process layout") {
		t.Fatalf("openEmbeddedMeta = %v, want the both-layouts error", err)
	}
}
