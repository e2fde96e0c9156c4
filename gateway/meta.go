package gateway

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/tessera-store/tessera/meta"
	"github.com/tessera-store/tessera/meta/raftmeta"
)

// embeddedMetaID is the Raft server ID of the all-in-one server's metadata
// member. It is stored in the Raft configuration: never change it.
const embeddedMetaID = "meta1"

// embeddedLeaderWait bounds the wait for the lone voter to elect itself
// (one election timeout, 0.5 to 1 s, in practice).
const embeddedLeaderWait = 10 * time.Second

// openEmbeddedMeta opens the all-in-one server's metadata service: the same
// Raft code as metad (meta/raftmeta), as a single voter with no network
// transport, in dir. A dir still in the single-process layout of earlier
// versions is migrated first (migrateLocalMeta). The returned func closes
// the service.
func openEmbeddedMeta(ctx context.Context, dir string, log *slog.Logger) (meta.Service, func() error, error) {
	if err := migrateLocalMeta(dir, log); err != nil {
		return nil, nil, err
	}
	n, err := raftmeta.Open(raftmeta.Config{ID: embeddedMetaID, Dir: dir, Bootstrap: true, Embedded: true, Logger: log})
	if err != nil {
		return nil, nil, fmt.Errorf("gateway: embedded meta: %w", err)
	}
	wctx, cancel := context.WithTimeout(ctx, embeddedLeaderWait)
	defer cancel()
	if err := n.WaitLeader(wctx); err != nil {
		n.Close()
		return nil, nil, fmt.Errorf("gateway: embedded meta: %w", err)
	}
	return n.Service(), n.Close, nil
}

// Meta folder layouts. Earlier versions ran meta/local, a server.State at
// the top of dir: its STATE pointer file (written through STATE.tmp) and
// its Pebble generations, state-<n>. raftmeta keeps the same State in
// dir/state, beside dir/raft (the log) and dir/snapshots.
const (
	legacyStateFile = "STATE"
	legacyGenPrefix = "state-"
	raftStateDir    = "state"
	migrateDir      = "state.migrate" // staging for migrateLocalMeta
)

var raftLayoutDirs = []string{raftStateDir, "raft", "snapshots"}

func isLegacyEntry(name string) bool {
	return name == legacyStateFile || name == legacyStateFile+".tmp" || strings.HasPrefix(name, legacyGenPrefix)
}

// migrateLocalMeta moves a State of the old layout into dir/state, where
// raftmeta opens it; the State format is the same. raftmeta then starts
// the Raft group from a snapshot at the State's applied index (see
// raftmeta.Config.Bootstrap). The move is renames only, through a staging
// folder renamed into place last, so a crash at any point leaves either
// the old layout or the staging folder, and the next start finishes the
// job. A dir holding both layouts (an older objd run over a migrated dir)
// is an error for the operator to resolve.
func migrateLocalMeta(dir string, log *slog.Logger) error {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("gateway: meta folder: %w", err)
	}
	var legacy, raftDirs []string
	staged := false
	for _, e := range ents {
		switch name := e.Name(); {
		case name == migrateDir:
			staged = true
		case isLegacyEntry(name):
			legacy = append(legacy, name)
		case slices.Contains(raftLayoutDirs, name):
			raftDirs = append(raftDirs, name)
		}
	}
	if len(legacy) == 0 && !staged {
		return nil
	}
	old := slices.Clone(legacy) // for messages
	if staged {
		old = append(old, migrateDir)
	}
	if len(raftDirs) > 0 {
		return fmt.Errorf("gateway: meta folder %s holds both the old single-process layout (%s) and the Raft layout (%s); "+
			"probably an older objd ran over it after the upgrade. Keep one: move %s or %s out of the folder",
			dir, strings.Join(old, ", "), strings.Join(raftDirs, ", "),
			strings.Join(old, ", "), strings.Join(raftDirs, ", "))
	}
	stage := filepath.Join(dir, migrateDir)
	if !slices.Contains(legacy, legacyStateFile) && !exists(filepath.Join(stage, legacyStateFile)) {
		// Without STATE, server.Open would start an empty state beside the
		// generations: stop rather than hide the metadata.
		return fmt.Errorf("gateway: meta folder %s holds %s but no %s file naming the current one; restore it, or move them away to start empty",
			dir, strings.Join(old, ", "), legacyStateFile)
	}
	if err := os.MkdirAll(stage, 0o755); err != nil {
		return fmt.Errorf("gateway: migrate meta: %w", err)
	}
	for _, name := range legacy {
		if err := os.Rename(filepath.Join(dir, name), filepath.Join(stage, name)); err != nil {
			return fmt.Errorf("gateway: migrate meta: %w", err)
		}
	}
	for _, d := range []string{stage, dir} {
		if err := syncDir(d); err != nil {
			return err
		}
	}
	if err := os.Rename(stage, filepath.Join(dir, raftStateDir)); err != nil {
		return fmt.Errorf("gateway: migrate meta: %w", err)
	}
	if err := syncDir(dir); err != nil {
		return err
	}
	log.Info("meta: moved the single-process metadata state into the Raft layout", "dir", dir)
	return nil
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// syncDir makes the renames in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("gateway: migrate meta: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("gateway: migrate meta: sync %s: %w", dir, err)
	}
	return nil
}
