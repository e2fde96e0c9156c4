package raftmeta

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"sync"

	"github.com/hashicorp/raft"

	"github.com/tessera-store/tessera/meta/server"
)

// dirExt marks a log entry as a member directory update, not a State
// command.
var dirExt = []byte("tessera.dir.v1")

// dirEntry is a directory update: APIAddr "" removes the member.
type dirEntry struct {
	ID      string `json:"id"`
	APIAddr string `json:"api"`
}

// snapMagic opens every FSM snapshot: the format version is its last byte.
// Layout: magic, uvarint State index, uvarint len + directory JSON, then the
// State's own snapshot stream.
var snapMagic = []byte("TSRAFT\x00\x01")

// ErrBadSnapshot reports an FSM snapshot that does not decode.
var ErrBadSnapshot = errors.New("raftmeta: malformed snapshot")

// fsm adapts server.State to raft.FSM.
type fsm struct {
	st *server.State

	// mu guards dir.
	mu  sync.Mutex
	dir map[string]string // server ID -> API address
}

var _ raft.FSM = (*fsm)(nil)

func newFSM(st *server.State) *fsm { return &fsm{st: st, dir: map[string]string{}} }

// Apply applies one committed entry. Entries at or below the State's
// applied index (replays after restart) are skipped by State.Apply.
func (f *fsm) Apply(l *raft.Log) any {
	if bytes.Equal(l.Extensions, dirExt) {
		var e dirEntry
		if err := json.Unmarshal(l.Data, &e); err != nil {
			return server.Result{Err: fmt.Errorf("raftmeta: directory entry %d: %w", l.Index, err)}
		}
		f.mu.Lock()
		if e.APIAddr == "" {
			delete(f.dir, e.ID)
		} else {
			f.dir[e.ID] = e.APIAddr
		}
		f.mu.Unlock()
		return server.Result{}
	}
	return f.st.Apply(l.Index, l.Data)
}

func (f *fsm) apiAddr(id string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.dir[id]
}

func (f *fsm) directory() map[string]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return maps.Clone(f.dir)
}

// Snapshot captures the State and the directory; Persist streams them.
func (f *fsm) Snapshot() (raft.FSMSnapshot, error) {
	sn, err := f.st.Snapshot()
	if err != nil {
		return nil, fmt.Errorf("raftmeta: snapshot: %w", err)
	}
	return &fsmSnapshot{sn: sn, dir: f.directory()}, nil
}

// Restore replaces the State with the snapshot's, unless the local State
// already holds everything the snapshot does (a restart: Raft restores its
// last snapshot, which is never newer than what State persisted, except
// after a lost unsynced State write, where the snapshot is restored).
func (f *fsm) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	br := bufio.NewReaderSize(rc, 1<<16)
	magic := make([]byte, len(snapMagic))
	if _, err := io.ReadFull(br, magic); err != nil || !bytes.Equal(magic, snapMagic) {
		return fmt.Errorf("%w: bad header", ErrBadSnapshot)
	}
	index, err := binary.ReadUvarint(br)
	if err != nil {
		return fmt.Errorf("%w: index: %v", ErrBadSnapshot, err)
	}
	n, err := binary.ReadUvarint(br)
	if err != nil || n > 1<<24 {
		return fmt.Errorf("%w: directory length", ErrBadSnapshot)
	}
	js := make([]byte, n)
	if _, err := io.ReadFull(br, js); err != nil {
		return fmt.Errorf("%w: directory: %v", ErrBadSnapshot, err)
	}
	dir := map[string]string{}
	if err := json.Unmarshal(js, &dir); err != nil {
		return fmt.Errorf("%w: directory: %v", ErrBadSnapshot, err)
	}
	if index > f.st.AppliedIndex() {
		if err := f.st.Restore(br); err != nil {
			return fmt.Errorf("raftmeta: restore: %w", err)
		}
	}
	f.mu.Lock()
	f.dir = dir
	f.mu.Unlock()
	return nil
}

type fsmSnapshot struct {
	sn  server.Snapshot
	dir map[string]string
}

func (s *fsmSnapshot) Persist(sink raft.SnapshotSink) error {
	if err := s.write(sink); err != nil {
		sink.Cancel()
		return err
	}
	return sink.Close()
}

func (s *fsmSnapshot) write(w io.Writer) error {
	js, err := json.Marshal(s.dir)
	if err != nil {
		return fmt.Errorf("raftmeta: snapshot directory: %w", err)
	}
	hdr := append([]byte(nil), snapMagic...)
	hdr = binary.AppendUvarint(hdr, s.sn.Index())
	hdr = binary.AppendUvarint(hdr, uint64(len(js)))
	hdr = append(hdr, js...)
	if _, err := w.Write(hdr); err != nil {
		return fmt.Errorf("raftmeta: snapshot: %w", err)
	}
	if _, err := s.sn.WriteTo(w); err != nil {
		return fmt.Errorf("raftmeta: snapshot: %w", err)
	}
	return nil
}

func (s *fsmSnapshot) Release() { s.sn.Release() }
